package secrets_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

func newScanner(t *testing.T, opts secrets.Options) *secrets.Scanner {
	t.Helper()
	s, err := secrets.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// pemBody is the base64 body of a PEM block, what RulePrivateKey
// fingerprints.
func pemBody(pemText string) string {
	var b strings.Builder
	for _, l := range strings.Split(pemText, "\n") {
		if !strings.HasPrefix(l, "-----") {
			b.WriteString(strings.TrimSpace(l))
		}
	}
	return b.String()
}

// want is an expected finding; Where is implied by the case.
type want struct {
	rule   string // "" accepts any detector
	line   int
	secret string // the planted value whose fingerprint is expected
}

// match checks findings against wants: every want is found, and nothing
// else is.
func match(t *testing.T, got []secrets.Finding, where string, wants []want) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range wants {
		i := slices.IndexFunc(got, func(f secrets.Finding) bool {
			return f.Where == where && f.Line == w.line && (w.rule == "" || f.Rule == w.rule) && f.Fingerprint == secrets.Fingerprint(w.secret)
		})
		if i < 0 {
			t.Errorf("missing %s finding at %s line %d; got %+v", cmpOr(w.rule, "a"), where, w.line, got)
			continue
		}
		used[i] = true
	}
	for i, f := range got {
		if !used[i] && !slices.ContainsFunc(wants, func(w want) bool {
			return f.Where == where && f.Line == w.line && f.Fingerprint == secrets.Fingerprint(w.secret)
		}) {
			t.Errorf("unexpected finding %+v", f)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestScanBytes(t *testing.T) {
	p := secretstest.Generate(t)
	s := newScanner(t, secrets.Options{})
	key := pemBody(p.PrivateKeyPEM)
	indented := "    " + strings.ReplaceAll(strings.TrimSuffix(p.PrivateKeyPEM, "\n"), "\n", "\n    ")
	escaped := strings.ReplaceAll(p.PrivateKeyPEM, "\n", `\n`)
	lines := strings.Split(strings.TrimSpace(p.PrivateKeyPEM), "\n")
	truncated := strings.Join(lines[:len(lines)-1], "\n") + "\n"
	filler := strings.Repeat("# a comment line that mentions nothing in particular\n", 4000)
	for _, tc := range []struct {
		name    string
		where   string
		content string
		wants   []want
	}{
		{"AWS key pair", "file:/app/config.ini",
			"[default]\naws_access_key_id = " + p.AWSAccessKeyID + "\naws_secret_access_key = " + p.AWSSecretAccessKey + "\n",
			[]want{{"aws-access-token", 2, p.AWSAccessKeyID}, {"", 3, p.AWSSecretAccessKey}}},
		{"GitHub token in a script", "file:/usr/local/bin/deploy.sh",
			"#!/bin/sh\nset -e\n\n# clone\ngit clone https://x:" + p.GitHubToken + "@github.com/org/repo\n",
			[]want{{"github-pat", 5, p.GitHubToken}}},
		{"JWT in JSON", "file:/srv/session.json", `{"user":"me",` + "\n" + `"session":"` + p.JWT + `"}`,
			[]want{{"jwt", 2, p.JWT}}},
		{"PEM private key", "file:/etc/app/tls.key", "# key\n\n" + p.PrivateKeyPEM,
			[]want{{secrets.RulePrivateKey, 3, key}}},
		{"indented PEM in YAML", "file:/etc/app/values.yaml", "tls:\n  key: |\n" + indented + "\n",
			[]want{{secrets.RulePrivateKey, 3, key}}},
		{"JSON-escaped PEM", "file:/srv/sa.json", `{"type":"service_account","private_key":"` + escaped + `"}`,
			[]want{{secrets.RulePrivateKey, 1, key}}},
		{"truncated PEM", "file:/tmp/partial.pem", truncated,
			[]want{{secrets.RulePrivateKey, 1, key}}},
		{"token deep in a long file", "file:/var/log/app.log", filler + "token=" + p.GitHubToken + "\n" + filler,
			[]want{{"github-pat", 4001, p.GitHubToken}}},
		{"token in a minified line", "file:/srv/app.min.js", strings.Repeat("var a=1;", 20000) + `k="` + p.GitHubToken + `";` + strings.Repeat("b(2);", 20000),
			[]want{{"github-pat", 1, p.GitHubToken}}},
		{"context path", "context:config/deploy.env", "GITHUB_TOKEN=" + p.GitHubToken + "\n",
			[]want{{"github-pat", 1, p.GitHubToken}}},
		{"PEM header without a key", "file:/usr/share/doc/x/README", "Put your key here:\n-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n", nil},
		{"public key and certificate", "file:/etc/ssl/x.pem", "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n", nil},
		{"ordinary config", "file:/etc/app.conf", "listen = 8080\nkey_file = /run/secrets/key\npassword_min_length = 12\ntoken_ttl = 3600\napi_version = v2\n", nil},
		{"gitleaks:allow does not hide", "file:/app/x.py", `TOKEN = "` + p.GitHubToken + `"  # gitleaks:allow` + "\n",
			[]want{{"github-pat", 1, p.GitHubToken}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			match(t, s.ScanBytes(tc.where, []byte(tc.content)), tc.where, tc.wants)
		})
	}
}

func TestScanConfig(t *testing.T) {
	p := secretstest.Generate(t)
	s := newScanner(t, secrets.Options{})
	gpgKey := "A035C8C19219BA821ECEA86B64E628F8D684696D"
	t.Run("env", func(t *testing.T) {
		got := s.ScanEnv([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/bin", "DB_PASSWORD=" + p.Password,
			"GITHUB_TOKEN=" + p.GitHubToken, "GPG_KEY=" + gpgKey, "LANG=C.UTF-8", "API_TOKEN_FILE=/run/secrets/token"})
		match(t, filterWhere(got, "env:DB_PASSWORD"), "env:DB_PASSWORD", []want{{"", 0, p.Password}})
		match(t, filterWhere(got, "env:GITHUB_TOKEN"), "env:GITHUB_TOKEN", []want{{"github-pat", 0, p.GitHubToken}})
		if len(got) != 2 {
			t.Errorf("ScanEnv = %+v, want 2 findings", got)
		}
	})
	t.Run("labels", func(t *testing.T) {
		got := s.ScanLabels(map[string]string{"org.opencontainers.image.source": "https://github.com/org/repo",
			"com.example.api-token": p.JWT, "org.opencontainers.image.revision": "3f1c2e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e"})
		match(t, got, "label:com.example.api-token", []want{{"jwt", 0, p.JWT}})
	})
	t.Run("build args", func(t *testing.T) {
		got := s.ScanBuildArgs(map[string]string{"NPM_TOKEN": p.NPMToken, "HTTP_PROXY": "http://proxy.internal:3128",
			"APP_VERSION": "1.2.3", "BUILDKIT_INLINE_CACHE": "1"})
		match(t, got, "build-arg:NPM_TOKEN", []want{{"", 0, p.NPMToken}})
	})
	t.Run("history", func(t *testing.T) {
		got := s.ScanHistory([]string{
			"/bin/sh -c #(nop) ADD file:0123 in / ",
			"RUN |1 NPM_TOKEN=" + p.NPMToken + " /bin/sh -c npm ci # buildkit",
			"ENV GPG_KEY=" + gpgKey,
			"RUN /bin/sh -c set -eux; gpg --batch --recv-keys \"$GPG_KEY\" # buildkit",
			"RUN /bin/sh -c mysql --password=" + p.Password + " -e 'select 1' # buildkit",
			"RUN /bin/sh -c apt-get install -y libssl3=3.0.15-1 ca-certificates # buildkit",
		})
		match(t, filterWhere(got, "history:1"), "history:1", []want{{"", 0, p.NPMToken}})
		match(t, filterWhere(got, "history:4"), "history:4", []want{{"", 0, p.Password}})
		for _, f := range got {
			if f.Where != "history:1" && f.Where != "history:4" {
				t.Errorf("unexpected finding %+v", f)
			}
		}
	})
	t.Run("multi-line value has lines", func(t *testing.T) {
		got := s.ScanHistory([]string{"RUN /bin/sh -c cat > /etc/app.conf <<EOF\nname = app\ntoken = " + p.GitHubToken + "\nEOF\n"})
		match(t, got, "history:0", []want{{"github-pat", 3, p.GitHubToken}})
	})
}

func filterWhere(fs []secrets.Finding, where string) []secrets.Finding {
	var out []secrets.Finding
	for _, f := range fs {
		if f.Where == where {
			out = append(out, f)
		}
	}
	return out
}

// elfLike is a binary blob: NUL bytes make it binary, strings are
// NUL-terminated as a C compiler lays them out.
func elfLike(strs ...string) []byte {
	b := []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	for _, s := range strs {
		b = append(b, s...)
		b = append(b, 0, 0x90, 0x13, 0)
	}
	return b
}

func TestScanTree(t *testing.T) {
	p := secretstest.Generate(t)
	auth := base64.StdEncoding.EncodeToString([]byte("deploy:" + p.Password))
	l := rootfstest.New(t).
		File("/root/.aws/credentials", []byte("[default]\naws_access_key_id = "+p.AWSAccessKeyID+"\naws_secret_access_key = "+p.AWSSecretAccessKey+"\n"), 0o600).
		File("/home/app/.docker/config.json", []byte(`{"auths":{"registry.example":{"auth":"`+auth+`"}}}`), 0o600).
		File("/home/other/.docker/config.json", []byte(`{"credsStore":"desktop"}`), 0o600).
		File("/app/.npmrc", []byte("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"), 0o644).
		File("/srv/.npmrc", []byte("registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken="+p.NPMToken+"\n"), 0o644).
		File("/root/.netrc", []byte("machine ftp.example.com login me password "+p.Password+"\n"), 0o600).
		File("/root/.pypirc", []byte("[pypi]\nusername = __token__\npassword = "+p.Password+"\n"), 0o600).
		File("/root/.git-credentials", []byte("https://me:"+url.PathEscape(p.Password)+"@git.example.com\n"), 0o600).
		File("/var/lib/postgresql/.pgpass", []byte("# comment\ndb:5432:app:app:"+p.Password+"\n"), 0o600).
		File("/root/.ssh/id_ed25519", []byte(p.PrivateKeyPEM), 0o600).
		File("/home/app/.ssh/id_rsa", []byte("opaque key material\n"), 0o600).
		File("/usr/local/bin/app", elfLike("usage: app", "AKIA config follows", p.AWSAccessKeyID, "-----BEGIN PRIVATE KEY-----\n"+pemBody(p.PrivateKeyPEM)+"\n-----END PRIVATE KEY-----"), 0o755).
		File("/usr/local/bin/packed", append([]byte("\x00\x01\x02"), "runtime.mainglpat-_live_HK1042HK1099HK1043xyz\x00"...), 0o755).
		File("/data/big.log", []byte(strings.Repeat("x", 2048)+"token="+p.GitHubToken), 0o644).
		File("/fixtures/test.pem", []byte(p.PrivateKeyPEM), 0o644).
		Symlink("/etc/key-link", "/root/.ssh/id_ed25519").
		File("/etc/app/token.conf", []byte("token = "+p.GitHubToken+"\n"), 0o644).
		Hardlink("/etc/app/token2.conf", "/etc/app/token.conf")
	tree, src := l.Load()
	s := newScanner(t, secrets.Options{MaxFileSize: 2048, AllowPaths: []string{"/fixtures/**"}})
	res, err := s.ScanTree(t.Context(), tree, src)
	if err != nil {
		t.Fatal(err)
	}
	got, unscanned := res.Findings, res.Unscanned
	key := pemBody(p.PrivateKeyPEM)
	for where, wants := range map[string][]want{
		"file:/root/.aws/credentials":          {{"aws-access-token", 2, p.AWSAccessKeyID}, {"", 3, p.AWSSecretAccessKey}, {secrets.RuleCredentialFile, 3, p.AWSSecretAccessKey}},
		"file:/home/app/.docker/config.json":   {{secrets.RuleCredentialFile, 1, auth}},
		"file:/srv/.npmrc":                     {{"npm-access-token", 2, p.NPMToken}, {secrets.RuleCredentialFile, 2, p.NPMToken}},
		"file:/root/.netrc":                    {{secrets.RuleCredentialFile, 1, p.Password}},
		"file:/root/.pypirc":                   {{secrets.RuleCredentialFile, 3, p.Password}},
		"file:/root/.git-credentials":          {{secrets.RuleCredentialFile, 1, url.PathEscape(p.Password)}},
		"file:/var/lib/postgresql/.pgpass":     {{secrets.RuleCredentialFile, 2, p.Password}},
		"file:/root/.ssh/id_ed25519":           {{secrets.RulePrivateKey, 1, key}},
		"file:/home/app/.ssh/id_rsa":           {{secrets.RuleCredentialFile, 0, "opaque key material\n"}},
		"file:/usr/local/bin/app":              {{"aws-access-token", 0, p.AWSAccessKeyID}, {secrets.RulePrivateKey, 0, key}},
		"file:/etc/app/token.conf":             {{"github-pat", 1, p.GitHubToken}},
		"file:/data/big.log":                   {{"github-pat", 1, p.GitHubToken}},
		"file:/home/other/.docker/config.json": nil,
		"file:/app/.npmrc":                     nil,
		"file:/usr/local/bin/packed":           nil,
	} {
		match(t, filterWhere(got, where), where, wants)
	}
	for _, f := range got {
		if strings.HasPrefix(f.Where, "file:/fixtures/") || f.Where == "file:/etc/key-link" || f.Where == "file:/etc/app/token2.conf" {
			t.Errorf("finding %+v: allow-listed paths, symlinks and second hard links are not scanned", f)
		}
	}
	if len(unscanned) != 0 {
		t.Errorf("unscanned = %v, want none: a file over the read size is read in pieces", unscanned)
	}
	if !slices.IsSortedFunc(got, func(a, b secrets.Finding) int { return strings.Compare(a.Where, b.Where) }) {
		t.Errorf("findings are not sorted by place: %+v", got)
	}
}

func TestScanContext(t *testing.T) {
	p := secretstest.Generate(t)
	l := rootfstest.New(t).
		File("/config/key.pem", []byte(p.PrivateKeyPEM), 0o644).
		File("/big.bin", []byte(strings.Repeat("y", 300)), 0o644)
	tree, src := l.Load()
	s := newScanner(t, secrets.Options{MaxFileSize: 299})
	res, err := s.ScanContext(t.Context(), tree, src)
	if err != nil {
		t.Fatal(err)
	}
	match(t, res.Findings, "context:config/key.pem", []want{{secrets.RulePrivateKey, 1, pemBody(p.PrivateKeyPEM)}})
	if len(res.Unscanned) != 0 || res.Stats.Files != 2 {
		t.Errorf("unscanned = %v, stats %+v; want both files scanned", res.Unscanned, res.Stats)
	}
}

func TestAllowRules(t *testing.T) {
	p := secretstest.Generate(t)
	s := newScanner(t, secrets.Options{AllowRules: []string{"github-pat", secrets.RuleSecretName}})
	if got := s.ScanEnv([]string{"GITHUB_TOKEN=" + p.GitHubToken}); len(got) != 0 {
		t.Errorf("allow-listed rules reported: %+v", got)
	}
	if got := s.ScanBytes("file:/x", []byte(p.PrivateKeyPEM)); len(got) != 1 {
		t.Errorf("other rules must still report: %+v", got)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	p := secretstest.Generate(t)
	for _, tc := range []struct {
		name string
		opts secrets.Options
		msg  string
	}{
		{"unknown rule", secrets.Options{AllowRules: []string{"no-such-rule"}}, `"no-such-rule"`},
		{"secret pasted as rule", secrets.Options{AllowRules: []string{p.GitHubToken}}, "allow rule #1"},
		{"bad glob", secrets.Options{AllowPaths: []string{"a/**b"}}, "allow path"},
		{"negative size", secrets.Options{MaxFileSize: -1}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secrets.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("New error = %v, want it to mention %s", err, tc.msg)
			}
			secretstest.AssertNoLeak(t, p, "error", err.Error())
		})
	}
}

// failingSource fails reads of one path.
type failingSource struct {
	rootfs.Source
	path string
}

func (f failingSource) ReadFile(ctx context.Context, p string, off, n int64) ([]byte, error) {
	if p == f.path {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("gateway went away")}
	}
	return f.Source.ReadFile(ctx, p, off, n)
}

func TestScanTreeFailsClosed(t *testing.T) {
	l := rootfstest.New(t).File("/a", []byte("hello"), 0o644).File("/b", []byte("world"), 0o644)
	tree, src := l.Load()
	s := newScanner(t, secrets.Options{})
	if _, err := s.ScanTree(t.Context(), tree, failingSource{src, "/b"}); err == nil || !strings.Contains(err.Error(), "/b") {
		t.Errorf("read error: ScanTree err = %v, want an error naming /b", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.ScanTree(ctx, tree, src); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: ScanTree err = %v, want context.Canceled", err)
	}
}

// TestRedaction plants every kind of secret in every place a Scanner
// looks, and checks that nothing it returns — findings as JSON, as %+v,
// as %v, unscanned names, errors — holds any of them or their base64.
func TestRedaction(t *testing.T) {
	p := secretstest.Generate(t)
	s := newScanner(t, secrets.Options{MaxFileSize: 4096})
	content := strings.Join([]string{
		"aws_access_key_id=" + p.AWSAccessKeyID, "aws_secret_access_key=" + p.AWSSecretAccessKey,
		"github_token=" + p.GitHubToken, "jwt: " + p.JWT, "password=" + p.Password, "npm_token=" + p.NPMToken,
		p.PrivateKeyPEM,
	}, "\n")
	l := rootfstest.New(t).
		File("/etc/app.conf", []byte(content), 0o644).
		File("/root/.netrc", []byte("machine x login y password "+p.Password), 0o600).
		File("/bin/app", elfLike(p.GitHubToken, p.PrivateKeyPEM), 0o755)
	tree, src := l.Load()
	var all []secrets.Finding
	fsFound, err := s.ScanTree(t.Context(), tree, src)
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, fsFound.Findings...)
	unscanned := fsFound.Unscanned
	ctxFound, err := s.ScanContext(t.Context(), tree, src)
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, ctxFound.Findings...)
	all = append(all, s.ScanEnv([]string{"AWS_SECRET_ACCESS_KEY=" + p.AWSSecretAccessKey, "DB_PASSWORD=" + p.Password, "SESSION=" + p.JWT})...)
	all = append(all, s.ScanLabels(map[string]string{"token": p.GitHubToken, "key": p.PrivateKeyPEM})...)
	all = append(all, s.ScanBuildArgs(map[string]string{"NPM_TOKEN": p.NPMToken, "AWS_ACCESS_KEY_ID": p.AWSAccessKeyID})...)
	all = append(all, s.ScanHistory([]string{"RUN |2 NPM_TOKEN=" + p.NPMToken + " PASSWORD=" + p.Password + " /bin/sh -c make"})...)
	all = append(all, s.ScanBytes("label:x", []byte(content))...)
	if len(all) < 20 {
		t.Fatalf("only %d findings: the planted secrets were not found", len(all))
	}
	js, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	_, errNew := secrets.New(secrets.Options{AllowRules: []string{p.Password}, AllowPaths: []string{"/x/**y"}})
	_, errRead := s.ScanTree(t.Context(), tree, failingSource{src, "/etc/app.conf"})
	for what, out := range map[string]string{
		"JSON":          string(js),
		"%+v":           fmt.Sprintf("%+v", all),
		"%v":            fmt.Sprintf("%v", all),
		"%#v":           fmt.Sprintf("%#v", all),
		"unscanned":     strings.Join(unscanned, "\n"),
		"New error":     fmt.Sprint(errNew),
		"read error":    fmt.Sprint(errRead),
		"scanner value": fmt.Sprintf("%+v", s),
	} {
		secretstest.AssertNoLeak(t, p, what, out)
	}
}

