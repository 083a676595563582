package secrets_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// awsCredentials is an AWS shared credentials file with the planted,
// fake key pair.
func awsCredentials(p secretstest.Planted) string {
	return "[default]\naws_access_key_id = " + p.AWSAccessKeyID + "\naws_secret_access_key = " + p.AWSSecretAccessKey + "\n"
}

// wrap breaks s into lines of width characters, as base64(1), base32(1)
// and xxd -p do.
func wrap(s string, width int) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width] + "\n")
		s = s[width:]
	}
	return b.String() + s + "\n"
}

func b64(s string) string {
	return strings.TrimSuffix(wrap(base64.StdEncoding.EncodeToString([]byte(s)), 76), "\n")
}

func compress(t *testing.T, w func(io.Writer) (io.WriteCloser, error), data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := w(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(t *testing.T, data []byte) []byte {
	return compress(t, func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriter(w), nil }, data)
}

func bz2(t *testing.T, data []byte) []byte {
	return compress(t, func(w io.Writer) (io.WriteCloser, error) { return bzip2.NewWriter(w, nil) }, data)
}

func xzed(t *testing.T, data []byte) []byte {
	return compress(t, func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) }, data)
}

func zstded(t *testing.T, data []byte) []byte {
	return compress(t, func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) }, data)
}

func zlibbed(t *testing.T, data []byte) []byte {
	return compress(t, func(w io.Writer) (io.WriteCloser, error) { return zlib.NewWriter(w), nil }, data)
}

func deflated(t *testing.T, data []byte) []byte {
	return compress(t, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestCompression) }, data)
}

// tarOf is a tar archive of the named files, in order.
func tarOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i+1 < len(files); i += 2 {
		if err := tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipOf is a zip archive of the named files; stored ones are not
// compressed, as the jars inside a Spring Boot fat jar are.
func zipOf(t *testing.T, stored bool, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(files); i += 2 {
		h := &zip.FileHeader{Name: files[i], Method: zip.Deflate}
		if stored {
			h.Method = zip.Store
		}
		f, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func utf16Bytes(s string, be, bom bool) []byte {
	u := utf16.Encode([]rune(s))
	if bom {
		u = append([]uint16{0xfeff}, u...)
	}
	out := make([]byte, 2*len(u))
	for i, c := range u {
		if be {
			binary.BigEndian.PutUint16(out[2*i:], c)
		} else {
			binary.LittleEndian.PutUint16(out[2*i:], c)
		}
	}
	return out
}

func jsonEscaped(s string) string {
	var b strings.Builder
	for _, c := range s {
		fmt.Fprintf(&b, `\u%04x`, c)
	}
	return b.String()
}

// scanFiles writes files into a fresh root, mode 0644, and scans it as
// an image.
func scanFiles(t *testing.T, opts secrets.Options, files map[string][]byte) secrets.TreeResult {
	t.Helper()
	img := make(map[string]imageFile, len(files))
	for p, dt := range files {
		img[p] = imageFile{dt, 0o644}
	}
	return scanImage(t, opts, img)
}

// TestDecodingInDepth: the AWS key pair, encoded, compressed and
// archived the ways the red team did, is found in the image file it
// hides in, as aws-access-token with the key id's fingerprint, and the
// statistics count the decoders that opened it.
func TestDecodingInDepth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		blob    func(t *testing.T, creds string) []byte
		decoder string // a decoder the statistics must count
	}{
		{"base64 three times, wrapped", func(t *testing.T, c string) []byte { return []byte(b64(b64(b64(c))) + "\n") }, "base64"},
		{"base64 URL-safe unpadded", func(t *testing.T, c string) []byte {
			return []byte("v=" + base64.RawURLEncoding.EncodeToString([]byte(c)) + "\n")
		}, "base64"},
		{"base32 wrapped", func(t *testing.T, c string) []byte {
			return []byte(wrap(base32.StdEncoding.EncodeToString([]byte(c)), 76))
		}, "base32"},
		{"hex wrapped as xxd -p", func(t *testing.T, c string) []byte { return []byte(wrap(hex.EncodeToString([]byte(c)), 60)) }, "hex"},
		{"gzip", func(t *testing.T, c string) []byte { return gz(t, []byte(c)) }, "gzip"},
		{"bzip2", func(t *testing.T, c string) []byte { return bz2(t, []byte(c)) }, "bzip2"},
		{"xz", func(t *testing.T, c string) []byte { return xzed(t, []byte(c)) }, "xz"},
		{"zstd", func(t *testing.T, c string) []byte { return zstded(t, []byte(c)) }, "zstd"},
		{"zlib", func(t *testing.T, c string) []byte { return zlibbed(t, []byte(c)) }, "zlib"},
		{"raw deflate", func(t *testing.T, c string) []byte {
			return deflated(t, []byte(c+strings.Repeat("# padding line\n", 40)))
		}, "deflate"},
		{"base64 of xz", func(t *testing.T, c string) []byte { return []byte(b64(string(xzed(t, []byte(c))))) }, "xz"},
		{".gz inside a .tar.gz", func(t *testing.T, c string) []byte {
			return gz(t, tarOf(t, "README", "hello\n", "etc/creds.gz", string(gz(t, []byte(c)))))
		}, "tar"},
		{"zip inside a zip (fat jar)", func(t *testing.T, c string) []byte {
			inner := zipOf(t, false, "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n", "application.properties", c)
			return zipOf(t, true, "BOOT-INF/classes/x.class", "\xca\xfe\xba\xbe", "BOOT-INF/lib/app-1.0.jar", string(inner))
		}, "zip"},
		{"Python zipapp behind #!", func(t *testing.T, c string) []byte {
			return append([]byte("#!/usr/bin/env python3\n"), zipOf(t, false, "__main__.py", "CREDS = '''"+c+"'''\n")...)
		}, "zip"},
		{"shell self-extractor with an appended tarball", func(t *testing.T, c string) []byte {
			script := "#!/bin/sh\nARCHIVE=$(awk '/^__ARCHIVE__/ {print NR + 1; exit 0; }' \"$0\")\ntail -n+$ARCHIVE \"$0\" | tar xz -C /opt\nexit 0\n__ARCHIVE__\n"
			return append([]byte(script), gz(t, tarOf(t, "opt/app/.aws/credentials", c))...)
		}, "gzip"},
		{"tar at an offset", func(t *testing.T, c string) []byte {
			return append(bytes.Repeat([]byte{0, 1, 2, 3}, 1000), tarOf(t, "creds", c)...)
		}, "tar"},
		{"UTF-16LE with BOM", func(t *testing.T, c string) []byte { return utf16Bytes(c, false, true) }, "utf16"},
		{"UTF-16LE without BOM", func(t *testing.T, c string) []byte { return utf16Bytes(c, false, false) }, "utf16"},
		{"UTF-16BE", func(t *testing.T, c string) []byte { return utf16Bytes(c, true, false) }, "utf16"},
		{"JSON \\u escapes", func(t *testing.T, c string) []byte {
			return []byte(`{"config": "` + jsonEscaped(c) + `"}` + "\n")
		}, "escaped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := secretstest.Generate(t)
			const at = "/srv/app/blob.dat"
			res := scanFiles(t, secrets.Options{}, map[string][]byte{at: tc.blob(t, awsCredentials(p))})
			wantDecodedKey(t, res, at, p, tc.decoder)
		})
	}
}

