package secrets_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hardenkit/hardenkit/frontend/secrets"
)

// derFingerprint is the fingerprint of a DER key: that of its base64,
// the same as its PEM body's.
func derFingerprint(der []byte) string {
	return secrets.Fingerprint(base64.StdEncoding.EncodeToString(der))
}

// testKeys are freshly generated keys in their DER forms.
type testKeys struct {
	rsaPKCS1, rsaPKCS8, ecSEC1, ecPKCS8, ed25519PKCS8, encryptedPKCS8 []byte
	certDER, rsaPublicPKIX, rsaPublicPKCS1                            []byte
}

func genKeys(t *testing.T) testKeys {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var k testKeys
	k.rsaPKCS1 = x509.MarshalPKCS1PrivateKey(rk)
	must := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	k.rsaPKCS8 = must(x509.MarshalPKCS8PrivateKey(rk))
	k.ecSEC1 = must(x509.MarshalECPrivateKey(ek))
	k.ecPKCS8 = must(x509.MarshalPKCS8PrivateKey(ek))
	k.ed25519PKCS8 = must(x509.MarshalPKCS8PrivateKey(edk))
	k.encryptedPKCS8 = encryptedKeyInfo(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	k.certDER = must(x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rk.PublicKey, rk))
	k.rsaPublicPKIX = must(x509.MarshalPKIXPublicKey(&rk.PublicKey))
	k.rsaPublicPKCS1 = x509.MarshalPKCS1PublicKey(&rk.PublicKey)
	return k
}

// encryptedKeyInfo is a PKCS#8 EncryptedPrivateKeyInfo with PBES2
// parameters and random ciphertext, laid out as openssl writes one.
func encryptedKeyInfo(t *testing.T) []byte {
	t.Helper()
	ct := make([]byte, 1232)
	salt := make([]byte, 16)
	iv := make([]byte, 16)
	for _, b := range [][]byte{ct, salt, iv} {
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	type algo struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue `asn1:"optional"`
	}
	raw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	kdf := algo{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, Params: raw(struct {
		Salt []byte
		Iter int
	}{salt, 2048})}
	cipher := algo{OID: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, Params: raw(iv)}
	pbes2 := algo{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, Params: raw(struct{ KDF, Cipher algo }{kdf, cipher})}
	b, err := asn1.Marshal(struct {
		Algo algo
		Data []byte
	}{pbes2, ct})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inBinary puts dt between other bytes of an ELF-like file.
func inBinary(dt []byte) []byte {
	return append(append(elfLike("prefix data"), dt...), elfLike("suffix")...)
}

// wrap64 is base64 wrapped at 64 columns, as a PEM body is.
func wrap64(der []byte) string {
	s := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	return b.String() + s + "\n"
}

// TestPrivateKeysByStructure: a private key is found in every encoding
// and container, whatever the file is called, with the fingerprint of
// its DER's base64 (the PEM body's); certificates and public keys in the
// same forms are not findings.
func TestPrivateKeysByStructure(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	k := genKeys(t)
	for _, tc := range []struct {
		name, path string
		content    []byte
		fp         string // "" for no finding
		line       int
	}{
		{"DER PKCS#8 RSA", "/app/server.bin", k.rsaPKCS8, derFingerprint(k.rsaPKCS8), 0},
		{"DER PKCS#1 RSA", "/app/data", k.rsaPKCS1, derFingerprint(k.rsaPKCS1), 0},
		{"DER SEC 1 EC", "/app/x.dat", k.ecSEC1, derFingerprint(k.ecSEC1), 0},
		{"DER PKCS#8 EC", "/app/x.dat", k.ecPKCS8, derFingerprint(k.ecPKCS8), 0},
		{"DER PKCS#8 Ed25519", "/app/x.dat", k.ed25519PKCS8, derFingerprint(k.ed25519PKCS8), 0},
		{"DER encrypted PKCS#8", "/app/x.dat", k.encryptedPKCS8, derFingerprint(k.encryptedPKCS8), 0},
		{"DER PKCS#8 inside a binary", "/usr/lib/libapp.so", inBinary(k.rsaPKCS8), derFingerprint(k.rsaPKCS8), 0},
		{"DER SEC 1 inside a binary", "/usr/lib/libapp.so", inBinary(k.ecSEC1), derFingerprint(k.ecSEC1), 0},
		{"PEM body without armour", "/app/conf/key.txt", []byte("# key\n" + wrap64(k.rsaPKCS8)), derFingerprint(k.rsaPKCS8), 2},
		{"indented bare body", "/app/conf.yaml", []byte("tls:\n  key: |\n" + indent(wrap64(k.ecPKCS8), "    ")), derFingerprint(k.ecPKCS8), 3},
		{"bare body on one JSON line", "/app/conf.json", []byte(`{"material": "` + base64.StdEncoding.EncodeToString(k.ed25519PKCS8) + `"}`), derFingerprint(k.ed25519PKCS8), 1},
		{"bare encrypted body", "/app/k", []byte(wrap64(k.encryptedPKCS8)), derFingerprint(k.encryptedPKCS8), 1},
		{"a PKCS#8 header constant followed by other bytes", "/usr/lib/python3/x.pyc",
			append([]byte("\xe3\x00\x00\x00s\x10\x00\x00\x000.\x02\x01\x000\x05\x06\x03+en\x04\"\x04 "), bytes.Repeat([]byte("\xe90\x00\x00\x00r\x01\x00"), 8)...), "", 0},
		{"certificate DER", "/etc/ssl/ca.der", k.certDER, "", 0},
		{"certificate bare base64", "/etc/ssl/ca.txt", []byte(wrap64(k.certDER)), "", 0},
		{"public key PKIX DER", "/app/pub.der", k.rsaPublicPKIX, "", 0},
		{"public key PKCS#1 DER", "/app/pub.der", k.rsaPublicPKCS1, "", 0},
		{"public key bare base64", "/app/pub.txt", []byte(wrap64(k.rsaPublicPKIX)), "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var wants []want
			if tc.fp != "" {
				wants = append(wants, want{rule: secrets.RulePrivateKey, line: tc.line})
			}
			got := s.ScanBytes("file:"+tc.path, tc.content)
			checkFingerprints(t, got, "file:"+tc.path, wants, tc.fp)
		})
	}
}

