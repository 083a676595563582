package inspect_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// only is a policy that evaluates the given rules at enforce and switches
// every other rule off, so a case sees only what it is about.
func only(ids ...string) *policy.Policy {
	p := &policy.Policy{Defaults: policy.Defaults{Level: rules.LevelOff}, Rules: map[string]rules.Level{}}
	for _, id := range ids {
		p.Rules[id] = rules.LevelEnforce
	}
	return p
}

// image returns a config with the given user and nothing else.
func image(user string) *dockerspec.DockerOCIImage {
	img := &dockerspec.DockerOCIImage{}
	img.Config.User = user
	return img
}

const basePasswd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/usr/sbin/nologin\n"
const baseGroup = "root:x:0:\napp:x:1000:\n"

// base is a small valid root filesystem: passwd, group, a shell.
func base(t *testing.T) *rootfstest.Layout {
	return rootfstest.New(t).
		File("/etc/passwd", []byte(basePasswd), 0o644).
		File("/etc/group", []byte(baseGroup), 0o644).
		File("/bin/sh", []byte("#!shell\n"), 0o755)
}

// at is a compact (rule, file, line) for comparisons.
type at struct {
	rule, file string
	line       int
}

func ats(fs []rules.Finding) []at {
	out := []at{}
	for _, f := range fs {
		out = append(out, at{f.Rule, f.File, f.Line})
	}
	return out
}

