package secrets_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

func gzipped(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zipped(t *testing.T, name, s string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func reversed(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// TestEncodedSecrets: a token encoded (base64, hex, percent-encoding,
// base64 of gzip), compressed (gzip, zip), reversed, or glued between
// other bytes in a binary is found, in files and in config values, with
// the fingerprint of the token itself.
func TestEncodedSecrets(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	for _, tc := range []struct {
		name  string
		where string
		blob  func(tok string) []byte
	}{
		{"base64 in a text file", "file:/etc/app.conf", func(tok string) []byte {
			return []byte("data: " + base64.StdEncoding.EncodeToString([]byte(tok)) + "\n")
		}},
		{"hex in a text file", "file:/etc/app.conf", func(tok string) []byte { return []byte("x=" + hex.EncodeToString([]byte(tok)) + "\n") }},
		{"percent-encoded", "file:/etc/app.conf", func(tok string) []byte { return []byte("u=" + percentAll(tok) + "\n") }},
		{"percent-encoded in a URL", "env:DOWNLOAD", func(tok string) []byte {
			return []byte("https://example.com/get?t=" + url.QueryEscape(tok[:4]) + percentAll(tok[4:10]) + tok[10:])
		}},
		{"gzip file", "file:/var/cache/x.gz", func(tok string) []byte { return gzipped(t, "token: "+tok+"\n") }},
		{"zip file", "file:/srv/x.zip", func(tok string) []byte { return zipped(t, "a/b.txt", "t="+tok+"\n") }},
		{"base64 of gzip", "file:/etc/app.conf", func(tok string) []byte {
			return []byte("blob=" + base64.StdEncoding.EncodeToString(gzipped(t, tok)) + "\n")
		}},
		{"reversed", "file:/etc/app.conf", func(tok string) []byte { return []byte("v=" + reversed(tok) + "\n") }},
		{"reversed in a binary", "file:/bin/app", func(tok string) []byte { return elfLike("x " + reversed(tok) + " y") }},
		{"base64 in a binary", "file:/bin/app", func(tok string) []byte { return elfLike(base64.StdEncoding.EncodeToString([]byte(tok))) }},
		{"base64 in an ONBUILD trigger", "onbuild:0", func(tok string) []byte {
			return []byte("RUN echo " + base64.StdEncoding.EncodeToString([]byte(tok)) + " | base64 -d > /x")
		}},
		{"base64 in a build arg", "build-arg:BLOB", func(tok string) []byte { return []byte(base64.StdEncoding.EncodeToString([]byte(tok))) }},
		{"base64 in a label", "label:x", func(tok string) []byte { return []byte(base64.RawURLEncoding.EncodeToString([]byte(tok))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := secretstest.Generate(t).GitHubToken
			got := s.ScanBytes(tc.where, tc.blob(tok))
			found := false
			for _, f := range got {
				found = found || (f.Fingerprint == secrets.Fingerprint(tok) && f.Where == tc.where)
			}
			if !found {
				t.Errorf("findings %+v: want the token's fingerprint at %s", got, tc.where)
			}
		})
	}
}

// percentAll percent-encodes every byte of s.
func percentAll(s string) string {
	var b bytes.Buffer
	for _, c := range []byte(s) {
		b.WriteString("%" + hex.EncodeToString([]byte{c}))
	}
	return b.String()
}

// TestSplitLabels: a token split across two labels is found at both,
// and labels that hold nothing together report nothing.
func TestSplitLabels(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	tok := secretstest.Generate(t).GitHubToken
	got := s.ScanLabels(map[string]string{"a.part": tok[:12], "b.part": tok[12:], "c": "plain value", "version": "1.2.3"})
	if len(got) != 1 || got[0].Where != "label:a.part+b.part" || got[0].Fingerprint != secrets.Fingerprint(tok) {
		t.Errorf("findings %+v: want the joined token at label:a.part+b.part", got)
	}
	if got := s.ScanOnBuild([]string{"RUN echo " + base64.StdEncoding.EncodeToString([]byte(tok))}); len(got) != 1 || got[0].Where != "onbuild:0" {
		t.Errorf("ONBUILD findings %+v: want the decoded token at onbuild:0", got)
	}
}