// wantDecodedKey checks the scan of a file at that hides p's AWS key
// pair: aws-access-token with the key id's fingerprint at the file, the
// decoder counted, nothing unscanned, no finding that prints the keys.
func wantDecodedKey(t *testing.T, res secrets.TreeResult, at string, p secretstest.Planted, decoder string) {
	t.Helper()
	found := false
	for _, f := range res.Findings {
		found = found || f.Rule == "aws-access-token" && f.Where == secrets.WhereFile+at && f.Fingerprint == secrets.Fingerprint(p.AWSAccessKeyID)
		if s := fmt.Sprintf("%+v", f); strings.Contains(s, p.AWSAccessKeyID) || strings.Contains(s, p.AWSSecretAccessKey[:12]) {
			t.Errorf("finding %s prints the secret", s)
		}
	}
	if !found {
		t.Errorf("findings %+v: want aws-access-token with the key id's fingerprint at file:%s", res.Findings, at)
	}
	if res.Stats.Decoded[decoder] == 0 {
		t.Errorf("decoded %v: want %s counted", res.Stats.Decoded, decoder)
	}
	if len(res.Unscanned) != 0 {
		t.Errorf("unscanned %v: the budget covers this file", res.Unscanned)
	}
}

// TestDecodingLargeFiles: containers in a file read in pieces are read
// through the file to their end — a zip whose member lies past the
// first piece, a tarball appended after a long script.
func TestDecodingLargeFiles(t *testing.T) {
	p := secretstest.Generate(t)
	filler := bytes.Repeat([]byte("# a line of an ordinary shell script, repeated\n"), 40000) // 1.8 MB
	bigZip := zipOf(t, true, "filler.txt", string(filler), "conf/creds", awsCredentials(p))
	script := append(append([]byte("#!/bin/sh\n"), filler...), gz(t, tarOf(t, "creds", awsCredentials(p)))...)
	res := scanFiles(t, secrets.Options{MaxFileSize: 512 << 10}, map[string][]byte{"/app/big.jar": bigZip, "/app/install.sh": script})
	for _, at := range []string{"file:/app/big.jar", "file:/app/install.sh"} {
		found := false
		for _, f := range res.Findings {
			found = found || f.Where == at && f.Rule == "aws-access-token" && f.Fingerprint == secrets.Fingerprint(p.AWSAccessKeyID)
		}
		if !found {
			t.Errorf("findings %+v: want the key id at %s", res.Findings, at)
		}
	}
	if res.Stats.Chunked != 2 {
		t.Errorf("stats %+v: want both files read in pieces", res.Stats)
	}
}

