// Package integration tests hardenkit end to end against a real buildkitd
// (OCI worker, runc) and a local registry with base images built from
// Debian packages. It needs root; it never skips.
package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/integration/devenv"
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "integration tests need root (buildkitd with the OCI worker): run them with sudo, or use `make test` as root")
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	dir, err := os.MkdirTemp("", "hardenkit-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := buildBinaries(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, "building test binaries:", err)
		return 1
	}

	opts := devenv.Options{StateDir: os.Getenv("HARDENKIT_DEVENV_STATE"), Log: os.Stderr}
	if p := os.Getenv("HARDENKIT_DEVENV_PORT"); p != "" {
		if opts.RegistryPort, err = strconv.Atoi(p); err != nil {
			fmt.Fprintf(os.Stderr, "HARDENKIT_DEVENV_PORT=%q: %v\n", p, err)
			return 1
		}
	}
	e, err := devenv.Up(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the dev environment:", err)
		return 1
	}
	env = e
	fmt.Fprint(os.Stderr, e.Exports())

	code := m.Run()

	// Leave a dev environment that was already running as it was.
	if e.StartedBuildkitd || e.StartedRegistry {
		if err := devenv.Down(context.Background(), e.StateDir); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the dev environment:", err)
			return 1
		}
	}
	return code
}

// buildBinaries builds the CLIs the tests drive, from this module, into dir.
func buildBinaries(ctx context.Context, dir string) error {
	binaries.dir = dir
	binaries.hardenkit = filepath.Join(dir, "hardenkit")
	binaries.buildctl = filepath.Join(dir, "buildctl")
	// The static-site example ships a prebuilt static binary, as release
	// pipelines hand one to a Dockerfile (make examples does the same).
	server := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", "../examples/static-site/bin/server", "github.com/hardenkit/hardenkit/examples/static-site/server")
	server.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := server.CombinedOutput(); err != nil {
		return fmt.Errorf("building the static-site example server: %w\n%s", err, out)
	}
	builds := []struct {
		out, pkg, ldflags string
		env               []string
	}{
		// Static, as `make build` makes it: hardenkit build runs this binary
		// inside the image under test as the smoke test.
		{binaries.hardenkit, "github.com/hardenkit/hardenkit/cmd/hardenkit", "", []string{"CGO_ENABLED=0"}},
		{binaries.buildctl, "github.com/moby/buildkit/cmd/buildctl", "", nil},
		// The embedded daemon looks for buildkitd next to the hardenkit binary.
		{filepath.Join(dir, "buildkitd"), "github.com/moby/buildkit/cmd/buildkitd", "-X github.com/moby/buildkit/version.Version=v0.34.2", nil},
	}
	for _, b := range builds {
		cmd := exec.CommandContext(ctx, "go", "build", "-ldflags", b.ldflags, "-o", b.out, b.pkg)
		cmd.Env = append(os.Environ(), b.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
		}
	}
	var err error
	binaries.buildx, err = findBuildx()
	return err
}

// findBuildx locates the docker-buildx CLI plugin that `make buildx` builds.
func findBuildx() (string, error) {
	candidates := []string{os.Getenv("HARDENKIT_BUILDX"), "../bin/docker-buildx"}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".docker", "cli-plugins", "docker-buildx"))
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if abs, err := filepath.Abs(c); err == nil {
			if st, err := os.Stat(abs); err == nil && st.Mode().IsRegular() {
				return abs, nil
			}
		}
	}
	return "", errors.New("docker-buildx plugin not found: run `make buildx` (builds github.com/docker/buildx into bin/docker-buildx) or set HARDENKIT_BUILDX")
}
