package daemon

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireCanStart skips tests that launch a process through Ensure on
// machines where Preflight cannot pass for reasons other than the binary.
func requireCanStart(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("needs runc on $PATH")
	}
}

// shortTempDir returns a temp dir with a path short enough for the unix
// sockets (t.TempDir includes the long test name).
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "hkd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestEnsureReportsLogTailWhenDaemonDies(t *testing.T) {
	requireCanStart(t)
	dir := shortTempDir(t)
	fake := filepath.Join(dir, "fake-buildkitd")
	script := "#!/bin/sh\necho 'fake buildkitd: simulated startup failure' >&2\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err := Ensure(ctx, Config{StateDir: filepath.Join(dir, "s"), Binary: fake})
	if err == nil {
		t.Fatal("Ensure succeeded with a binary that exits")
	}
	for _, want := range []string{"exited during startup", "simulated startup failure"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "s", "buildkitd.pid")); err == nil {
		t.Error("pid file left behind by a failed start")
	}
}

// TestRealDaemonLifecycle runs a real buildkitd. It needs the binary named by
// HARDENKIT_TEST_BUILDKITD, e.g.
//
//	go build -o /tmp/hk-bkd github.com/moby/buildkit/cmd/buildkitd
//	HARDENKIT_TEST_BUILDKITD=/tmp/hk-bkd go test ./pkg/daemon/
func TestRealDaemonLifecycle(t *testing.T) {
	bin := os.Getenv("HARDENKIT_TEST_BUILDKITD")
	if bin == "" {
		t.Skip("set HARDENKIT_TEST_BUILDKITD to a buildkitd binary to run")
	}
	requireCanStart(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	dirA := filepath.Join(shortTempDir(t), "a")
	dirB := filepath.Join(shortTempDir(t), "b")
	t.Cleanup(func() {
		_ = Stop(context.Background(), dirA)
		_ = Stop(context.Background(), dirB)
	})

	a, started, err := Ensure(ctx, Config{StateDir: dirA, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if !started || a.PID == 0 || a.Addr != "unix://"+filepath.Join(dirA, "buildkitd.sock") {
		t.Fatalf("first Ensure: %+v started=%v", a, started)
	}

	again, started, err := Ensure(ctx, Config{StateDir: dirA, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if started || again.PID != a.PID {
		t.Fatalf("second Ensure did not reuse pid %d: %+v started=%v", a.PID, again, started)
	}

	// A second instance in another state dir must coexist with the first.
	b, started, err := Ensure(ctx, Config{StateDir: dirB, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if !started || b.PID == a.PID || b.Addr == a.Addr {
		t.Fatalf("second instance collides: %+v vs %+v", b, a)
	}

	st, err := Status(ctx, dirA)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Running || !st.Responding || st.PID != a.PID || len(st.Workers) == 0 || len(st.Workers[0].Platforms) == 0 || st.Version == "" {
		t.Fatalf("status: %+v", st)
	}

	// A changed configuration replaces the daemon rather than silently
	// keeping the old registry settings.
	extra := "[registry.\"127.0.0.1:5000\"]\n  http = true\n"
	c, started, err := Ensure(ctx, Config{StateDir: dirA, Binary: bin, ExtraConfig: extra})
	if err != nil {
		t.Fatal(err)
	}
	if !started || c.PID == a.PID || ProcessAlive(a.PID) {
		t.Fatalf("config change did not restart: old %d new %+v started=%v", a.PID, c, started)
	}
	toml, err := os.ReadFile(filepath.Join(dirA, "buildkitd.toml"))
	if err != nil || !strings.Contains(string(toml), `[registry."127.0.0.1:5000"]`) {
		t.Fatalf("extra config not written: %v\n%s", err, toml)
	}

	if err := Stop(ctx, dirA); err != nil {
		t.Fatal(err)
	}
	if ProcessAlive(c.PID) {
		t.Fatalf("pid %d alive after Stop", c.PID)
	}
	if err := Stop(ctx, dirA); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	st, err = Status(ctx, dirA)
	if err != nil || st.Running {
		t.Fatalf("status after stop: %+v %v", st, err)
	}
	if !ProcessAlive(b.PID) {
		t.Fatal("stopping instance A killed instance B")
	}
}
