package secrets_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// imageFile is one file of a test image: its content and mode.
type imageFile struct {
	dt   []byte
	mode os.FileMode
}

// scanImage writes files into a fresh root with their modes and scans it
// as an image.
func scanImage(t *testing.T, opts secrets.Options, files map[string]imageFile) secrets.TreeResult {
	t.Helper()
	root := t.TempDir()
	for p, f := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, f.dt, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	src := rootfs.DirSource(root)
	tree, err := rootfs.Load(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := newScanner(t, opts).ScanTree(t.Context(), tree, src)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestEveryDetectorInEveryPayload: the detectors of keys by structure,
// of glued ids and of URL credentials see what the decoder opens — a
// compressed stream, an archive member, a decoded segment — with that
// payload's own bytes, and judge a member as the file it would be on disk
// (an SQLite database in a tarball is data even when the tarball is
// appended to an executable script; an ELF in it is compiled code).
func TestEveryDetectorInEveryPayload(t *testing.T) {
	k := genKeys(t)
	p := secretstest.Generate(t)
	pw := mixed(t, base62, 18)
	glued := sqliteLike("prod", p.AWSAccessKeyID+p.AWSSecretAccessKey, "x")
	config := "[database]\nurl = postgresql://app:" + pw + "@db.internal:5432/app\npool = 10\n"
	const at = "/srv/app/payload"
	for _, tc := range []struct {
		name   string
		file   imageFile
		rule   string
		secret string // the fingerprinted value; "" for no finding
		fp     string // the fingerprint, when secret is not what is fingerprinted
	}{
		{"DER PKCS#8 key in a gzip", imageFile{gz(t, k.rsaPKCS8), 0o644}, secrets.RulePrivateKey, "", derFingerprint(k.rsaPKCS8)},
		{"DER SEC 1 key in a zip", imageFile{zipOf(t, false, "conf/", "", "conf/tls.bin", string(k.ecSEC1)), 0o644},
			secrets.RulePrivateKey, "", derFingerprint(k.ecSEC1)},
		{"DER key in a zip in a zip", imageFile{zipOf(t, true, "BOOT-INF/lib/inner.jar", string(zipOf(t, false, "k.der", string(k.ed25519PKCS8)))), 0o644},
			secrets.RulePrivateKey, "", derFingerprint(k.ed25519PKCS8)},
		{"AWS id glued in an SQLite row in a tar.gz", imageFile{gz(t, tarOf(t, "var/lib/app.db", string(glued))), 0o644},
			"aws-access-token", p.AWSAccessKeyID, ""},
		{"AWS id glued in an SQLite row in a self-extractor", imageFile{
			append([]byte("#!/bin/sh\ntail -c +5 \"$0\" | tar xz\nexit 0\n"), gz(t, tarOf(t, "app.db", string(glued)))...), 0o755},
			"aws-access-token", p.AWSAccessKeyID, ""},
		{"URL credential in a base64-encoded config", imageFile{[]byte("CONFIG=" + base64.StdEncoding.EncodeToString([]byte(config)) + "\n"), 0o644},
			secrets.RuleURLCredential, pw, ""},
		{"URL credential in a gzip-compressed config", imageFile{gz(t, []byte(config)), 0o644}, secrets.RuleURLCredential, pw, ""},
		{"certificate DER in a gzip", imageFile{gz(t, k.certDER), 0o644}, "", "", ""},
		{"public key in a zip", imageFile{zipOf(t, false, "pub.der", string(k.rsaPublicPKIX)), 0o644}, "", "", ""},
		{"AWS-like constant packed in an ELF in a tar.gz", imageFile{gz(t, tarOf(t, "bin/app", string(elfLike("prod"+p.AWSAccessKeyID+"glued")))), 0o644},
			"", "", ""},
		{"URL placeholder in a base64-encoded config", imageFile{[]byte(base64.StdEncoding.EncodeToString([]byte("url = postgresql://app:${DB_PASSWORD}@db/app\n")) + "\n"), 0o644},
			"", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := scanImage(t, secrets.Options{}, map[string]imageFile{at: tc.file})
			if len(res.Unscanned) != 0 {
				t.Errorf("unscanned %v: the budget covers this file", res.Unscanned)
			}
			fp := tc.fp
			if tc.secret != "" {
				fp = secrets.Fingerprint(tc.secret)
			}
			if fp == "" {
				if len(res.Findings) != 0 {
					t.Errorf("findings %+v: want none", res.Findings)
				}
				return
			}
			var other []secrets.Finding
			found := false
			for _, f := range res.Findings {
				if f.Rule == tc.rule && f.Where == secrets.WhereFile+at && f.Fingerprint == fp {
					found = true
				} else if f.Rule != tc.rule || f.Fingerprint != fp {
					other = append(other, f)
				}
			}
			if !found || len(other) != 0 {
				t.Errorf("findings %+v: want only %s with fingerprint %s at %s%s", res.Findings, tc.rule, fp, secrets.WhereFile, at)
			}
		})
	}
}

// TestStructureOnceInItsFile: a key found as it stands (PEM) is not
// reported again by the decoder that reads its body as base64 and its
// DER by structure: one key, one finding.
func TestStructureOnceInItsFile(t *testing.T) {
	k := genKeys(t)
	pem := "-----BEGIN PRIVATE KEY-----\n" + wrap64(k.rsaPKCS8) + "-----END PRIVATE KEY-----\n"
	res := scanImage(t, secrets.Options{}, map[string]imageFile{"/etc/app/tls.key": {[]byte("# tls\n" + pem), 0o600}})
	if len(res.Findings) != 1 || res.Findings[0].Rule != secrets.RulePrivateKey || res.Findings[0].Line != 2 {
		t.Errorf("findings %+v: want one %s at line 2", res.Findings, secrets.RulePrivateKey)
	}
	if n := bytes.Count([]byte(pem), []byte("BEGIN")); n != 1 {
		t.Fatalf("test key has %d armour lines", n)
	}
}