func run(t *testing.T, l *rootfstest.Layout, img *dockerspec.DockerOCIImage, p *policy.Policy) inspect.Result {
	t.Helper()
	tree, src := l.Load()
	res, err := inspect.Run(t.Context(), inspect.Input{Tree: tree, Src: src, Image: img, Policy: p})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// TestChecks plants each check's case in a root filesystem or config and
// asserts exactly which findings the check's rules report.
func TestChecks(t *testing.T) {
	p := secretstest.Generate(t)
	for _, tc := range []struct {
		name  string
		rules []string
		build func(l *rootfstest.Layout) *rootfstest.Layout
		img   func(img *dockerspec.DockerOCIImage)
		args  map[string]string
		want  []at
	}{
		{name: "setuid and setgid files", rules: []string{"HK3010"},
			build: func(l *rootfstest.Layout) *rootfstest.Layout {
				return l.File("/usr/bin/su", []byte("x"), 0o755|fs.ModeSetuid).
					File("/usr/bin/wall", []byte("x"), 0o755|fs.ModeSetgid).
					File("/usr/bin/ok", []byte("x"), 0o755).
					Dir("/var/mail")
			},
			want: []at{{"HK3010", "/usr/bin/su", 0}, {"HK3010", "/usr/bin/wall", 0}}},
		{name: "setgid directory is not reported", rules: []string{"HK3010"},
			build: func(l *rootfstest.Layout) *rootfstest.Layout {
				l.Dir("/var/mail")
				if err := os.Chmod(filepath.Join(l.Root, "var/mail"), 0o2775|fs.ModeSetgid); err != nil {
					t.Fatal(err)
				}
				return l
			}},
		{name: "world-writable", rules: []string{"HK3012"},
			build: func(l *rootfstest.Layout) *rootfstest.Layout {
				l = l.File("/app/data.db", []byte("x"), 0o666).
					Dir("/srv/upload").Dir("/srv/shared").Dir("/tmp").
					File("/var/tmp/scratch", []byte("x"), 0o666).
					File("/app/ok", []byte("x"), 0o644).
					Symlink("/app/link", "data.db")
				chmod(t, l, "/srv/upload", 0o777)
				chmod(t, l, "/srv/shared", 0o777|fs.ModeSticky)
				chmod(t, l, "/tmp", 0o777|fs.ModeSticky)
				return l
			},
			// The sticky directories are exempt, not what lies below them.
			want: []at{{"HK3012", "/app/data.db", 0}, {"HK3012", "/srv/upload", 0}, {"HK3012", "/var/tmp/scratch", 0}}},
		{name: "empty password", rules: []string{"HK3020"},
			build: func(l *rootfstest.Layout) *rootfstest.Layout {
				return l.File("/etc/shadow", []byte("root:*:19000:0:99999:7:::\napp::19000:0:99999:7:::\nlocked:!:19000::::::\n"), 0o640)
			},
			want: []at{{"HK3020", "/etc/shadow", 2}}},
		{name: "no shadow file", rules: []string{"HK3020"}},
		{name: "duplicate ids", rules: []string{"HK3021"},
			build: func(l *rootfstest.Layout) *rootfstest.Layout {
				return l.File("/etc/passwd", []byte(basePasswd+"toor:x:0:0::/root:/bin/sh\n"), 0o644).
					File("/etc/group", []byte(baseGroup+"apps:x:1000:\n"), 0o644)
			},
			want: []at{{"HK3021", "/etc/group", 2}, {"HK3021", "/etc/passwd", 1}}},
		{name: "missing login shell", rules: []string{"HK3022"},
			build: func(l *rootfstest.Layout) *rootfstest.Layout {
				return l.File("/etc/passwd", []byte(basePasswd+"dev:x:1001:1001::/home/dev:/bin/zsh\nsvc:x:1002:1002::/:/bin/false\n"), 0o644)
			},
			want: []at{{"HK3022", "/etc/passwd", 3}}},
		{name: "leaked files", rules: []string{"HK3030", "HK3031"},
			build: func(l *rootfstest.Layout) *rootfstest.Layout {
				return l.File("/root/.ssh/id_rsa", []byte("k"), 0o600).
					File("/root/.ssh/known_hosts", []byte("k"), 0o644).
					File("/app/.git/HEAD", []byte("ref: refs/heads/main\n"), 0o644).
					File("/app/.env", []byte("A=1\n"), 0o644).
					File("/app/.env.example", []byte("A=\n"), 0o644).
					File("/app/Dockerfile", []byte("FROM scratch\n"), 0o644).
					File("/app/.main.go.swp", []byte("x"), 0o644).
					File("/app/notes.txt~", []byte("x"), 0o644).
					File("/srv/.npmrc", []byte("//registry.npmjs.org/:_authToken="+p.NPMToken+"\n"), 0o644).
					File("/srv2/.npmrc", []byte("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"), 0o644).
					File("/home/u/.docker/config.json", []byte(`{"auths":{}}`), 0o600).
					File("/etc/ssh/sshd_config", []byte("x"), 0o644)
			},
			want: []at{{"HK3030", "/app/.env", 0}, {"HK3030", "/home/u/.docker/config.json", 0}, {"HK3030", "/root/.ssh", 0},
				{"HK3030", "/srv/.npmrc", 0}, {"HK3031", "/app/.git", 0}, {"HK3031", "/app/.main.go.swp", 0},
				{"HK3031", "/app/Dockerfile", 0}, {"HK3031", "/app/notes.txt~", 0}}},
		{name: "root user", rules: []string{"HK3040"}, img: func(i *dockerspec.DockerOCIImage) { i.Config.User = "" },
			want: []at{{"HK3040", "", 0}}},
		{name: "user root by name", rules: []string{"HK3040"}, img: func(i *dockerspec.DockerOCIImage) { i.Config.User = "root" },
			want: []at{{"HK3040", "", 0}}},
		{name: "numeric user without group runs as GID 0", rules: []string{"HK3040"}, img: func(i *dockerspec.DockerOCIImage) { i.Config.User = "4242" },
			want: []at{{"HK3040", "", 0}}},
		{name: "unknown user", rules: []string{"HK3040"}, img: func(i *dockerspec.DockerOCIImage) { i.Config.User = "ghost" },
			want: []at{{"HK3040", "", 0}}},
		{name: "non-root user", rules: []string{"HK3040"}, img: func(i *dockerspec.DockerOCIImage) { i.Config.User = "app" }},
		{name: "non-root numeric user", rules: []string{"HK3040"}, img: func(i *dockerspec.DockerOCIImage) { i.Config.User = "65532:65532" }},
		{name: "EXPOSE 22", rules: []string{"HK3041"},
			img: func(i *dockerspec.DockerOCIImage) {
				i.Config.ExposedPorts = map[string]struct{}{"22/tcp": {}, "8080/tcp": {}}
			},
			want: []at{{"HK3041", "", 0}}},
		{name: "port range with 22", rules: []string{"HK3041"},
			img:  func(i *dockerspec.DockerOCIImage) { i.Config.ExposedPorts = map[string]struct{}{"20-25/tcp": {}} },
			want: []at{{"HK3041", "", 0}}},
		{name: "other ports", rules: []string{"HK3041"},
			img: func(i *dockerspec.DockerOCIImage) {
				i.Config.ExposedPorts = map[string]struct{}{"2222/tcp": {}, "22/udp": {}}
			}},
		{name: "kernel volumes", rules: []string{"HK3042"},
			img: func(i *dockerspec.DockerOCIImage) {
				i.Config.Volumes = map[string]struct{}{"/proc": {}, "/sys/fs/cgroup": {}, "/dev/": {}, "/data": {}, "/devices": {}}
			},
			want: []at{{"HK3042", "", 0}, {"HK3042", "", 0}, {"HK3042", "", 0}}},
		{name: "tooling", rules: []string{"HK3001", "HK3002", "HK3003", "HK3004"},
			build: func(l *rootfstest.Layout) *rootfstest.Layout {
				return l.File("/usr/bin/apt-get", []byte("x"), 0o755).
					File("/usr/bin/curl", []byte("curl"), 0o755).
					File("/usr/bin/strace", []byte("strace"), 0o755).
					File("/usr/local/bin/app", []byte("app"), 0o755).
					File("/usr/share/doc/curl/README", []byte("x"), 0o644)
			},
			want: []at{{"HK3001", "/usr/bin/apt-get", 0}, {"HK3002", "/usr/bin/curl", 0}, {"HK3003", "/usr/bin/strace", 0}, {"HK3004", "/bin/sh", 0}}},
		{name: "secrets in Env and labels", rules: []string{"HK3050"},
			img: func(i *dockerspec.DockerOCIImage) {
				i.Config.Env = []string{"PATH=/usr/bin", "GITHUB_TOKEN=" + p.GitHubToken}
				i.Config.Labels = map[string]string{"session": p.JWT, "org.opencontainers.image.title": "app"}
			},
			want: []at{{"HK3050", "env:GITHUB_TOKEN", 0}, {"HK3050", "label:session", 0}}},
		{name: "secret in history", rules: []string{"HK3051"},
			img: func(i *dockerspec.DockerOCIImage) {
				i.History = []ocispec.History{{CreatedBy: "ADD rootfs.tar / # buildkit"}, {CreatedBy: "RUN |1 NPM_TOKEN=" + p.NPMToken + " /bin/sh -c npm ci # buildkit"}}
			},
			want: []at{{"HK3051", "history:1", 0}}},
		{name: "secret build arg", rules: []string{"HK3053"}, args: map[string]string{"NPM_TOKEN": p.NPMToken, "VERSION": "1.0"},
			want: []at{{"HK3053", "build-arg:NPM_TOKEN", 0}}},
		{name: "secret in a file", rules: []string{"HK3052"},
			build: func(l *rootfstest.Layout) *rootfstest.Layout {
				return l.File("/etc/app/app.ini", []byte("[aws]\naws_access_key_id = "+p.AWSAccessKeyID+"\n"), 0o644).
					File("/etc/app/key.pem", []byte(p.PrivateKeyPEM), 0o600)
			},
			want: []at{{"HK3052", "/etc/app/app.ini", 2}, {"HK3052", "/etc/app/key.pem", 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := base(t)
			if tc.build != nil {
				l = tc.build(l)
			}
			img := image("app")
			if tc.img != nil {
				tc.img(img)
			}
			tree, src := l.Load()
			res, err := inspect.Run(t.Context(), inspect.Input{Tree: tree, Src: src, Image: img, Policy: only(tc.rules...), BuildArgs: tc.args})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			want := tc.want
			if want == nil {
				want = []at{}
			}
			if got := ats(res.Findings); !slices.Equal(got, want) {
				t.Errorf("findings %v, want %v\n%+v", got, want, res.Findings)
			}
			for _, id := range tc.rules {
				wantStatus := inspect.StatusPass
				if slices.ContainsFunc(want, func(a at) bool { return a.rule == id }) {
					wantStatus = inspect.StatusFail
				}
				if res.Status[id] != wantStatus {
					t.Errorf("status of %s = %q, want %q", id, res.Status[id], wantStatus)
				}
			}
			if len(res.Status) != len(tc.rules) {
				t.Errorf("statuses %v: off rules must not be evaluated", res.Status)
			}
			for _, f := range res.Findings {
				if f.Level != rules.LevelEnforce || f.Message == "" {
					t.Errorf("finding %+v: want level enforce and a message", f)
				}
			}
		})
	}
}

func chmod(t *testing.T, l *rootfstest.Layout, p string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(filepath.Join(l.Root, p), mode); err != nil {
		t.Fatal(err)
	}
}

func TestFileCapabilities(t *testing.T) {
	l := base(t).File("/usr/bin/ping", []byte("x"), 0o755).File("/usr/bin/plain", []byte("x"), 0o755)
	// struct vfs_cap_data, revision 2, effective, cap_net_raw (13) permitted.
	v := make([]byte, 20)
	binary.LittleEndian.PutUint32(v, 0x02000001)
	binary.LittleEndian.PutUint32(v[4:], 1<<13)
	if err := unix.Lsetxattr(filepath.Join(l.Root, "usr/bin/ping"), "security.capability", v, 0); err != nil {
		t.Fatalf("setting security.capability needs CAP_SETFCAP (run the unit tests as root, as CI does): %v", err)
	}
	res := run(t, l, image("app"), only("HK3011"))
	if got := ats(res.Findings); !slices.Equal(got, []at{{"HK3011", "/usr/bin/ping", 0}}) {
		t.Fatalf("findings %v", got)
	}
	if !strings.Contains(res.Findings[0].Message, "cap_net_raw=ep") {
		t.Errorf("message %q does not name the capability", res.Findings[0].Message)
	}
}

func TestToolingKeep(t *testing.T) {
	l := base(t).File("/usr/bin/curl", []byte("curl"), 0o755)
	p := only("HK3002", "HK3004")
	p.Controls.Tooling.Keep = []string{"/usr/bin/curl"}
	p.Controls.Tooling.Shells = []string{}
	res := run(t, l, image("app"), p)
	if len(res.Findings) != 0 {
		t.Errorf("kept and unlisted tools reported: %+v", res.Findings)
	}
}

func TestLevelsAndStatuses(t *testing.T) {
	l := base(t).File("/usr/bin/su", []byte("x"), 0o755|fs.ModeSetuid).File("/srv/db", []byte("x"), 0o666)
	p := &policy.Policy{Defaults: policy.Defaults{Level: rules.LevelOff}, Rules: map[string]rules.Level{
		"HK3010": rules.LevelWarn, "HK3012": rules.LevelEnforce, "HK3020": rules.LevelEnforce,
	}}
	res := run(t, l, image("app"), p)
	want := map[string]inspect.Status{"HK3010": inspect.StatusWarn, "HK3012": inspect.StatusFail, "HK3020": inspect.StatusPass}
	if !maps.Equal(res.Status, want) {
		t.Errorf("statuses %v, want %v", res.Status, want)
	}
	// An exception waives the setuid finding and half of nothing else.
	fs := slices.Clone(res.Findings)
	for i := range fs {
		if fs[i].Rule == "HK3010" || fs[i].Rule == "HK3012" {
			fs[i].Level, fs[i].Waiver = rules.LevelWaived, "EXC-1"
		}
	}
	waived := res.WithFindings(fs)
	want = map[string]inspect.Status{"HK3010": inspect.StatusWaived, "HK3012": inspect.StatusWaived, "HK3020": inspect.StatusPass}
	if !maps.Equal(waived.Status, want) {
		t.Errorf("after waivers: statuses %v, want %v", waived.Status, want)
	}
	if res.Status["HK3010"] != inspect.StatusWarn {
		t.Error("WithFindings modified the original result")
	}
}

// failingSource fails reads of one path, as a gateway that went away
// would.
type failingSource struct {
	rootfs.Source
	path string
}

func (f failingSource) ReadFile(ctx context.Context, p string, off, n int64) ([]byte, error) {
	if p == f.path {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("gateway unavailable")}
	}
	return f.Source.ReadFile(ctx, p, off, n)
}

func TestFailsClosed(t *testing.T) {
	tree, src := base(t).File("/etc/shadow", []byte("root:*:1::::::\n"), 0o640).Load()
	in := inspect.Input{Tree: tree, Src: failingSource{src, "/etc/passwd"}, Image: image("app"), Policy: only("HK3040", "HK3021", "HK3022", "HK3020")}
	res, err := inspect.Run(t.Context(), in)
	if err == nil || !strings.Contains(err.Error(), "/etc/passwd") {
		t.Fatalf("Run error = %v, want one about /etc/passwd", err)
	}
	want := map[string]inspect.Status{"HK3040": inspect.StatusError, "HK3021": inspect.StatusError, "HK3022": inspect.StatusError, "HK3020": inspect.StatusPass}
	if !maps.Equal(res.Status, want) {
		t.Errorf("statuses %v, want %v", res.Status, want)
	}
	if res.Errors["HK3040"] == "" {
		t.Error("no error message for HK3040")
	}
	// The secret scan fails the same way on an unreadable file.
	in.Src, in.Policy = failingSource{src, "/etc/shadow"}, only("HK3052")
	if res, err := inspect.Run(t.Context(), in); err == nil || res.Status["HK3052"] != inspect.StatusError {
		t.Errorf("secret scan over an unreadable file: err %v, status %q", err, res.Status["HK3052"])
	}
	// A policy the scanner rejects is an error, not a scan with defaults.
	bad := only("HK3050")
	bad.Controls.Secrets.AllowRules = []string{"no-such-detector"}
	in.Src, in.Policy = src, bad
	if res, err := inspect.Run(t.Context(), in); err == nil || res.Status["HK3050"] != inspect.StatusError {
		t.Errorf("bad secrets policy: err %v, status %q", err, res.Status["HK3050"])
	}
	if _, err := inspect.Run(t.Context(), inspect.Input{Tree: tree, Src: src}); err == nil {
		t.Error("Run without an image config succeeded")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := inspect.Run(ctx, inspect.Input{Tree: tree, Src: src, Image: image("app")}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Run: err = %v", err)
	}
}

// TestLargeFileScanned: a file over controls.secrets.maxFileSize is read
// in pieces, not skipped — a token at its very end fails HK3052.
func TestLargeFileScanned(t *testing.T) {
	planted := secretstest.Generate(t)
	big := append(bytes.Repeat([]byte("log line without anything in it\n"), 3<<20/32), []byte("token = "+planted.GitHubToken+"\n")...)
	l := base(t).File("/data/huge.log", big, 0o644)
	p := only("HK3052")
	p.Controls.Secrets.MaxFileSize = 1024
	res := run(t, l, image("app"), p)
	if len(res.Unscanned) != 0 || res.Status["HK3052"] != inspect.StatusFail {
		t.Errorf("unscanned %v, HK3052 %s; want the file scanned and the rule failed", res.Unscanned, res.Status["HK3052"])
	}
	if got := ats(res.Findings); !slices.Contains(got, at{"HK3052", "/data/huge.log", bytes.Count(big, []byte("\n"))}) {
		t.Errorf("findings %v: want the token at the last line of /data/huge.log", got)
	}
	if res.SecretStats == nil || res.SecretStats.Chunked != 1 {
		t.Errorf("stats %+v: want one file read in pieces", res.SecretStats)
	}
}

func TestContextSecrets(t *testing.T) {
	p := secretstest.Generate(t)
	tree, src := rootfstest.New(t).File("/config/key.pem", []byte(p.PrivateKeyPEM), 0o600).File("/main.go", []byte("package main\n"), 0o644).Load()
	pol := only("HK3054")
	pol.Rules["HK3054"] = rules.LevelWarn
	fs, unscanned, _, err := inspect.ContextSecrets(t.Context(), tree, src, pol)
	if err != nil {
		t.Fatal(err)
	}
	if got := ats(fs); !slices.Equal(got, []at{{"HK3054", "context:config/key.pem", 1}}) || fs[0].Level != rules.LevelWarn || len(unscanned) != 0 {
		t.Errorf("ContextSecrets = %+v, %v", fs, unscanned)
	}
	if fs, _, _, _ := inspect.ContextSecrets(t.Context(), tree, src, only()); len(fs) != 0 {
		t.Errorf("HK3054 off: %+v", fs)
	}
}

func TestScanDir(t *testing.T) {
	l := base(t).File("/usr/bin/su", []byte("x"), 0o755|fs.ModeSetuid)
	res, err := inspect.ScanDir(t.Context(), l.Root, image("app"), only("HK3010"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ats(res.Findings); !slices.Equal(got, []at{{"HK3010", "/usr/bin/su", 0}}) {
		t.Errorf("findings %v", got)
	}
	// The in-build scanner hands its result back as JSON.
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back inspect.Result
	if err := json.Unmarshal(js, &back); err != nil || !slices.Equal(ats(back.Findings), ats(res.Findings)) || !maps.Equal(back.Status, res.Status) {
		t.Errorf("JSON round trip: %v, %+v", err, back)
	}
}

// TestRedaction plants every kind of secret in every place inspection
// looks — files (text and binary), Env, labels, history, build args, the
// build context — and checks that no output carries any of them: the
// result as JSON and as %+v, error strings, unscanned names.
func TestRedaction(t *testing.T) {
	p := secretstest.Generate(t)
	all := strings.Join([]string{"aws_access_key_id = " + p.AWSAccessKeyID, "aws_secret_access_key = " + p.AWSSecretAccessKey,
		"github = " + p.GitHubToken, "jwt = " + p.JWT, "password = " + p.Password, "npm = " + p.NPMToken, p.PrivateKeyPEM}, "\n")
	l := base(t).
		File("/etc/app.conf", []byte(all), 0o644).
		File("/root/.aws/credentials", []byte("[default]\naws_access_key_id="+p.AWSAccessKeyID+"\naws_secret_access_key="+p.AWSSecretAccessKey+"\n"), 0o600).
		File("/root/.ssh/id_ed25519", []byte(p.PrivateKeyPEM), 0o600).
		File("/usr/local/bin/app", append([]byte("\x7fELF\x00\x00"), []byte(all+"\x00")...), 0o755).
		File("/srv/.npmrc", []byte("//r/:_authToken="+p.NPMToken+"\n"), 0o644).
		File("/big/blob", []byte(strings.Repeat(p.GitHubToken+"\n", 2000)), 0o644)
	img := image("")
	img.Config.Env = []string{"AWS_SECRET_ACCESS_KEY=" + p.AWSSecretAccessKey, "DB_PASSWORD=" + p.Password, "GITHUB_TOKEN=" + p.GitHubToken}
	img.Config.Labels = map[string]string{"jwt": p.JWT, "key": p.PrivateKeyPEM}
	img.History = []ocispec.History{{CreatedBy: "RUN |2 NPM_TOKEN=" + p.NPMToken + " PASSWORD=" + p.Password + " /bin/sh -c make # buildkit"},
		{CreatedBy: "ENV AWS_ACCESS_KEY_ID=" + p.AWSAccessKeyID}}
	args := map[string]string{"NPM_TOKEN": p.NPMToken, "GITHUB_TOKEN": p.GitHubToken, "DB_PASSWORD": p.Password}
	pol, err := policy.Baseline(policy.BaselineStrict)
	if err != nil {
		t.Fatal(err)
	}
	pol.Controls.Secrets.MaxFileSize = 64 << 10
	tree, src := l.Load()
	res, err := inspect.Run(t.Context(), inspect.Input{Tree: tree, Src: src, Image: img, Policy: pol, BuildArgs: args})
	if err != nil {
		t.Fatal(err)
	}
	ctxFindings, _, _, err := inspect.ContextSecrets(t.Context(), tree, src, pol)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"HK3030", "HK3050", "HK3051", "HK3052", "HK3053"} {
		if res.Status[id] != inspect.StatusFail {
			t.Errorf("status of %s = %q: the planted secrets were not all found", id, res.Status[id])
		}
	}
	if len(ctxFindings) == 0 || len(res.Unscanned) != 0 {
		t.Errorf("context findings %d, unscanned %v", len(ctxFindings), res.Unscanned)
	}
	js, err := json.Marshal(struct {
		Result  inspect.Result
		Context []rules.Finding
	}{res, ctxFindings})
	if err != nil {
		t.Fatal(err)
	}
	_, errRead := inspect.Run(t.Context(), inspect.Input{Tree: tree, Src: failingSource{src, "/etc/app.conf"}, Image: img, Policy: pol, BuildArgs: args})
	for what, out := range map[string]string{
		"JSON":       string(js),
		"%+v":        fmt.Sprintf("%+v %+v", res, ctxFindings),
		"%#v":        fmt.Sprintf("%#v", res.Findings),
		"read error": fmt.Sprint(errRead),
	} {
		secretstest.AssertNoLeak(t, p, what, out)
	}
}

// TestDebianMinbaseFindings is the false-positive check: inspecting a
// stock Debian minbase root filesystem with the config of the official
// debian image, under the strict policy, reports exactly what an
// unhardened Debian base really has — apt and dpkg, the shells, the
// shadow suite's setuid programs, and a root user — and nothing else:
// no secrets, no leaked files, no world-writable paths.
func TestDebianMinbaseFindings(t *testing.T) {
	root := secretstest.DebianMinbase(t)
	img := &dockerspec.DockerOCIImage{}
	img.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	img.Config.Cmd = []string{"bash"}
	img.History = []ocispec.History{{CreatedBy: "# debian.sh --arch 'amd64' out/ 'bookworm' '@1767225600'", Comment: "debuerreotype 0.15"}}
	pol, err := policy.Baseline(policy.BaselineStrict)
	if err != nil {
		t.Fatal(err)
	}
	res, err := inspect.ScanDir(t.Context(), root, img, pol)
	if err != nil {
		t.Fatal(err)
	}
	fired := map[string]int{}
	for _, f := range res.Findings {
		fired[f.Rule]++
	}
	want := []string{"HK3001", "HK3004", "HK3010", "HK3040"}
	if got := slices.Sorted(maps.Keys(fired)); !slices.Equal(got, want) {
		t.Errorf("rules firing on Debian minbase: %v, want %v", fired, want)
		for _, f := range res.Findings {
			if !slices.Contains(want, f.Rule) {
				t.Logf("unexpected: %+v", f)
			}
		}
	}
	for _, f := range res.Findings {
		if f.Rule == "HK3010" && !strings.HasPrefix(f.File, "/usr/") {
			t.Errorf("setuid finding outside /usr: %+v", f)
		}
	}
	if len(res.Unscanned) != 0 {
		t.Errorf("unscanned: %v", res.Unscanned)
	}
	for id, s := range res.Status {
		if s == inspect.StatusError {
			t.Errorf("%s: %s", id, res.Errors[id])
		}
	}
	t.Logf("Debian minbase: %v", fired)
}

func TestRules(t *testing.T) {
	seen := map[string]bool{}
	cis := map[string]bool{"4.1": true, "4.3": true, "4.8": true, "4.10": true}
	for _, r := range inspect.Rules() {
		if seen[r.ID] || !strings.HasPrefix(r.ID, "HK3") || r.Name == "" || r.Title == "" || r.Rationale == "" || r.Remediation == "" {
			t.Errorf("rule %+v: duplicate or incomplete", r)
		}
		seen[r.ID] = true
		if r.Stage != rules.StageImage || r.HelpURI != rules.HelpURI(r.ID) {
			t.Errorf("rule %s: stage %q, help %q", r.ID, r.Stage, r.HelpURI)
		}
		for _, c := range r.CIS {
			if !cis[c] {
				t.Errorf("rule %s: CIS item %s is not one inspection maps to", r.ID, c)
			}
		}
	}
	if !slices.IsSortedFunc(inspect.Rules(), func(a, b rules.Rule) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("Rules is not sorted")
	}
}
