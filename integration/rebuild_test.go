package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/pkg/release/rebuild"
)

// plantedDockerfile writes the build time into a shipped file: two builds
// from the same inputs differ in /www/stamp, and only there.
const plantedDockerfile = `FROM %s
COPY server /usr/local/bin/server
COPY index.html /www/index.html
RUN date +%%s%%N > /www/stamp
EXPOSE 27121
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/server", "-addr", "127.0.0.1:27121", "-root", "/www"]
`

// rebuildReport runs hardenkit rebuild and decodes its JSON report;
// code is the exit status.
func rebuildReport(ctx context.Context, t *testing.T, image, contextDir, addr string, extra ...string) (rebuild.Report, int, string) {
	t.Helper()
	args := append([]string{"--addr", addr, "rebuild", image, "--context", contextDir, "--format", "json", "--insecure"}, extra...)
	cmd := exec.CommandContext(ctx, binaries.hardenkit, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("hardenkit rebuild: %v", err)
	}
	var rep rebuild.Report
	if jerr := json.Unmarshal([]byte(stdout.String()), &rep); jerr != nil {
		t.Fatalf("hardenkit rebuild (exit %d): no JSON report: %v\nstdout:\n%s\nstderr:\n%s", code, jerr, stdout.String(), tail(stderr.String(), 40))
	}
	return rep, code, stderr.String()
}

// buildOn builds dir on addr with --no-cache into an OCI tarball.
func buildOn(ctx context.Context, t *testing.T, addr, dir string, extra ...string) string {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "image.tar")
	args := append([]string{"build", "--addr", addr, "--no-cache", "--progress", "plain", "--output", "type=oci,dest=" + dest}, extra...)
	out, err := run(ctx, t, nil, binaries.hardenkit, append(args, dir)...)
	if err != nil {
		t.Fatalf("hardenkit build on %s: %v\n%s", addr, err, tail(out, 40))
	}
	return dest
}

// TestRebuild: an image rebuilds from its own evidence on a freshly
// started buildkitd to the same manifest digest; planted non-determinism
// is named with its file and instruction; a rebuild with another
// SOURCE_DATE_EPOCH, or from a checkout with one file changed, is
// reported as exactly that.
func TestRebuild(t *testing.T) {
	ctx := context.Background()
	first, fresh := freshDaemon(ctx, t, "rebuild-a"), freshDaemon(ctx, t, "rebuild-b")

	t.Run("example reproduces", func(t *testing.T) {
		dir, err := filepath.Abs(filepath.Join("..", "examples", "static-site"))
		if err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		image := buildOn(ctx, t, first, dir)
		plain := time.Since(started)
		started = time.Now()
		rep, code, stderr := rebuildReport(ctx, t, "oci-archive://"+image, dir, fresh)
		t.Logf("rebuild %.1fs vs build %.1fs: ratio %.2f", time.Since(started).Seconds(), plain.Seconds(), time.Since(started).Seconds()/plain.Seconds())
		if code != 0 || rep.Verdict != rebuild.VerdictReproduced {
			t.Fatalf("exit %d, verdict %s (%s), differences %+v\n%s", code, rep.Verdict, rep.Cause, rep.Differences, tail(stderr, 30))
		}
		if len(rep.Platforms) != 1 || rep.Platforms[0].Want != rep.Platforms[0].Got {
			t.Errorf("platforms %+v, want one with equal digests", rep.Platforms)
		}
	})

	dir := plantedContext(t)
	image := buildOn(ctx, t, first, dir)

	t.Run("planted date is named with its instruction", func(t *testing.T) {
		rep, code, stderr := rebuildReport(ctx, t, "oci-archive://"+image, dir, fresh)
		if code != 1 || rep.Verdict != rebuild.VerdictDiffers {
			t.Fatalf("exit %d, verdict %s, want 1 differs\n%s", code, rep.Verdict, tail(stderr, 30))
		}
		var files []string
		for _, d := range rep.Differences {
			if d.Level == rebuild.LevelInput {
				t.Errorf("input difference %+v: the rebuild used the recorded inputs", d)
			}
			if d.Level == rebuild.LevelFile {
				files = append(files, d.What)
				if d.What == "/www/stamp" && (!strings.Contains(d.Change, "content") || !strings.Contains(d.Instruction, "RUN date")) {
					t.Errorf("/www/stamp: change %q, instruction %q; want content, by RUN date", d.Change, d.Instruction)
				}
			}
		}
		if len(files) != 1 || files[0] != "/www/stamp" {
			t.Errorf("differing files %v, want exactly /www/stamp", files)
		}
	})

	t.Run("another SOURCE_DATE_EPOCH is named", func(t *testing.T) {
		rep, code, _ := rebuildReport(ctx, t, "oci-archive://"+image, dir, fresh, "--build-arg", "SOURCE_DATE_EPOCH=1600000000")
		if code != 1 || !strings.Contains(rep.Cause, "SOURCE_DATE_EPOCH") || !strings.Contains(rep.Cause, "1600000000") {
			t.Errorf("exit %d, cause %q; want SOURCE_DATE_EPOCH named as the cause", code, rep.Cause)
		}
	})

	t.Run("a changed context file is named and nothing is built", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>changed</p>\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		rep, code, _ := rebuildReport(ctx, t, "oci-archive://"+image, dir, fresh)
		if code != 3 || rep.Verdict != rebuild.VerdictContextDiffers {
			t.Fatalf("exit %d verdict %s, want 3 context-differs", code, rep.Verdict)
		}
		if len(rep.Context.Changes) != 1 || rep.Context.Changes[0].Path != "index.html" || rep.Context.Changes[0].Change != "content" {
			t.Errorf("context changes %+v, want index.html content", rep.Context.Changes)
		}
		if len(rep.Platforms) != 0 {
			t.Errorf("platforms %+v: nothing should have been rebuilt", rep.Platforms)
		}
	})
}

// plantedContext writes the planted Dockerfile's context.
func plantedContext(t *testing.T) string {
	t.Helper()
	server, err := os.ReadFile(filepath.Join("..", "examples", "static-site", "bin", "server"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"Dockerfile": []byte(fmt.Sprintf(plantedDockerfile, "busybox@"+digestOf(t, env.BaseBusybox))),
		"index.html": []byte("<p>rebuild</p>\n"),
		"server":     server,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
