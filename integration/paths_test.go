package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/ocilayout"
)

// userPath is one of the ways a user reaches hardenkit.
type userPath struct {
	name string
	// build builds contextDir with dockerfile into an OCI tarball at dest,
	// passing buildArgs, and returns the client's output.
	build func(ctx context.Context, t *testing.T, contextDir, dockerfile, dest string, buildArgs []string) (string, error)
}

var userPaths = []userPath{
	{name: "syntax-buildctl", build: buildWithBuildctl},
	{name: "hardenkit-cli", build: buildWithCLI},
	{name: "buildx-remote", build: buildWithBuildx},
}

// withSyntax copies dockerfile into a fresh directory with a `# syntax=`
// line naming the frontend image, exactly as a user would write it.
func withSyntax(t *testing.T, dockerfile string) string {
	t.Helper()
	dt, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(p, append([]byte("# syntax="+env.Frontend+"\n"), dt...), 0o644); err != nil {
		t.Fatal(err)
	}
	// The policy beside the Dockerfile travels with it.
	if pol, err := os.ReadFile(filepath.Join(filepath.Dir(dockerfile), "hardenkit.yaml")); err == nil {
		if err := os.WriteFile(filepath.Join(dir, "hardenkit.yaml"), pol, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func buildWithBuildctl(ctx context.Context, t *testing.T, contextDir, dockerfile, dest string, buildArgs []string) (string, error) {
	args := []string{"--addr", env.BuildkitAddr, "build", "--progress", "plain",
		"--frontend", "dockerfile.v0",
		"--local", "context=" + contextDir,
		"--local", "dockerfile=" + filepath.Dir(withSyntax(t, dockerfile)),
		"--output", "type=oci,dest=" + dest}
	for _, a := range buildArgs {
		args = append(args, "--opt", "build-arg:"+a)
	}
	return run(ctx, t, nil, binaries.buildctl, args...)
}

func buildWithCLI(ctx context.Context, t *testing.T, contextDir, dockerfile, dest string, buildArgs []string) (string, error) {
	args := []string{"build", "--addr", env.BuildkitAddr, "--progress", "plain",
		"-f", dockerfile, "--output", "type=oci,dest=" + dest}
	for _, a := range buildArgs {
		args = append(args, "--build-arg", a)
	}
	return run(ctx, t, nil, binaries.hardenkit, append(args, contextDir)...)
}

// buildxConfig prepares a DOCKER_CONFIG with the buildx plugin and a remote
// builder pointing at the test buildkitd. No docker daemon is involved.
func buildxConfig(ctx context.Context, t *testing.T) []string {
	t.Helper()
	cfg := t.TempDir()
	plugins := filepath.Join(cfg, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binaries.buildx, filepath.Join(plugins, "docker-buildx")); err != nil {
		t.Fatal(err)
	}
	envv := []string{"DOCKER_CONFIG=" + cfg, "BUILDX_NO_DEFAULT_ATTESTATIONS=1"}
	if out, err := run(ctx, t, envv, "docker", "buildx", "create", "--name", "hardenkit-it", "--driver", "remote", env.BuildkitAddr); err != nil {
		t.Fatalf("docker buildx create: %v\n%s", err, out)
	}
	return envv
}

func buildWithBuildx(ctx context.Context, t *testing.T, contextDir, dockerfile, dest string, buildArgs []string) (string, error) {
	envv := buildxConfig(ctx, t)
	args := []string{"buildx", "build", "--builder", "hardenkit-it", "--progress", "plain",
		"-f", withSyntax(t, dockerfile), "--output", "type=oci,dest=" + dest}
	for _, a := range buildArgs {
		args = append(args, "--build-arg", a)
	}
	return run(ctx, t, envv, "docker", append(args, contextDir)...)
}

// example is one directory of examples/ with what its image must hold.
type example struct {
	dir   string
	check func(t *testing.T, cfg map[string]any, files map[string]ocilayout.File)
}

var examples = []example{
	{dir: "static-site", check: func(t *testing.T, cfg map[string]any, files map[string]ocilayout.File) {
		c := cfg["config"].(map[string]any)
		if c["User"] != "65532:65532" {
			t.Errorf("User = %v", c["User"])
		}
		if ep := strings.Join(toStrings(c["Entrypoint"]), " "); ep != "/server -addr :8080 -root /www" {
			t.Errorf("Entrypoint = %q", ep)
		}
		if _, ok := c["ExposedPorts"].(map[string]any)["8080/tcp"]; !ok {
			t.Errorf("ExposedPorts = %v", c["ExposedPorts"])
		}
		if got := string(files["/www/index.html"].Content); !strings.Contains(got, "version 1.0.0") {
			t.Errorf("/www/index.html = %q", got)
		}
		if _, ok := files["/server"]; !ok {
			t.Error("/server missing")
		}
	}},
	{dir: "debian-app", check: func(t *testing.T, cfg map[string]any, files map[string]ocilayout.File) {
		c := cfg["config"].(map[string]any)
		if c["User"] != "65532:65532" {
			t.Errorf("User = %v, want the injected 65532:65532", c["User"])
		}
		if ep := toStrings(c["Entrypoint"]); !slices.Equal(ep, []string{"/usr/local/bin/app"}) {
			t.Errorf("Entrypoint = %v", ep)
		}
		if app := files["/usr/local/bin/app"]; app.Mode&0o777 != 0o755 {
			t.Errorf("/usr/local/bin/app mode = %o", app.Mode)
		}
		for _, gone := range []string{"/usr/bin/bash", "/usr/bin/dash", "/usr/bin/sh", "/bin/sh", "/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/bin/curl"} {
			if _, ok := files[gone]; ok {
				t.Errorf("%s ships", gone)
			}
		}
		if _, ok := files["/etc/ssl/certs/ca-certificates.crt"]; !ok {
			t.Error("the CA bundle is missing")
		}
	}},
	{dir: "python-app", check: func(t *testing.T, cfg map[string]any, files map[string]ocilayout.File) {
		c := cfg["config"].(map[string]any)
		if c["User"] != "65532:65532" {
			t.Errorf("User = %v", c["User"])
		}
		if _, ok := files["/app/app.py"]; !ok {
			t.Error("/app/app.py missing")
		}
		if _, ok := files["/usr/lib/python3.11/os.py"]; !ok {
			t.Error("python's standard library (os.py) missing")
		}
	}},
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// TestExamplesEveryPath builds each example the three ways users reach
// hardenkit and checks the image they get.
func TestExamplesEveryPath(t *testing.T) {
	for _, ex := range examples {
		for _, p := range userPaths {
			t.Run(ex.dir+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				dir, err := filepath.Abs(filepath.Join("..", "examples", ex.dir))
				if err != nil {
					t.Fatal(err)
				}
				dest := filepath.Join(t.TempDir(), "image.tar")
				out, err := p.build(ctx, t, dir, filepath.Join(dir, "Dockerfile"), dest, nil)
				if err != nil {
					t.Fatalf("%s: %v\n%s", p.name, err, out)
				}
				if p.name != "hardenkit-cli" && !strings.Contains(out, env.Frontend) {
					t.Errorf("%s output never mentions the frontend image %s, so it did not run:\n%s", p.name, env.Frontend, out)
				}
				img := readImage(t, dest)
				files, err := img.Files()
				if err != nil {
					t.Fatal(err)
				}
				ex.check(t, img.Config, files)
			})
		}
	}
}

// TestHardenkitRunsOnEveryPath proves each path runs hardenkit's code, not
// dockerfile.v0: only hardenkit rejects an unknown HARDENKIT_* build arg.
func TestHardenkitRunsOnEveryPath(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "examples", "static-site"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range userPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			out, err := p.build(context.Background(), t, dir, filepath.Join(dir, "Dockerfile"), filepath.Join(t.TempDir(), "x.tar"), []string{"HARDENKIT_MDOE=off"})
			if err == nil {
				t.Fatalf("build with a misspelt HARDENKIT_ arg succeeded:\n%s", out)
			}
			if !strings.Contains(out, "unknown hardenkit build arg HARDENKIT_MDOE") {
				t.Fatalf("error does not name the unknown arg:\n%s", out)
			}
		})
	}
}

// TestMalformedDockerfileShowsSource checks that a syntax error comes back
// as BuildKit's source-mapped error (file, line, snippet) on every path,
// never as a Go stack trace.
func TestMalformedDockerfileShowsSource(t *testing.T) {
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(df, []byte("FROM busybox\nRUN echo ok\nFORM busybox\nRUN echo never\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range userPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			out, err := p.build(context.Background(), t, dir, df, filepath.Join(t.TempDir(), "x.tar"), nil)
			if err == nil {
				t.Fatalf("malformed Dockerfile built:\n%s", out)
			}
			// Paths that add a `# syntax=` line shift the Dockerfile by one.
			line := "Dockerfile:3"
			if p.name != "hardenkit-cli" {
				line = "Dockerfile:4"
			}
			for _, want := range []string{"unknown instruction: FORM", line, ">>> FORM busybox"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic:") {
				t.Errorf("output contains a Go stack trace:\n%s", out)
			}
		})
	}
}

func readImage(t *testing.T, path string) *ocilayout.Image {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, img := readOCI(t, dt)
	return img
}