// TestDebianMinbaseClean is the false-positive check: a stock Debian
// minbase root filesystem has no secrets.
func TestDebianMinbaseClean(t *testing.T) {
	root := secretstest.DebianMinbase(t)
	src := rootfs.DirSource(root)
	tree, err := rootfs.Load(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := newScanner(t, secrets.Options{}).ScanTree(t.Context(), tree, src)
	if err != nil {
		t.Fatal(err)
	}
	if got, unscanned := res.Findings, res.Unscanned; len(got) > 0 || len(unscanned) > 0 {
		t.Errorf("Debian minbase: findings %+v, unscanned %v; want none", got, unscanned)
	}
}

// TestFrontendBinaryClean is the false-positive check for hardenkit's
// own frontend image: its static binary embeds gitleaks' rules, syft's
// and grype's catalogers and every dependency's module checksums, and
// must not match its own detectors. It is scanned whole, whatever the
// policy's size limit.
func TestFrontendBinaryClean(t *testing.T) {
	bin := secretstest.FrontendBinary(t)
	dt, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got := newScanner(t, secrets.Options{}).ScanBytes(secrets.WhereFile+"/bin/hardenkit-frontend", dt); len(got) > 0 {
		t.Errorf("frontend binary (%d bytes): findings %+v, want none", len(dt), got)
	}
}

// TestGitleaksAllowedPaths: the files gitleaks' global allow-lists skip
// by path — binary and media extensions, node_modules, installed Python
// libraries — are scanned with the high-confidence detectors in an
// image, where any program picks its files' names; the low-confidence
// ones stay off them.
func TestGitleaksAllowedPaths(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	p := secretstest.Generate(t)
	generic := []byte(`api_key = "` + genericValue(t) + `"` + "\n")
	if got := s.ScanBytes("file:/app/settings.py", generic); len(got) != 1 || got[0].Rule != "generic-api-key" {
		t.Fatalf("generic assignment elsewhere: findings %+v, want generic-api-key", got)
	}
	for _, where := range []string{
		"file:/app/token.bin",
		"file:/app/logo.png",
		"file:/app/node_modules/left-pad/index.js",
		"file:/usr/lib/python3.11/site-packages/app/settings.py",
	} {
		t.Run(where, func(t *testing.T) {
			got := s.ScanBytes(where, []byte("deploy = "+p.GitHubToken+"\n"))
			if len(got) != 1 || got[0].Rule != "github-pat" || got[0].Fingerprint != secrets.Fingerprint(p.GitHubToken) {
				t.Errorf("findings %+v: want the token as github-pat", got)
			}
			if got := s.ScanBytes(where, generic); len(got) != 0 {
				t.Errorf("generic assignment: findings %+v, want none on an allow-listed path", got)
			}
		})
	}
}
