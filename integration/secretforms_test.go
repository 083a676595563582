package integration

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// TestSecretsInEveryForm plants fresh tokens in every form the secret
// scan must see through — base64, hex and percent-encoded, gzipped,
// reversed, as a directory name, a file name and a symlink target, a git
// object store under another name, at the end of a file larger than the
// read size, a context file only a RUN bind mount reads (and writes
// gzipped), a token glued between other bytes in a binary, forwards and
// reversed, and a token split across two labels — written by RUN steps
// from a BuildKit secret, so the Dockerfile holds none of them. Through
// the CLI (gateway scan) and `# syntax=` with buildx (in-build scan),
// the build fails naming every place, and nothing the client receives
// holds a token or its base64.
//
// The places of the config that the Dockerfile's static check sees — an
// ONBUILD trigger of the base image, pushed to the registry by the test,
// that holds a token in base64, and a base64 token passed as a build
// argument (which lands in the provenance) — fail the build before
// anything runs, so they get a second, cheap build on each path.
func TestSecretsInEveryForm(t *testing.T) {
	paths := []struct {
		name string
		run  func(ctx context.Context, t *testing.T, dir, toks, dest string, extra ...string) (string, error)
	}{
		{"hardenkit-cli", func(ctx context.Context, t *testing.T, dir, toks, dest string, extra ...string) (string, error) {
			args := append([]string{"build", "--addr", env.BuildkitAddr, "--progress", "plain",
				"-f", filepath.Join(dir, "Dockerfile"), "--secret", "id=toks,src=" + toks, "--output", "type=oci,dest=" + dest}, extra...)
			return run(ctx, t, nil, binaries.hardenkit, append(args, dir)...)
		}},
		{"syntax-buildx", func(ctx context.Context, t *testing.T, dir, toks, dest string, extra ...string) (string, error) {
			envv := buildxConfig(ctx, t)
			args := append([]string{"buildx", "build", "--builder", "hardenkit-it", "--progress", "plain",
				"-f", withSyntax(t, filepath.Join(dir, "Dockerfile")), "--secret", "id=toks,src=" + toks,
				"--output", "type=oci,dest=" + dest}, extra...)
			return run(ctx, t, envv, "docker", append(args, dir)...)
		}},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			sets := make([]secretstest.Planted, 15)
			for i := range sets {
				sets[i] = secretstest.Generate(t)
			}
			var lines []string
			for _, s := range append(sets[:9:9], sets[13:15]...) {
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
			nonce := strconv.FormatInt(time.Now().UnixNano(), 10)
			df := strings.NewReplacer("{{PART_A}}", split[:14], "{{PART_B}}", split[14:], "{{NONCE}}", nonce).Replace(string(tmpl))
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
			assertSecretFailure(t, p.name, out, dest, sets, []string{
				"HK3052", "/app/b64.txt", "/app/hex.txt", "/app/pct.txt", "/app/tok.gz", "/app/rev.txt",
				"/app/names/" + strings.Repeat("*", len(lines[5])), "/app/names/" + strings.Repeat("*", len(lines[6])), "/app/names/link",
				"/app/src.git", "/app/big.log", "/app/bind.gz", "/app/glued.bin", "/app/glued-rev.bin",
				// At the RUN that bind-mounts it (the # syntax= path adds a line).
				"HK3054", "RUN (line ", ", stage build): build context file bind.txt",
				"HK3050", "com.example.part-a+com.example.part-b",
			})

			t.Run("config", func(t *testing.T) {
				ctx := context.Background()
				trigger := base64.StdEncoding.EncodeToString([]byte(sets[11].GitHubToken))
				ref := pushOnbuildBase(ctx, t, "RUN echo "+trigger+" | base64 -d > /etc/deploy-token")
				arg := base64.StdEncoding.EncodeToString([]byte(sets[12].GitHubToken))
				dir := inspectContext(t, "everyform", map[string]contextFile{
					"Dockerfile": {content: "FROM " + ref + "\nARG BLOB\nCOPY app /app/run\nUSER 65532:65532\nENTRYPOINT [\"/app/run\"]\n"},
					"bind.txt":   {content: "no token\n"},
					"app":        {content: "#!/app/run\n", mode: fs0755},
				})
				dest := filepath.Join(t.TempDir(), "image.tar")
				out, err := p.run(ctx, t, dir, toks, dest, "--build-arg", "BLOB="+arg)
				if err == nil {
					t.Fatalf("the build with a token in a base image's ONBUILD trigger and in a build arg succeeded:\n%s", out)
				}
				assertSecretFailure(t, p.name, out, dest, sets, []string{
					"HK1061", "ONBUILD trigger of base image " + ref,
					"HK1062", "--build-arg BLOB carries a secret",
				})
				if strings.Contains(out, trigger[:24]) || strings.Contains(out, arg[:24]) {
					t.Error("the output holds the base64 form of a planted token")
				}
			})
		})
	}
}

// assertSecretFailure checks the output of a build that failed for its
// secrets: it names every place, holds none of the secrets of sets (nor
// their base64), and nothing was exported to dest.
func assertSecretFailure(t *testing.T, path, out, dest string, sets []secretstest.Planted, places []string) {
	t.Helper()
	for _, place := range places {
		if !strings.Contains(out, place) {
			t.Errorf("the failure does not name %q", place)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
	for _, s := range sets {
		secretstest.AssertNoLeak(t, s, path+" output", out)
	}
	if st, err := os.Stat(dest); err == nil && st.Size() > 0 {
		t.Errorf("the failed build exported %s (%d bytes)", dest, st.Size())
	}
}
