package integration

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// actionlintModule is the linter the workflows must pass, built from the Go
// module proxy (no prebuilt binary is downloaded).
const actionlintModule = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// The CI templates, as a platform team copies them.
var (
	githubReusable = filepath.Join("..", "examples", "ci", "github", "hardenkit.yml")
	githubCaller   = filepath.Join("..", "examples", "ci", "github", "workflow.yml")
	gitlabCI       = filepath.Join("..", "examples", "ci", "gitlab", ".gitlab-ci.yml")
)

// TestCITemplatesLint: actionlint accepts the GitHub workflows where a
// repository keeps them, and rejects a broken copy (so the lint is real).
func TestCITemplatesLint(t *testing.T) {
	ctx := context.Background()
	gobin := t.TempDir()
	if out, err := run(ctx, t, []string{"GOBIN=" + gobin, "GOFLAGS=", "CGO_ENABLED=0"}, "go", "install", actionlintModule); err != nil {
		t.Fatalf("go install %s: %v\n%s", actionlintModule, err, out)
	}
	lint := func(t *testing.T, edit func(string) string) (string, error) {
		repo := t.TempDir()
		wf := filepath.Join(repo, ".github", "workflows")
		if err := os.MkdirAll(wf, 0o755); err != nil {
			t.Fatal(err)
		}
		for src, name := range map[string]string{githubReusable: "hardenkit.yml", githubCaller: "build.yml"} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(wf, name), []byte(edit(string(b))), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// The files by name: actionlint looks for a project only in a
		// git repository, and the copy is none.
		cmd := exec.CommandContext(ctx, filepath.Join(gobin, "actionlint"), "-no-color",
			filepath.Join(".github", "workflows", "hardenkit.yml"), filepath.Join(".github", "workflows", "build.yml"))
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The caller names the reusable workflow where the copy put it.
	asCopied := func(s string) string { return s }
	if out, err := lint(t, asCopied); err != nil {
		t.Errorf("actionlint on the workflows: %v\n%s", err, out)
	}
	broken := func(s string) string {
		return strings.Replace(s, "${{ steps.build.outputs.digest }}", "${{ steps.nosuchstep.outputs.digest }}", 1)
	}
	if out, err := lint(t, broken); err == nil || !strings.Contains(out, "nosuchstep") {
		t.Errorf("actionlint passed a workflow naming a step that does not exist: %v\n%s", err, out)
	}
}

// ciSteps are the steps of the templates the tests run: the ones that do
// the work. Installing the CLI, checking out and the marketplace actions
// (buildx setup, login, SARIF upload, cosign installer) are the CI's.
var ciSteps = []string{"check", "build", "sign", "verify", "report", "promote"}

// githubSteps returns the run blocks of the reusable workflow's steps with
// the given ids, in order.
func githubSteps(t *testing.T, ids []string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(githubReusable)
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				ID  string `yaml:"id"`
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatalf("%s: %v", githubReusable, err)
	}
	out := map[string]string{}
	for _, s := range wf.Jobs["harden"].Steps {
		if s.ID != "" {
			out[s.ID] = s.Run
		}
	}
	for _, id := range ids {
		if out[id] == "" {
			t.Fatalf("%s has no step %q with a run block", githubReusable, id)
		}
	}
	return out
}

