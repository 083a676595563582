// Package secretstest supports tests of secret detection and image
// inspection: freshly generated, realistic-looking secrets to plant (so no
// fixed value can be allow-listed by accident or leak from one test into
// another's expectations), a check that no output carries any of them,
// the Debian minbase root filesystem the development environment caches,
// extracted for false-positive tests, and a synthetic application-like
// tree drawn from a fixed seed for benchmarks that compare scanners.
package secretstest

import (
	"archive/tar"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hardenkit/hardenkit/frontend/secrets/tokensum"
)

// Planted is one set of distinct secrets in their issuers' formats.
type Planted struct {
	// AWSAccessKeyID is an AKIA… access key id.
	AWSAccessKeyID string
	// AWSSecretAccessKey is a 40-character secret access key.
	AWSSecretAccessKey string
	// GitHubToken is a classic personal access token: ghp_, 30 random
	// characters and their checksum (tokensum.Base62CRC32), as GitHub
	// issues them.
	GitHubToken string
	// PrivateKeyPEM is a PKCS#8 Ed25519 private key in PEM.
	PrivateKeyPEM string
	// JWT is a signed JSON Web Token.
	JWT string
	// Password is a random password.
	Password string
	// NPMToken is an npm access token: npm_, 30 random characters and
	// their checksum, as npm issues them.
	NPMToken string
}

const (
	alnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base32  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// Generate returns a new set of secrets.
func Generate(t testing.TB) Planted {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]any{"sub": randomString(t, alnum, 16), "iat": 1767225600})
	if err != nil {
		t.Fatal(err)
	}
	return Planted{
		AWSAccessKeyID:     awsKeyID(t),
		AWSSecretAccessKey: alternating(t, "0123456789+/", 40),
		GitHubToken:        checksummed(t, "ghp_"),
		PrivateKeyPEM:      string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		JWT:                header + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + randomString(t, alnum+"-_", 43),
		Password:           alternating(t, "0123456789!#%+-._", 24),
		NPMToken:           checksummed(t, "npm_"),
	}
}

// awsKeyID returns an AKIA access key id that gitleaks' aws-access-token
// rule reports. The rule wants more than 3 bits of entropy per character;
// about one random id in 3,000 has less ("AKIAKIAIWM5MAM7WJ44I"), and the
// detector — by design, as gitleaks' — does not report it, so a test that
// planted it would see it printed. Real key ids are that repetitive as
// rarely.
func awsKeyID(t testing.TB) string {
	for {
		id := "AKIA" + randomString(t, base32, 16)
		if bitsPerChar(id) > 3.2 {
			return id
		}
	}
}

// bitsPerChar is the Shannon entropy of s per character, as gitleaks
// computes it for its entropy thresholds.
func bitsPerChar(s string) float64 {
	counts := map[rune]float64{}
	for _, r := range s {
		counts[r]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		h -= c / n * math.Log2(c/n)
	}
	return h
}

// checksummed returns prefix, 30 random base62 characters and their
// checksum: GitHub's and npm's token layout.
func checksummed(t testing.TB, prefix string) string {
	t.Helper()
	body := randomString(t, alnum, 30)
	return prefix + body + tokensum.Base62CRC32(body)
}

// alternating draws n characters alternating between a letter and one of
// others. gitleaks' generic-api-key drops a value containing any of its
// ~1,500 stop words ("about", "md5", "vpn", …); random letters would
// contain one every few dozen runs and make a test flaky. Without two
// letters in a row, none can occur.
func alternating(t testing.TB, others string, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		if i%2 == 0 {
			b.WriteString(randomString(t, letters, 1))
		} else {
			b.WriteString(randomString(t, others, 1))
		}
	}
	return b.String()
}

// randomString draws n characters from alphabet. Rejection sampling
// keeps the draw uniform.
func randomString(t testing.TB, alphabet string, n int) string {
	t.Helper()
	limit := 256 - 256%len(alphabet)
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < n {
		if _, err := rand.Read(buf); err != nil {
			t.Fatal(err)
		}
		if int(buf[0]) < limit {
			b.WriteByte(alphabet[int(buf[0])%len(alphabet)])
		}
	}
	return b.String()
}

// Values returns every secret value; for the private key, its base64 body
// (without the public BEGIN/END lines) and each of the body's lines.
func (p Planted) Values() []string {
	var body []string
	for _, l := range strings.Split(p.PrivateKeyPEM, "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			body = append(body, l)
		}
	}
	return append([]string{p.AWSAccessKeyID, p.AWSSecretAccessKey, p.GitHubToken, p.JWT, p.Password, p.NPMToken, strings.Join(body, "")}, body...)
}

// leakWindow is the length of the substrings of a secret looked for in
// outputs: long enough that a random match is impossible, short enough
// that a prefix, suffix or middle part of a secret is caught too.
const leakWindow = 12

