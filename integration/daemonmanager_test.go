package integration

// The tests of pkg/daemon that start processes: Preflight needs root and
// runc, and the lifecycle test a real buildkitd, all of which the
// integration environment has (TestMain builds buildkitd beside hardenkit).

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/pkg/daemon"
)

// requireRunc fails the test when runc, which the daemon's OCI worker
// runs containers with, is not on $PATH (TestMain already requires root).
func requireRunc(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("runc"); err != nil {
		t.Fatalf("pkg/daemon starts buildkitd with the OCI worker, which needs runc on $PATH: %v", err)
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
	requireRunc(t)
	dir := shortTempDir(t)
	fake := filepath.Join(dir, "fake-buildkitd")
	script := "#!/bin/sh\necho 'fake buildkitd: simulated startup failure' >&2\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err := daemon.Ensure(ctx, daemon.Config{StateDir: filepath.Join(dir, "s"), Binary: fake})
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

// TestRealDaemonLifecycle runs real buildkitd instances (the one TestMain
// built) through pkg/daemon: start, reuse, a second instance beside the
// first, status, restart on a changed configuration, stop.
func TestRealDaemonLifecycle(t *testing.T) {
	requireRunc(t)
	bin := filepath.Join(binaries.dir, "buildkitd")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	dirA := filepath.Join(shortTempDir(t), "a")
	dirB := filepath.Join(shortTempDir(t), "b")
	t.Cleanup(func() {
		_ = daemon.Stop(context.Background(), dirA)
		_ = daemon.Stop(context.Background(), dirB)
	})

	a, started, err := daemon.Ensure(ctx, daemon.Config{StateDir: dirA, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if !started || a.PID == 0 || a.Addr != "unix://"+filepath.Join(dirA, "buildkitd.sock") {
		t.Fatalf("first Ensure: %+v started=%v", a, started)
	}

	again, started, err := daemon.Ensure(ctx, daemon.Config{StateDir: dirA, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if started || again.PID != a.PID {
		t.Fatalf("second Ensure did not reuse pid %d: %+v started=%v", a.PID, again, started)
	}

	// A second instance in another state dir must coexist with the first.
	b, started, err := daemon.Ensure(ctx, daemon.Config{StateDir: dirB, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if !started || b.PID == a.PID || b.Addr == a.Addr {
		t.Fatalf("second instance collides: %+v vs %+v", b, a)
	}

	st, err := daemon.Status(ctx, dirA)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Running || !st.Responding || st.PID != a.PID || len(st.Workers) == 0 || len(st.Workers[0].Platforms) == 0 || st.Version == "" {
		t.Fatalf("status: %+v", st)
	}

	// A changed configuration replaces the daemon rather than silently
	// keeping the old registry settings.
	extra := "[registry.\"127.0.0.1:5000\"]\n  http = true\n"
	c, started, err := daemon.Ensure(ctx, daemon.Config{StateDir: dirA, Binary: bin, ExtraConfig: extra})
	if err != nil {
		t.Fatal(err)
	}
	if !started || c.PID == a.PID || daemon.ProcessAlive(a.PID) {
		t.Fatalf("config change did not restart: old %d new %+v started=%v", a.PID, c, started)
	}
	toml, err := os.ReadFile(filepath.Join(dirA, "buildkitd.toml"))
	if err != nil || !strings.Contains(string(toml), `[registry."127.0.0.1:5000"]`) {
		t.Fatalf("extra config not written: %v\n%s", err, toml)
	}

	if err := daemon.Stop(ctx, dirA); err != nil {
		t.Fatal(err)
	}
	if daemon.ProcessAlive(c.PID) {
		t.Fatalf("pid %d alive after Stop", c.PID)
	}
	if err := daemon.Stop(ctx, dirA); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	st, err = daemon.Status(ctx, dirA)
	if err != nil || st.Running {
		t.Fatalf("status after stop: %+v %v", st, err)
	}
	if !daemon.ProcessAlive(b.PID) {
		t.Fatal("stopping instance A killed instance B")
	}
}