// ciEnv is the environment the templates' steps get: the devenv's registry
// as the image repository, a key pair, the buildx remote builder, the CLI.
func ciEnv(ctx context.Context, t *testing.T, name string) (envv []string, work string) {
	t.Helper()
	work = t.TempDir()
	password := "COSIGN_PASSWORD=ci-password"
	if out, err := run(ctx, t, []string{password}, binaries.hardenkit, "keygen", "--output-prefix", filepath.Join(work, "ci")); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	priv, err := os.ReadFile(filepath.Join(work, "ci.key"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(work, "ci.pub"))
	if err != nil {
		t.Fatal(err)
	}
	bx := buildxConfig(ctx, t)
	if out, err := run(ctx, t, bx, "docker", "buildx", "use", "hardenkit-it"); err != nil {
		t.Fatalf("docker buildx use: %v\n%s", err, out)
	}
	ctxDir, err := filepath.Abs(filepath.Join("..", "examples", "debian-app"))
	if err != nil {
		t.Fatal(err)
	}
	// The devenv's base images are built on this machine (their digests
	// cannot be pinned, HK1001 warns) and it has no vulnerability
	// database: the release policy tolerates exactly that.
	release := filepath.Join(work, "release.yaml")
	if err := os.WriteFile(release, []byte("apiVersion: hardenkit.dev/v1alpha1\nkind: ReleasePolicy\nallow:\n  warn: [\"*\"]\n  notEvaluated: [\"*\"]\n  vulnerabilitiesNotEvaluated: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := env.Registry + "/ci/" + name
	return append(bx,
		"PATH="+binaries.dir+":"+os.Getenv("PATH"),
		"IMAGE="+repo+":candidate", "CONTEXT="+ctxDir, "DOCKERFILE="+filepath.Join(ctxDir, "Dockerfile"),
		"HARDENKIT_FRONTEND="+env.Frontend, "RELEASE_POLICY="+release, "PROMOTE_TO="+repo+":prod",
		"COSIGN_PRIVATE_KEY="+string(priv), "COSIGN_PUBLIC_KEY="+string(pub), password,
	), work
}

// runScript runs a template's script with bash as CI runners do (-e).
func runScript(ctx context.Context, t *testing.T, envv []string, dir, script string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCITemplateGitHub runs the reusable workflow's steps, read from the
// template, one after the other as a runner does (GITHUB_ENV carried from
// step to step), to a signed, verified and promoted image.
func TestCITemplateGitHub(t *testing.T) {
	ctx := context.Background()
	steps := githubSteps(t, ciSteps)
	envv, work := ciEnv(ctx, t, "github")
	files := map[string]string{}
	for _, f := range []string{"GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_PATH"} {
		files[f] = filepath.Join(work, strings.ToLower(f))
		if err := os.WriteFile(files[f], nil, 0o644); err != nil {
			t.Fatal(err)
		}
		envv = append(envv, f+"="+files[f])
	}
	for _, id := range ciSteps {
		out, err := runScript(ctx, t, append(envv, readEnvFile(t, files["GITHUB_ENV"])...), work, steps[id])
		if err != nil {
			t.Fatalf("step %s: %v\n%s", id, err, out)
		}
		t.Logf("step %s:\n%s", id, out)
	}
	summary, err := os.ReadFile(files["GITHUB_STEP_SUMMARY"])
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"hardenkit verify --key cosign.pub", "# hardenkit evidence report", "Verdict: PASS", "Release gate: accepted"} {
		if !strings.Contains(string(summary), w) {
			t.Errorf("job summary lacks %q:\n%s", w, summary)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "hardenkit.sarif")); err != nil {
		t.Errorf("no SARIF for the upload step: %v", err)
	}
	verifyPromoted(ctx, t, envv, work)
}

// TestCITemplateGitLab runs the GitLab job's script, read from the
// template, in one shell as GitLab's runner does.
func TestCITemplateGitLab(t *testing.T) {
	ctx := context.Background()
	b, err := os.ReadFile(gitlabCI)
	if err != nil {
		t.Fatal(err)
	}
	var ci map[string]struct {
		Script []string `yaml:"script"`
	}
	if err := yaml.Unmarshal(b, &ci); err != nil {
		t.Fatalf("%s: %v", gitlabCI, err)
	}
	script := ci["hardenkit"].Script
	if len(script) == 0 {
		t.Fatalf("%s: the hardenkit job has no script", gitlabCI)
	}
	envv, work := ciEnv(ctx, t, "gitlab")
	out, err := runScript(ctx, t, envv, work, strings.Join(script, "\n"))
	if err != nil {
		t.Fatalf("the job's script: %v\n%s", err, out)
	}
	if !strings.Contains(out, "verify with: hardenkit verify --key cosign.pub") {
		t.Errorf("the job does not print the verify command:\n%s", out)
	}
	verifyPromoted(ctx, t, envv, work)
}

// verifyPromoted checks, independently of the template, that the promoted
// tag is the signed, compliant image.
func verifyPromoted(ctx context.Context, t *testing.T, envv []string, work string) {
	t.Helper()
	var promoted string
	for _, e := range envv {
		if v, ok := strings.CutPrefix(e, "PROMOTE_TO="); ok {
			promoted = v
		}
	}
	out, err := run(ctx, t, nil, binaries.hardenkit, "verify", "--key", filepath.Join(work, "cosign.pub"), "--policy", filepath.Join(work, "release.yaml"), promoted)
	if err != nil {
		t.Fatalf("hardenkit verify %s: %v\n%s", promoted, err, out)
	}
}

// readEnvFile reads KEY=VALUE lines a step appended to GITHUB_ENV.
func readEnvFile(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "=") {
			out = append(out, sc.Text())
		}
	}
	return out
}
