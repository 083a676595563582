package integration

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ulikunitz/xz"

	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// TestSecretsDecodedInDepth: an AWS key pair (fresh and fake) hidden the
// ways a red team hid them — base64 applied three times and wrapped as
// base64(1) wraps, base32, xz, a .gz inside a .tar.gz, a properties file
// in a jar stored in a fat jar, UTF-16LE text, JSON \u escapes, and a
// tarball appended to a shell self-extractor — fails a real build,
// named at every file of the image (HK3052) and at the COPY that brings
// them from the context (HK3054), with no key in the output.
func TestSecretsDecodedInDepth(t *testing.T) {
	p := secretstest.Generate(t)
	creds := "[default]\naws_access_key_id = " + p.AWSAccessKeyID + "\naws_secret_access_key = " + p.AWSSecretAccessKey + "\n"
	blobs := map[string][]byte{
		"b64x3.txt": []byte(wrapAt(b64(wrapAt(b64(wrapAt(b64(creds), 76)), 76)), 76)),
		"creds.b32": []byte(wrapAt(base32.StdEncoding.EncodeToString([]byte(creds)), 76)),
		"creds.xz":  xzBytes(t, creds),
		"bundle.tgz": gzipBytes(t, string(tarBytes(t, map[string]string{
			"bundle/README": "nothing here\n", "bundle/conf/creds.gz": string(gzipBytes(t, creds))}))),
		"app.jar":      fatJar(t, creds),
		"notes.txt":    utf16LE(creds),
		"config.json":  []byte(`{"aws": "` + uEscaped(creds) + `"}` + "\n"),
		"installer.sh": append([]byte("#!/bin/sh\ntail -n+4 \"$0\" | tar xz -C /opt\nexit 0\n"), gzipBytes(t, string(tarBytes(t, map[string]string{"opt/app/.aws/credentials": creds})))...),
	}
	files := map[string]contextFile{
		// A scratch image whose entrypoint is no shell: the secrets, not
		// the entrypoint, must be what fails the build.
		"Dockerfile": {content: "FROM scratch\nCOPY blobs/ /app/\nCOPY app /app/run\nUSER 65532:65532\nENTRYPOINT [\"/app/run\"]\n"},
		"app":        {content: "#!/app/run\n", mode: fs0755},
	}
	places := []string{"HK3052", "HK3054"}
	for name, dt := range blobs {
		files["blobs/"+name] = contextFile{content: string(dt)}
		places = append(places, "/app/"+name)
	}
	dir := inspectContext(t, "everyform", files)
	dest := filepath.Join(t.TempDir(), "image.tar")
	out, err := run(context.Background(), t, nil, binaries.hardenkit, "build", "--addr", env.BuildkitAddr, "--progress", "plain",
		"-f", filepath.Join(dir, "Dockerfile"), "--output", "type=oci,dest="+dest, dir)
	if err == nil {
		t.Fatalf("the build with an AWS key pair decoded in depth succeeded:\n%s", out)
	}
	assertSecretFailure(t, "hardenkit-cli", out, dest, []secretstest.Planted{p}, places)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// wrapAt breaks s into lines of width characters, as base64(1) does.
func wrapAt(s string, width int) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width] + "\n")
		s = s[width:]
	}
	return b.String() + s + "\n"
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func xzBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tarBytes(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for name, content := range files {
		if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fatJar is a Spring Boot style jar: the application's jar stored
// (uncompressed) under BOOT-INF/lib, its properties deflated inside it.
func fatJar(t *testing.T, props string) []byte {
	t.Helper()
	zipOf := func(method uint16, files ...string) []byte {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		for i := 0; i+1 < len(files); i += 2 {
			f, err := w.CreateHeader(&zip.FileHeader{Name: files[i], Method: method})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(f, files[i+1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	inner := zipOf(zip.Deflate, "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n", "application.properties", props)
	return zipOf(zip.Store, "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: org.springframework.boot.loader.JarLauncher\n",
		"BOOT-INF/lib/app-1.0.jar", string(inner))
}

func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(out[2*i:], c)
	}
	return out
}

func uEscaped(s string) string {
	var b strings.Builder
	for _, c := range s {
		fmt.Fprintf(&b, `\u%04x`, c)
	}
	return b.String()
}