// AssertNoLeak fails t if output contains any secret of p, any part of
// one at least leakWindow characters long, or a base64 encoding of one.
// what names the output in the failure message, which never quotes the
// secret either.
func AssertNoLeak(t testing.TB, p Planted, what, output string) {
	t.Helper()
	for i, v := range p.Values() {
		for _, enc := range []string{
			base64.StdEncoding.EncodeToString([]byte(v)),
			base64.RawStdEncoding.EncodeToString([]byte(v)),
			base64.URLEncoding.EncodeToString([]byte(v)),
			base64.RawURLEncoding.EncodeToString([]byte(v)),
		} {
			if strings.Contains(output, enc) {
				t.Errorf("%s contains the base64 of planted secret #%d", what, i)
			}
		}
		n := min(leakWindow, len(v))
		for j := 0; j+n <= len(v); j++ {
			if strings.Contains(output, v[j:j+n]) {
				t.Errorf("%s contains part of planted secret #%d (offset %d)", what, i, j)
				break
			}
		}
	}
}

// debianTarName is the Debian minbase rootfs integration/devenv caches
// (mmdebstrap --variant=minbase bookworm).
const debianTarName = "debian-bookworm-minbase.tar"

// DebianMinbaseTar returns the path of the cached Debian minbase tarball
// ($HARDENKIT_DEVENV_CACHE, else the user cache dir's hardenkit/devenv,
// as integration/devenv places it), and whether it exists.
func DebianMinbaseTar() (string, bool) {
	dir := os.Getenv("HARDENKIT_DEVENV_CACHE")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return "", false
		}
		dir = filepath.Join(c, "hardenkit", "devenv")
	}
	p := filepath.Join(dir, debianTarName)
	fi, err := os.Stat(p)
	return p, err == nil && fi.Mode().IsRegular()
}

// DebianMinbase extracts the cached Debian minbase rootfs into a fresh
// t.TempDir() and returns it. The test is skipped, with a message saying
// how to create it, when the cache is absent.
func DebianMinbase(t testing.TB) string {
	t.Helper()
	tarPath, ok := DebianMinbaseTar()
	if !ok {
		t.Skipf("%s is absent: run `go run ./integration/cmd/devenv up` once to build it with mmdebstrap", tarPath)
	}
	dst := t.TempDir()
	if err := ExtractTar(tarPath, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// ExtractTar extracts a root filesystem tarball into dst: directories,
// regular files, symlinks and hard links with their modes (setuid, setgid
// and sticky bits included), ownership when running as root, and
// extended attributes. Device nodes and fifos are skipped: creating them
// needs privileges, and no image check looks at them. Entries may not
// escape dst.
func ExtractTar(tarPath, dst string) error {
	f, err := os.Open(tarPath)
	if err != nil {
		return fmt.Errorf("extracting %s: %w", tarPath, err)
	}
	defer f.Close()
	type dirMode struct {
		path string
		mode fs.FileMode
	}
	var dirs []dirMode
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("extracting %s: %w", tarPath, err)
		}
		rel := path.Clean("/" + hdr.Name)
		target := filepath.Join(dst, filepath.FromSlash(rel))
		mode := hdr.FileInfo().Mode()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("extracting %s: %w", rel, err)
			}
			dirs = append(dirs, dirMode{target, mode})
		case tar.TypeReg:
			if err := writeFile(target, tr, mode); err != nil {
				return fmt.Errorf("extracting %s: %w", rel, err)
			}
		case tar.TypeSymlink:
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return fmt.Errorf("extracting %s: %w", rel, err)
			}
		case tar.TypeLink:
			old := filepath.Join(dst, filepath.FromSlash(path.Clean("/"+hdr.Linkname)))
			if err := os.Link(old, target); err != nil {
				return fmt.Errorf("extracting %s: %w", rel, err)
			}
		default:
			continue
		}
		if os.Geteuid() == 0 {
			if err := os.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
				return fmt.Errorf("extracting %s: %w", rel, err)
			}
		}
		for k, v := range hdr.PAXRecords {
			name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
			if !ok {
				continue
			}
			if err := unix.Lsetxattr(target, name, []byte(v), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
				return fmt.Errorf("extracting %s: xattr %s: %w", rel, name, err)
			}
		}
		if hdr.Typeflag == tar.TypeReg {
			// Chown clears setuid and setgid bits: set the mode last.
			if err := os.Chmod(target, mode); err != nil {
				return fmt.Errorf("extracting %s: %w", rel, err)
			}
		}
	}
	// Directory modes last, deepest first, so a read-only directory does
	// not block writing its children.
	slices.Reverse(dirs)
	for _, d := range dirs {
		if err := os.Chmod(d.path, d.mode); err != nil {
			return fmt.Errorf("extracting %s: %w", d.path, err)
		}
	}
	return nil
}

func writeFile(target string, r io.Reader, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode.Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
