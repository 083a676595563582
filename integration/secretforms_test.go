package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// TestSecretsInEveryForm plants fresh tokens in every form the secret
// scan must see through — base64, hex and percent-encoded, gzipped,
// reversed, as a directory name, a file name and a symlink target, a git
// object store under another name, at the end of a file larger than the
// read size, a context file only a RUN bind mount reads (and writes
// gzipped), and a token split across two labels — written by RUN steps
// from a BuildKit secret, so the Dockerfile holds none of them. Through
// the CLI (gateway scan) and `# syntax=` with buildx (in-build scan),
// the build fails naming every place, and nothing the client receives
// holds a token or its base64.
func TestSecretsInEveryForm(t *testing.T) {
	paths := []struct {
		name string
		run  func(ctx context.Context, t *testing.T, dir, toks, dest string) (string, error)
	}{
		{"hardenkit-cli", func(ctx context.Context, t *testing.T, dir, toks, dest string) (string, error) {
			return run(ctx, t, nil, binaries.hardenkit, "build", "--addr", env.BuildkitAddr, "--progress", "plain",
				"-f", filepath.Join(dir, "Dockerfile"), "--secret", "id=toks,src="+toks, "--output", "type=oci,dest="+dest, dir)
		}},
		{"syntax-buildx", func(ctx context.Context, t *testing.T, dir, toks, dest string) (string, error) {
			envv := buildxConfig(ctx, t)
			return run(ctx, t, envv, "docker", "buildx", "build", "--builder", "hardenkit-it", "--progress", "plain",
				"-f", withSyntax(t, filepath.Join(dir, "Dockerfile")), "--secret", "id=toks,src="+toks,
				"--output", "type=oci,dest="+dest, dir)
		}},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			sets := make([]secretstest.Planted, 12)
			for i := range sets {
				sets[i] = secretstest.Generate(t)
			}
			var lines []string
			for _, s := range sets[:9] {
				lines = append(lines, s.GitHubToken)
			}
			toks := filepath.Join(t.TempDir(), "toks")
			if err := os.WriteFile(toks, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			split := sets[10].GitHubToken
			tmpl, err := os.ReadFile(filepath.Join(inspectTestdata, "everyform", "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			df := strings.NewReplacer("{{PART_A}}", split[:14], "{{PART_B}}", split[14:]).Replace(string(tmpl))
			dir := inspectContext(t, "everyform", map[string]contextFile{
				"Dockerfile": {content: df},
				"bind.txt":   {content: "deploy token: " + sets[9].GitHubToken + "\n"},
				"app":        {content: "#!/app/run\n", mode: fs0755},
			})
			dest := filepath.Join(t.TempDir(), "image.tar")
			out, err := p.run(context.Background(), t, dir, toks, dest)
			if err == nil {
				t.Fatalf("the build with tokens in every form succeeded:\n%s", out)
			}
			for _, place := range []string{
				"HK3052", "/app/b64.txt", "/app/hex.txt", "/app/pct.txt", "/app/tok.gz", "/app/rev.txt",
				"/app/names/" + strings.Repeat("*", len(lines[5])), "/app/names/" + strings.Repeat("*", len(lines[6])), "/app/names/link",
				"/app/src.git", "/app/big.log", "/app/bind.gz",
				// At the RUN that bind-mounts it (the # syntax= path adds a line).
				"HK3054", "RUN (line ", ", stage build): build context file bind.txt",
				"HK3050", "com.example.part-a+com.example.part-b",
			} {
				if !strings.Contains(out, place) {
					t.Errorf("the failure does not name %q", place)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
			for _, s := range sets {
				secretstest.AssertNoLeak(t, s, p.name+" output", out)
			}
			if st, err := os.Stat(dest); err == nil && st.Size() > 0 {
				t.Errorf("the failed build exported %s (%d bytes)", dest, st.Size())
			}
		})
	}
}