// checkFingerprints is match for findings whose fingerprint is known
// rather than the secret: every want is found with fp, nothing else is.
func checkFingerprints(t *testing.T, got []secrets.Finding, where string, wants []want, fp string) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("findings %+v: want %d %+v with fingerprint %s", got, len(wants), wants, fp)
	}
	for i, w := range wants {
		f := got[i]
		if f.Where != where || f.Rule != w.rule || f.Line != w.line || f.Fingerprint != fp {
			t.Errorf("finding %+v: want %s at %s line %d fingerprint %s", f, w.rule, where, w.line, fp)
		}
	}
}

func indent(s, pre string) string {
	return pre + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pre) + "\n"
}

// pfx is a minimal PKCS#12 PFX as openssl lays one out: version 3, an
// authSafe of data ContentInfos whose SafeContents hold the bags.
func pfx(t *testing.T, bags ...[]byte) []byte {
	t.Helper()
	mar := func(v any, params ...string) []byte {
		b, err := asn1.MarshalWithParams(v, strings.Join(params, ","))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	data := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	contentInfo := func(octets []byte) asn1.RawValue {
		return asn1.RawValue{FullBytes: mar(struct {
			Type    asn1.ObjectIdentifier
			Content []byte `asn1:"explicit,tag:0"`
		}{data, octets})}
	}
	var safe []asn1.RawValue
	for _, b := range bags {
		safe = append(safe, asn1.RawValue{FullBytes: b})
	}
	authSafe := mar([]asn1.RawValue{contentInfo(mar(safe))})
	return mar(struct {
		Version  int
		AuthSafe asn1.RawValue
	}{3, contentInfo(authSafe)})
}

// bag is a SafeBag of type 1.2.840.113549.1.12.10.1.n.
func bag(t *testing.T, n int, value []byte) []byte {
	t.Helper()
	b, err := asn1.Marshal(struct {
		ID    asn1.ObjectIdentifier
		Value asn1.RawValue `asn1:"explicit,tag:0"`
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, n}, asn1.RawValue{FullBytes: value}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jks is a Java keystore (version 2) with the given entries: tag 1 with
// a protected key and no chain, tag 2 with a certificate.
func jks(magic uint32, entries ...struct {
	tag  uint32
	data []byte
}) []byte {
	var b bytes.Buffer
	u32 := func(v uint32) { _ = binary.Write(&b, binary.BigEndian, v) }
	utf := func(s string) { _ = binary.Write(&b, binary.BigEndian, uint16(len(s))); b.WriteString(s) }
	u32(magic)
	u32(2)
	u32(uint32(len(entries)))
	for i, e := range entries {
		u32(e.tag)
		utf("alias" + string(rune('a'+i)))
		_ = binary.Write(&b, binary.BigEndian, uint64(1700000000000))
		switch e.tag {
		case 1:
			u32(uint32(len(e.data)))
			b.Write(e.data)
			u32(0)
		case 2:
			utf("X.509")
			u32(uint32(len(e.data)))
			b.Write(e.data)
		}
	}
	b.Write(make([]byte, 20)) // the store's SHA-1
	return b.Bytes()
}

type entry = struct {
	tag  uint32
	data []byte
}

// pgpPacket is an OpenPGP packet in the new format.
func pgpPacket(tag byte, body []byte) []byte {
	out := []byte{0xc0 | tag}
	switch n := len(body); {
	case n < 192:
		out = append(out, byte(n))
	default:
		out = append(out, 0xff, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, body...)
}

// pgpKeyBody is a version 4 EdDSA key packet body: version, creation
// time, algorithm, and random key material.
func pgpKeyBody(t *testing.T) []byte {
	t.Helper()
	b := []byte{4, 0x65, 0x00, 0x00, 0x00, 22}
	rest := make([]byte, 80)
	if _, err := rand.Read(rest); err != nil {
		t.Fatal(err)
	}
	return append(b, rest...)
}

// TestKeyContainers: PKCS#12 files with a key bag, Java keystores with a
// private key entry, binary OpenPGP secret keys, OpenSSH's binary format
// and PuTTY key files are findings whatever they are called; trust
// stores and public keyrings are not.
func TestKeyContainers(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	k := genKeys(t)
	secretBody, publicBody := pgpKeyBody(t), pgpKeyBody(t)
	uid := pgpPacket(13, []byte("Test <test@example.org>"))
	_, edk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	openssh, err := ssh.MarshalPrivateKey(edk, "")
	if err != nil {
		t.Fatal(err)
	}
	ppkPriv := base64.StdEncoding.EncodeToString(k.rsaPKCS1[:300])
	ppk := "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nComment: k\nPublic-Lines: 1\nAAAAB3NzaC1yc2EAAAADAQABAAAAgQ\nPrivate-Lines: 2\n" +
		ppkPriv[:200] + "\n" + ppkPriv[200:] + "\nPrivate-MAC: 00\n"
	for _, tc := range []struct {
		name, path string
		content    []byte
		fp         string
	}{
		{"PKCS#12 shrouded key bag, renamed .jks", "/app/keystore.jks", pfx(t, bag(t, 2, k.encryptedPKCS8), bag(t, 3, k.certDER)), derFingerprint(k.encryptedPKCS8)},
		{"PKCS#12 plain key bag, renamed .keystore", "/app/app.keystore", pfx(t, bag(t, 1, k.ecPKCS8)), derFingerprint(k.ecPKCS8)},
		{"PKCS#12 trust store", "/app/truststore", pfx(t, bag(t, 3, k.certDER)), ""},
		{"JKS with a private key entry", "/app/store", jks(0xFEEDFEED, entry{2, k.certDER}, entry{1, k.encryptedPKCS8}), derFingerprint(k.encryptedPKCS8)},
		{"JCEKS with a private key entry", "/app/store", jks(0xCECECECE, entry{1, k.encryptedPKCS8}), derFingerprint(k.encryptedPKCS8)},
		{"JKS trust store", "/etc/ssl/certs/java/cacerts", jks(0xFEEDFEED, entry{2, k.certDER}, entry{2, k.certDER}), ""},
		{"OpenPGP secret key, binary", "/app/key.gpg", append(pgpPacket(5, secretBody), uid...), secrets.Fingerprint(string(secretBody))},
		{"OpenPGP secret subkey after a public key", "/app/k", append(append(pgpPacket(6, publicBody), uid...), pgpPacket(7, secretBody)...), secrets.Fingerprint(string(secretBody))},
		{"OpenPGP public keyring", "/usr/share/keyrings/x.gpg", append(append(pgpPacket(6, publicBody), uid...), pgpPacket(14, secretBody)...), ""},
		{"OpenSSH binary format", "/app/blob", inBinary(openssh.Bytes), derFingerprint(openssh.Bytes)},
		{"OpenSSH binary, bare base64", "/app/blob.txt", []byte(wrap64(openssh.Bytes)), derFingerprint(openssh.Bytes)},
		{"OpenSSH magic alone (ssh-keygen's constant)", "/usr/bin/ssh-keygen", elfLike("openssh-key-v1\x00", "none", "bcrypt"), ""},
		{"PuTTY key", "/app/k.txt", []byte(ppk), secrets.Fingerprint(ppkPriv)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.ScanBytes("file:"+tc.path, tc.content)
			var wants []want
			if tc.fp != "" {
				wants = []want{{rule: secrets.RulePrivateKey, line: keyLine(tc.content)}}
			}
			checkFingerprints(t, got, "file:"+tc.path, wants, tc.fp)
		})
	}
}

// keyLine is the line a text key file's finding is at: 1, or 0 for
// binary content.
func keyLine(dt []byte) int {
	if bytes.IndexByte(dt, 0) >= 0 {
		return 0
	}
	return 1
}

// TestHostKeyStores: the host's real trust stores and public keyrings —
// Debian's Java cacerts (JKS, trusted certificates only), its CA
// certificates and its OpenPGP public keyrings — are not findings, and
// keys made by the host's own tools (openssl, keytool, gpg, ssh-keygen)
// are. Tools and files the host lacks are reported as skipped.
func TestHostKeyStores(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	var files []string
	for _, g := range []string{"/etc/ssl/certs/java/cacerts", "/usr/share/keyrings/*.gpg", "/etc/ssl/certs/*.pem", "/usr/share/ca-certificates/*/*.crt"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no trust store or keyring on this host")
	}
	for _, f := range files {
		dt, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if got := s.ScanBytes("file:"+f, dt); len(got) != 0 {
			t.Errorf("%s: findings %+v, want none", f, got)
		}
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name, out string
		cmd       []string
	}{
		{"openssl PKCS#12", "a.jks", []string{"sh", "-c", "openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -subj /CN=t -days 1 2>/dev/null && openssl pkcs12 -export -inkey k.pem -in c.pem -out a.jks -passout pass:Xq3vLp9Tz"}},
		{"openssl DER encrypted PKCS#8", "k.der", []string{"sh", "-c", "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkcs8 -topk8 -outform DER -out k.der -passout pass:Xq3vLp9Tz"}},
		{"keytool JKS", "b.jks", []string{"keytool", "-genkeypair", "-keystore", "b.jks", "-storetype", "JKS", "-storepass", "Xq3vLp9Tz", "-keypass", "Xq3vLp9Tz", "-alias", "a", "-keyalg", "EC", "-dname", "CN=t"}},
		{"keytool PKCS#12 named .keystore", "c.keystore", []string{"keytool", "-genkeypair", "-keystore", "c.keystore", "-storepass", "Xq3vLp9Tz", "-alias", "a", "-keyalg", "RSA", "-dname", "CN=t"}},
		{"gpg binary secret key", "s.gpg", []string{"sh", "-c", "export GNUPGHOME=$PWD/g; mkdir -m 700 g && gpg --batch --passphrase '' --quick-gen-key 't <t@t.invalid>' ed25519 default never 2>/dev/null && gpg --batch --pinentry-mode loopback --passphrase '' --export-secret-keys > s.gpg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := exec.LookPath(tc.cmd[0]); err != nil {
				t.Skipf("%s not on this host", tc.cmd[0])
			}
			if tc.cmd[0] == "sh" {
				if _, err := exec.LookPath(strings.Fields(tc.cmd[2])[0]); err != nil {
					t.Skipf("%s not on this host", strings.Fields(tc.cmd[2])[0])
				}
			}
			cmd := exec.Command(tc.cmd[0], tc.cmd[1:]...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", tc.cmd, err, out)
			}
			dt, err := os.ReadFile(filepath.Join(dir, tc.out))
			if err != nil {
				t.Fatal(err)
			}
			got := s.ScanBytes("file:/app/"+tc.out, dt)
			if len(got) == 0 || got[0].Rule != secrets.RulePrivateKey {
				t.Errorf("findings %+v: want %s", got, secrets.RulePrivateKey)
			}
		})
	}
}
