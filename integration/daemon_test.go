package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEmbeddedDaemon runs `hardenkit build` with no daemon address: the
// first call starts a private buildkitd, the second reuses it, and
// `hardenkit daemon status|stop` manage it.
func TestEmbeddedDaemon(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	// Short path: the daemon's unix socket lives below the cache dir.
	cache, err := os.MkdirTemp("", "hk-cache-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(cache) })

	// The embedded daemon reaches the test registry like the dev one does.
	cfgFile := filepath.Join(home, "buildkitd-extra.toml")
	cfg := fmt.Sprintf("[registry.%q]\n  mirrors = [%q]\n[registry.%q]\n  http = true\n  insecure = true\n", "docker.io", env.Registry, env.Registry)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	envv := []string{"BUILDKIT_HOST=", "HOME=" + home, "XDG_CACHE_HOME=" + cache, "HARDENKIT_BUILDKITD_CONFIG=" + cfgFile}
	t.Cleanup(func() {
		if out, err := run(context.Background(), t, envv, binaries.hardenkit, "daemon", "stop"); err != nil {
			t.Errorf("hardenkit daemon stop: %v\n%s", err, out)
		}
	})

	dir, err := filepath.Abs(filepath.Join("..", "examples", "static-site"))
	if err != nil {
		t.Fatal(err)
	}
	buildOnce := func() string {
		t.Helper()
		dest := filepath.Join(t.TempDir(), "image.tar")
		out, err := run(ctx, t, envv, binaries.hardenkit, "build", "--progress", "plain", "-o", "type=oci,dest="+dest, dir)
		if err != nil {
			t.Fatalf("hardenkit build without a daemon: %v\n%s", err, out)
		}
		img := readImage(t, dest)
		if u := img.Config["config"].(map[string]any)["User"]; u != "65532:65532" {
			t.Fatalf("built image User = %v", u)
		}
		return out
	}
	status := func() string {
		t.Helper()
		out, err := run(ctx, t, envv, binaries.hardenkit, "daemon", "status")
		if err != nil {
			t.Fatalf("hardenkit daemon status: %v\n%s", err, out)
		}
		return out
	}
	pidRe := regexp.MustCompile(`(?i)pid:?\s+(\d+)`)

	first := buildOnce()
	if !strings.Contains(first, "started buildkitd") {
		t.Fatalf("first build did not report starting a daemon:\n%s", first)
	}
	st1 := status()
	m1 := pidRe.FindStringSubmatch(st1)
	if m1 == nil {
		t.Fatalf("daemon status shows no pid:\n%s", st1)
	}

	second := buildOnce()
	if strings.Contains(second, "started buildkitd") {
		t.Fatalf("second build started another daemon:\n%s", second)
	}
	m2 := pidRe.FindStringSubmatch(status())
	if m2 == nil || m2[1] != m1[1] {
		t.Fatalf("daemon pid changed from %s to %v: not reused", m1[1], m2)
	}
	if !processAlive(m1[1]) {
		t.Fatalf("daemon process %s is gone", m1[1])
	}

	if out, err := run(ctx, t, envv, binaries.hardenkit, "daemon", "stop"); err != nil {
		t.Fatalf("hardenkit daemon stop: %v\n%s", err, out)
	}
	if processAlive(m1[1]) {
		t.Fatalf("daemon process %s still runs after stop", m1[1])
	}
}

// processAlive reports whether pid is a live process. An exited process
// that init has not reaped yet (state Z) is not alive.
func processAlive(pid string) bool {
	dt, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	fields := strings.Fields(string(dt[strings.LastIndexByte(string(dt), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}