// TestDecodingBudget: a file whose budget runs out — an encoding nested
// deeper than the depth limit, a decompression bomb — is unscanned
// (HK3052 not-evaluated), never clean; an ordinary file is not.
func TestDecodingBudget(t *testing.T) {
	p := secretstest.Generate(t)
	deep := awsCredentials(p)
	for range 10 {
		deep = base64.StdEncoding.EncodeToString([]byte(deep))
	}
	var bomb bytes.Buffer
	zw, err := gzip.NewWriterLevel(&bomb, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 1<<20)
	for range 300 {
		if _, err := zw.Write(zero); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	res := scanFiles(t, secrets.Options{}, map[string][]byte{
		"/deep.txt":  []byte(deep + "\n"),
		"/bomb.gz":   bomb.Bytes(),
		"/plain.txt": []byte(b64(b64("hello world, nothing to see here\n"))),
	})
	if got := strings.Join(res.Unscanned, ","); got != "/bomb.gz,/deep.txt" {
		t.Errorf("unscanned %q: want /bomb.gz and /deep.txt", got)
	}
	if res.Stats.BudgetExhausted != 2 {
		t.Errorf("stats %+v: want 2 files over budget", res.Stats)
	}
}

// TestDecodingPrecision: ordinary content that the decoders open —
// random base64 (integrity hashes, embedded images), compressed text,
// archives of code, UTF-16 text, escaped strings — yields no finding.
func TestDecodingPrecision(t *testing.T) {
	random := make([]byte, 3000)
	for i := range random {
		random[i] = byte(i*7919%251 + i/13)
	}
	manPage := ".TH LS 1\n.SH NAME\nls \\- list directory contents\n.SH SYNOPSIS\n.B ls\n[\\fIOPTION\\fR]... [\\fIFILE\\fR]...\n"
	res := scanFiles(t, secrets.Options{}, map[string][]byte{
		"/app/package-lock.json":      []byte(`{"integrity": "sha512-` + base64.StdEncoding.EncodeToString(random[:64]) + `"}` + "\n"),
		"/app/style.css":              []byte("a{background:url(data:image/png;base64," + base64.StdEncoding.EncodeToString(random) + ")}\n"),
		"/usr/share/man/man1/ls.1.gz": gz(t, []byte(manPage)),
		"/app/lib/dep.jar": zipOf(t, false, "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nCreated-By: Maven\n",
			"org/example/Key.class", "\xca\xfe\xba\xbe\x00\x00\x00\x34apiKey getToken secretKeyFactory"),
		"/app/readme.txt": utf16Bytes("Read me first: install the package and run it.\n", false, true),
		"/app/i18n.js":    []byte(`var s = "caf\u00e9 na\u00efve \u2014 d\u00e9j\u00e0 vu";` + "\n"),
		"/app/cert.pem":   []byte("-----BEGIN CERTIFICATE-----\n" + wrap(base64.StdEncoding.EncodeToString(random[:900]), 64) + "-----END CERTIFICATE-----\n"),
	})
	if len(res.Findings) != 0 || len(res.Unscanned) != 0 {
		t.Errorf("findings %+v, unscanned %v: want none", res.Findings, res.Unscanned)
	}
	if res.Stats.Decoded["gzip"] != 1 || res.Stats.Decoded["zip"] != 1 || res.Stats.Decoded["utf16"] != 1 {
		t.Errorf("decoded %v: want the man page, the jar and the UTF-16 file opened", res.Stats.Decoded)
	}
}

// TestEncodedEnv: config values go through the same decoders — base32
// in ENV, base64 of gzip in a label.
func TestEncodedEnv(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	p := secretstest.Generate(t)
	creds := awsCredentials(p)
	for _, tc := range []struct{ where, value string }{
		{"env:BLOB", base32.StdEncoding.EncodeToString([]byte(creds))},
		{"env:CFG", strings.TrimRight(base32.StdEncoding.EncodeToString([]byte(creds)), "=")},
		{"label:x", base64.StdEncoding.EncodeToString(gz(t, []byte(creds)))},
		{"build-arg:X", base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte(creds))))))},
	} {
		got := s.ScanBytes(tc.where, []byte(tc.value))
		found := false
		for _, f := range got {
			found = found || f.Rule == "aws-access-token" && f.Where == tc.where && f.Fingerprint == secrets.Fingerprint(p.AWSAccessKeyID)
		}
		if !found {
			t.Errorf("%s: findings %+v, want the key id", tc.where, got)
		}
	}
	if got := s.ScanEnv([]string{"BLOB=" + base32.StdEncoding.EncodeToString([]byte(creds))}); len(got) == 0 || got[0].Where != "env:BLOB" {
		t.Errorf("ScanEnv findings %+v: want the key id at env:BLOB", got)
	}
}
