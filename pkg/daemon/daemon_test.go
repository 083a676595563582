package daemon

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestArgs(t *testing.T) {
	l := newLayout("/s")
	want := []string{
		"--root", "/s/root",
		"--addr", "unix:///s/buildkitd.sock",
		"--otel-socket-path", "/s/otel.sock",
		"--config", "/s/buildkitd.toml",
		"--oci-worker=true",
		"--containerd-worker=false",
	}
	if got := l.args(false); !slices.Equal(got, want) {
		t.Fatalf("args(false) = %q, want %q", got, want)
	}
	if got := l.args(true); !slices.Equal(got, append(want, "--debug")) {
		t.Fatalf("args(true) = %q", got)
	}
}

func TestLayoutsDoNotCollide(t *testing.T) {
	a, b := newLayout("/x/a"), newLayout("/x/b")
	for _, pair := range [][2]string{{a.root, b.root}, {a.sock, b.sock}, {a.otel, b.otel}, {a.pid, b.pid}, {a.lock, b.lock}} {
		if pair[0] == pair[1] {
			t.Fatalf("two state dirs share %s", pair[0])
		}
	}
}

func TestCheckSocketPaths(t *testing.T) {
	if err := newLayout("/tmp/hk").checkSocketPaths(); err != nil {
		t.Fatal(err)
	}
	long := "/" + strings.Repeat("d", 100)
	err := newLayout(long).checkSocketPaths()
	if err == nil || !strings.Contains(err.Error(), "shorter state directory") {
		t.Fatalf("want socket length error, got %v", err)
	}
}

func TestRenderConfig(t *testing.T) {
	tests := []struct {
		name    string
		extra   string
		maxUsed string
		want    []string
		wantErr string
	}{
		{name: "base", want: []string{"[worker.oci]", "enabled = true", `snapshotter = "overlayfs"`}},
		{
			name:  "extra appended",
			extra: "[registry.\"127.0.0.1:5000\"]\n  http = true",
			want:  []string{"[worker.oci]", `[registry."127.0.0.1:5000"]`, "http = true\n"},
		},
		{
			name:  "mirror and http registry",
			extra: "[registry.\"docker.io\"]\n  mirrors = [\"127.0.0.1:5055\"]\n[registry.\"127.0.0.1:5055\"]\n  http = true\n  insecure = true\n",
			want:  []string{`mirrors = ["127.0.0.1:5055"]`, `[registry."127.0.0.1:5055"]`},
		},
		{name: "bounded cache", maxUsed: "30GB", want: []string{"[worker.oci]", "gc = true", `maxUsedSpace = "30GB"`}},
		{name: "invalid cache bound", maxUsed: "lots", wantErr: "invalid buildkitd configuration"},
		{name: "invalid toml", extra: "[registry", wantErr: "invalid buildkitd configuration"},
		{name: "redefines worker.oci", extra: "[worker.oci]\nenabled = false\n", wantErr: "must not redefine [worker.oci]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderConfig(tt.extra, tt.maxUsed)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("config lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestReadTail(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	old := "old run line\n"
	var b strings.Builder
	b.WriteString(old)
	for i := range 50 {
		b.WriteString("line ")
		b.WriteString(strings.Repeat("x", i%3))
		b.WriteString("\n")
	}
	b.WriteString("last line\n")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readTail(p, int64(len(old)), 5, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(got, "\n")
	if len(lines) != 5 || lines[4] != "last line" {
		t.Fatalf("tail = %q", got)
	}
	got, err = readTail(p, int64(len(old)), 1000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "old run") {
		t.Fatalf("tail includes output from before the offset: %q", got)
	}
	got, err = readTail(p, 0, 1000, 20)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got, "last line") || len(got) > 20 {
		t.Fatalf("byte-limited tail = %q", got)
	}
}

func TestProcessChecks(t *testing.T) {
	if !ProcessAlive(os.Getpid()) {
		t.Fatal("own process reported dead")
	}
	if ProcessAlive(1 << 30) {
		t.Fatal("impossible pid reported alive")
	}
	if isOurDaemon(os.Getpid(), newLayout(t.TempDir())) {
		t.Fatal("test process mistaken for a daemon")
	}
}

func TestRunningPIDIgnoresForeignAndStalePIDs(t *testing.T) {
	l := newLayout(t.TempDir())
	if _, ok := runningPID(l); ok {
		t.Fatal("no pid file but running")
	}
	// Our own pid is alive but is not a buildkitd for this layout: a reused
	// pid must never be taken for the daemon.
	if err := os.WriteFile(l.pid, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := runningPID(l); ok {
		t.Fatal("foreign pid taken for the daemon")
	}
	if err := os.WriteFile(l.pid, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPID(l.pid); err == nil {
		t.Fatal("corrupt pid file accepted")
	}
}

func TestLockFileExcludes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	unlock, err := LockFile(context.Background(), p, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := LockFile(ctx, p, "test"); err == nil {
		t.Fatal("second lock acquired while the first is held")
	}
	unlock()
	unlock2, err := LockFile(context.Background(), p, "test")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	unlock2()
}

func TestResolveBinary(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "bkd")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := resolveBinary(exe); err != nil || got != exe {
		t.Fatalf("resolveBinary(%s) = %q, %v", exe, got, err)
	}
	for _, bad := range []string{noexec, dir, filepath.Join(dir, "missing")} {
		if _, err := resolveBinary(bad); err == nil {
			t.Errorf("resolveBinary(%s) succeeded", bad)
		}
	}
	_, err := resolveBinary("hardenkit-no-such-buildkitd")
	if err == nil || !strings.Contains(err.Error(), "go install github.com/moby/buildkit/cmd/buildkitd@v") {
		t.Fatalf("missing binary error lacks install hint: %v", err)
	}
}

func TestPreflightReportsMissingBinary(t *testing.T) {
	err := Preflight(filepath.Join(t.TempDir(), "buildkitd"))
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("want install hint, got %v", err)
	}
}

func TestStatusAndStopWithoutDaemon(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ctx := context.Background()
	if err := Stop(ctx, dir); err != nil {
		t.Fatalf("Stop on a missing state dir: %v", err)
	}
	st, err := Status(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Running || st.Addr != "unix://"+filepath.Join(dir, "buildkitd.sock") {
		t.Fatalf("status = %+v", st)
	}
}

func TestEnsureRejectsBadConfigBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	_, _, err := Ensure(context.Background(), Config{StateDir: dir, ExtraConfig: "[oops"})
	if err == nil || !strings.Contains(err.Error(), "invalid buildkitd configuration") {
		t.Fatalf("want config error, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "buildkitd.pid")); err == nil {
		t.Fatal("a daemon was started despite the bad config")
	}
}

func TestStatusReportsCorruptPIDFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "buildkitd.pid"), []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := Status(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Running || !strings.Contains(st.Error, "corrupt") {
		t.Fatalf("status = %+v", st)
	}
	if err := Stop(context.Background(), dir); err != nil {
		t.Fatalf("Stop with a corrupt pid file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "buildkitd.pid")); err == nil {
		t.Fatal("Stop left the corrupt pid file")
	}
}
