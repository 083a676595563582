package secrets_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

// genericValue is what gitleaks' generic-api-key reports: a random-
// looking value assigned to a key-like name.
func genericValue(t *testing.T) string {
	p := secretstest.Generate(t)
	return p.AWSSecretAccessKey[:32]
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// TestPackageVerifiedFiles: a file whose bytes match its dpkg md5sums or
// Python RECORD entry is public distribution content: the low-confidence
// detectors do not run on it, the high-confidence ones do. A modified
// package file and an unowned file are scanned in full.
func TestPackageVerifiedFiles(t *testing.T) {
	p := secretstest.Generate(t)
	generic := "api_key = \"" + genericValue(t) + "\"\n"
	verified := []byte("/* a header */\n" + generic)
	modified := []byte("/* another header */\n" + generic)
	withToken := []byte("/* a header with a real token */\nexport const t = \"" + p.GitHubToken + "\";\n")
	pyFile := []byte("SECRET_KEY = '" + genericValue(t) + "'\n")
	pySum := sha256.Sum256(pyFile)
	record := "app/settings.py,sha256=" + base64.RawURLEncoding.EncodeToString(pySum[:]) + "," + "40\napp-1.0.dist-info/RECORD,,\n"
	md5sums := md5hex(verified) + "  usr/include/node/v8.h\n" +
		md5hex([]byte("something else")) + "  usr/include/node/crypto.h\n" +
		md5hex(withToken) + "  usr/lib/node/token.js\n"
	l := rootfstest.New(t).
		File("/var/lib/dpkg/info/libnode-dev.md5sums", []byte(md5sums), 0o644).
		File("/usr/include/node/v8.h", verified, 0o644).
		File("/usr/include/node/crypto.h", modified, 0o644).
		File("/usr/lib/node/token.js", withToken, 0o644).
		File("/srv/app.h", verified, 0o644).
		File("/var/lib/dpkg/status", []byte("Package: libnode-dev\nStatus: install ok installed\nConffiles:\n /etc/node/security.conf "+md5hex(verified)+"\n /etc/node/gone.conf "+md5hex([]byte("x"))+" obsolete\nDescription: x\n"), 0o644).
		File("/etc/node/security.conf", verified, 0o644).
		File("/usr/lib/python3/dist-packages/app-1.0.dist-info/RECORD", []byte(record), 0o644).
		File("/usr/lib/python3/dist-packages/app/settings.py", pyFile, 0o644)
	tree, src := l.Load()
	res, err := newScanner(t, secrets.Options{}).ScanTree(t.Context(), tree, src)
	if err != nil {
		t.Fatal(err)
	}
	for where, wants := range map[string][]want{
		"file:/usr/include/node/v8.h":                         nil,
		"file:/usr/lib/python3/dist-packages/app/settings.py": nil,
		"file:/usr/include/node/crypto.h":                     {{"generic-api-key", 2, genericValueOf(modified)}},
		"file:/srv/app.h":                                     {{"generic-api-key", 2, genericValueOf(verified)}},
		"file:/usr/lib/node/token.js":                         {{"github-pat", 2, p.GitHubToken}},
	} {
		match(t, filterWhere(res.Findings, where), where, wants)
	}
	if res.Stats.PackageVerified != 4 {
		t.Errorf("stats %+v: want 4 package-verified files (v8.h, token.js, security.conf, settings.py)", res.Stats)
	}
}

// genericValueOf is the quoted value of the api_key line in dt.
func genericValueOf(dt []byte) string {
	_, after, _ := strings.Cut(string(dt), "api_key = \"")
	v, _, _ := strings.Cut(after, "\"")
	return v
}

// TestBinaryHighConfidenceOnly: in a binary only the high-confidence
// detectors run — a string table's "key: <random word>" is not a key, a
// token with its issuer's prefix is.
func TestBinaryHighConfidenceOnly(t *testing.T) {
	p := secretstest.Generate(t)
	l := rootfstest.New(t).
		File("/app/server", elfLike("api_key = \""+genericValue(t)+"\"", p.NPMToken), 0o755).
		// libmagic's patterns, as PHP's fileinfo.so carries them.
		File("/usr/lib/php/fileinfo.so", elfLike("-----BEGIN RSA PRIVATE KEY-----", "PEM RSA private key", "PEM RSA private key data", "Microsoft Office Document Encrypted", "Python bytecode for version"), 0o644)
	tree, src := l.Load()
	res, err := newScanner(t, secrets.Options{}).ScanTree(t.Context(), tree, src)
	if err != nil {
		t.Fatal(err)
	}
	match(t, res.Findings, "file:/app/server", []want{{"npm-access-token", 0, p.NPMToken}})
	if res.Stats.Binary != 2 {
		t.Errorf("stats %+v: want one binary", res.Stats)
	}
}

// TestNamesAndGitStores: a token as a file name, a directory name or a
// symlink target is found, and a git object store is one whatever its
// name.
func TestNamesAndGitStores(t *testing.T) {
	p := secretstest.Generate(t)
	q := secretstest.Generate(t)
	r := secretstest.Generate(t)
	l := rootfstest.New(t).
		File("/srv/"+p.GitHubToken, []byte("x"), 0o644).
		File("/srv/"+q.NPMToken+"/data", []byte("x"), 0o644).
		Symlink("/srv/link", "/tmp/"+r.GitHubToken).
		File("/opt/src.git/HEAD", []byte("ref: refs/heads/main\n"), 0o644).
		Dir("/opt/src.git/objects").
		Dir("/opt/src.git/refs").
		File("/opt/notgit/HEAD", []byte("x"), 0o644)
	tree, src := l.Load()
	res, err := newScanner(t, secrets.Options{}).ScanTree(t.Context(), tree, src)
	if err != nil {
		t.Fatal(err)
	}
	// The path is reported with the token masked.
	// Both tokens are 40 characters long.
	masked := "file:/srv/" + strings.Repeat("*", len(p.GitHubToken))
	match(t, filterWhere(res.Findings, masked), masked, []want{{"github-pat", 0, p.GitHubToken}, {"npm-access-token", 0, q.NPMToken}})
	match(t, filterWhere(res.Findings, "file:/srv/link"), "file:/srv/link", []want{{"github-pat", 0, r.GitHubToken}})
	match(t, filterWhere(res.Findings, "file:/opt/src.git"), "file:/opt/src.git", []want{{secrets.RuleGitStore, 0, "/opt/src.git"}})
	match(t, filterWhere(res.Findings, "file:/opt/notgit"), "file:/opt/notgit", nil)
}

// TestChunkBoundary: a token cut by the boundary between two pieces of
// a large file is found whole, at its line.
func TestChunkBoundary(t *testing.T) {
	p := secretstest.Generate(t)
	const readSize = 1 << 20
	line := "token = " + p.GitHubToken + "\n"
	pad := strings.Repeat("filler text line\n", (readSize-10)/17)
	content := pad + line + strings.Repeat("more filler\n", 200000)
	l := rootfstest.New(t).File("/var/log/big.log", []byte(content), 0o644)
	tree, src := l.Load()
	res, err := newScanner(t, secrets.Options{MaxFileSize: readSize}).ScanTree(t.Context(), tree, src)
	if err != nil {
		t.Fatal(err)
	}
	match(t, res.Findings, "file:/var/log/big.log", []want{{"github-pat", strings.Count(pad, "\n") + 1, p.GitHubToken}})
	if res.Stats.Chunked != 1 {
		t.Errorf("stats %+v: want one file read in pieces", res.Stats)
	}
}
