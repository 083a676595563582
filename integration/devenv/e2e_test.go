package devenv

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"

	"github.com/hardenkit/hardenkit/pkg/daemon"
)

// TestUpEndToEnd brings up a complete environment in a private state dir on
// a free loopback port (without the Debian image), builds on the busybox
// image through the docker.io mirror, and tears it down again. It needs
// root, runc and busybox-static, and starts real processes, so it only runs
// with HARDENKIT_DEVENV_E2E=1.
func TestUpEndToEnd(t *testing.T) {
	if os.Getenv("HARDENKIT_DEVENV_E2E") != "1" {
		t.Skip("set HARDENKIT_DEVENV_E2E=1 to start a real registry and buildkitd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	// The buildkitd socket path must stay short, so no t.TempDir here.
	state, err := os.MkdirTemp("", "dve")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	var log strings.Builder
	env, err := Up(ctx, Options{StateDir: state, RegistryPort: port, SkipDebian: true, Log: &log})
	t.Cleanup(func() {
		if err := Down(context.Background(), state); err != nil {
			t.Errorf("Down: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("Up: %v\n%s", err, log.String())
	}
	if !env.StartedRegistry || !env.StartedBuildkitd {
		t.Errorf("first Up did not start everything: %+v", env)
	}
	reg := "127.0.0.1:" + strconv.Itoa(port)
	for _, ref := range []string{env.Frontend, env.BaseBusybox} {
		if !strings.HasPrefix(ref, reg+"/") || !strings.Contains(ref, "@sha256:") {
			t.Errorf("reference %q is not digest-pinned in %s", ref, reg)
		}
	}

	again, err := Up(ctx, Options{StateDir: state, RegistryPort: port, SkipDebian: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.StartedRegistry || again.StartedBuildkitd || again.BaseBusybox != env.BaseBusybox || again.Frontend != env.Frontend {
		t.Errorf("second Up did not reuse: %+v vs %+v", again, env)
	}
	cur, err := Current(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Exports() != again.Exports() {
		t.Errorf("Current exports\n%s\ndiffer from Up's\n%s", cur.Exports(), again.Exports())
	}

	c, err := client.New(ctx, env.BuildkitAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	def, err := llb.Image("busybox").Run(llb.Shlex(`sh -c "echo hi > /out/x"`)).AddMount("/out", llb.Scratch()).Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := c.Solve(ctx, def, client.SolveOpt{
		Exports: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}},
	}, nil); err != nil {
		t.Fatalf("solve on busybox through the mirror: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "x"))
	if err != nil || string(b) != "hi\n" {
		t.Fatalf("output x = %q, %v", b, err)
	}

	regPID, err := daemon.ReadPID(newRegistryFiles(state).pid)
	if err != nil || regPID == 0 {
		t.Fatalf("registry pid %d, %v", regPID, err)
	}
	if err := Down(ctx, state); err != nil {
		t.Fatal(err)
	}
	if isRegistryProcess(regPID) && daemon.ProcessAlive(regPID) {
		t.Errorf("registry %d still running after Down", regPID)
	}
	if _, err := Current(ctx, state); err == nil {
		t.Error("Current succeeded after Down")
	}
}
