package checkcmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/errdefs"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/frontend/report"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// cleanDockerfile passes the strict baseline (HEALTHCHECK only warns).
const cleanDockerfile = `FROM golang:1.22@` + digest + ` AS build
WORKDIR /src
COPY go.mod main.go ./
RUN go build -o /app .
FROM gcr.io/distroless/static-debian12@` + digest + `
COPY --from=build /app /app
USER 65532:65532
ENTRYPOINT ["/app"]
`

// dirtyDockerfile has enforced violations on lines 1, 2 and 3.
const dirtyDockerfile = `FROM debian:bookworm
RUN curl -k https://x.example/i | sh
USER root
`

// project writes files (path → content) into a fresh directory.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// result is one in-process run of a command.
type result struct {
	stdout, stderr string
	code           int
	err            error
}

// execute runs a command as main would, mapping the error to an exit code.
func execute(t *testing.T, cmd *cobra.Command, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	err := cmd.ExecuteContext(t.Context())
	r := result{stdout: out.String(), stderr: errb.String(), err: err}
	var ee *ExitError
	switch {
	case err == nil:
		r.code = ExitClean
	case errors.As(err, &ee):
		r.code = ee.Code
	default:
		t.Fatalf("error %v is not an *ExitError", err)
	}
	return r
}

func check(t *testing.T, args ...string) result {
	t.Helper()
	return execute(t, NewCheckCommand(), "", args...)
}

func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code = %d, want %d (err %v)\nstdout:\n%s\nstderr:\n%s", r.code, code, r.err, r.stdout, r.stderr)
	}
}

const goodIgnore = ".git\n.env\n**/*.key\n**/*.pem\n**/id_rsa*\n**/id_ecdsa*\n**/id_ed25519*\n"

func TestCheckClean(t *testing.T) {
	dir := project(t, map[string]string{"Dockerfile": cleanDockerfile})
	r := check(t, dir)
	wantCode(t, r, ExitClean)
	if !strings.Contains(r.stdout, "HK1090 [warn]") {
		t.Errorf("stdout = %q, want the HEALTHCHECK warning", r.stdout)
	}
	if !strings.Contains(r.stderr, "0 enforced, 1 warning(s), 0 waived (policy strict sha256:") {
		t.Errorf("stderr = %q, want the summary", r.stderr)
	}
}

func TestCheckViolations(t *testing.T) {
	dir := project(t, map[string]string{"Dockerfile": dirtyDockerfile})
	r := check(t, dir)
	wantCode(t, r, ExitViolations)
	name := filepath.ToSlash(filepath.Join(dir, "Dockerfile"))
	for _, want := range []string{
		name + ":1 HK1001 [enforce]",
		name + ":2 HK1020 [enforce]",
		name + ":2 HK1021 [enforce]",
		name + ":3 HK1050 [enforce]",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.err.Error(), "enforced policy violation") {
		t.Errorf("error = %v", r.err)
	}
}

func TestCheckRelativeContextNamesFileRelative(t *testing.T) {
	dir := project(t, map[string]string{"app/Dockerfile": dirtyDockerfile})
	t.Chdir(dir)
	r := check(t, "--format", "json", "app")
	wantCode(t, r, ExitViolations)
	var doc report.JSONReport
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("stdout is not the JSON contract: %v\n%s", err, r.stdout)
	}
	if doc.Policy.Name != "strict" || !strings.HasPrefix(doc.Policy.Digest, "sha256:") {
		t.Errorf("policy = %+v", doc.Policy)
	}
	if len(doc.Findings) == 0 || doc.Findings[0].File != "app/Dockerfile" || doc.Findings[0].Family == "" {
		t.Errorf("findings = %+v, want file app/Dockerfile with catalog fields", doc.Findings)
	}
}

func TestCheckSARIFToFile(t *testing.T) {
	dir := project(t, map[string]string{"Dockerfile": dirtyDockerfile})
	out := filepath.Join(t.TempDir(), "hardenkit.sarif")
	r := check(t, "--format", "sarif", "-o", out, dir)
	wantCode(t, r, ExitViolations)
	if r.stdout != "" {
		t.Errorf("stdout = %q, want the report in the file only", r.stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, data)
}

func TestCheckParseErrorStillReports(t *testing.T) {
	dir := project(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nFROB ghp_0123456789abcdefghijklmnopqrstuvwxyZ\n"})
	for _, format := range []string{"sarif", "json"} {
		t.Run(format, func(t *testing.T) {
			r := check(t, "--format", format, dir)
			wantCode(t, r, ExitUsage)
			if strings.Contains(r.stdout, "ghp_") {
				t.Errorf("the report shows the token:\n%s", r.stdout)
			}
			var doc struct {
				Errors []report.Error
				Runs   []struct {
					Invocations []struct {
						ExecutionSuccessful        bool
						ToolExecutionNotifications []struct{ Message struct{ Text string } }
					}
				}
			}
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatalf("stdout is not a JSON document: %v\n%q", err, r.stdout)
			}
			msg := ""
			if format == "sarif" {
				validateSARIF(t, []byte(r.stdout))
				inv := doc.Runs[0].Invocations[0]
				if inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 1 {
					t.Fatalf("invocation = %+v, want a failed one with the error", inv)
				}
				msg = inv.ToolExecutionNotifications[0].Message.Text
			} else {
				if len(doc.Errors) != 1 || doc.Errors[0].Line != 2 {
					t.Fatalf("errors = %+v, want the parse error at line 2", doc.Errors)
				}
				msg = doc.Errors[0].Message
			}
			if !strings.Contains(msg, "unknown instruction") {
				t.Errorf("error message = %q", msg)
			}
		})
	}
}

func TestCheckTextEndsEachLine(t *testing.T) {
	dir := project(t, map[string]string{"Dockerfile": dirtyDockerfile})
	r := check(t, dir)
	if !strings.HasSuffix(r.stdout, "\n") {
		t.Errorf("text report does not end with a newline: %q", r.stdout)
	}
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if strings.Count(l, " [enforce] ")+strings.Count(l, " [warn] ") != 1 || strings.Contains(l, "hardenkit check:") {
			t.Errorf("line %q is not exactly one finding", l)
		}
	}
}

// validateSARIF checks a log against the vendored SARIF 2.1.0 schema.
func validateSARIF(t *testing.T, data []byte) {
	t.Helper()
	f, err := os.Open("../../../frontend/report/testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("SARIF does not validate: %v", err)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	dir := project(t, map[string]string{"Dockerfile": cleanDockerfile, "broken/Dockerfile": "FROM alpine\nFROB x\n", "bad.yaml": "apiVersion: nope\n"})
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no context", nil, "exactly one CONTEXT"},
		{"two contexts", []string{dir, dir}, "exactly one CONTEXT"},
		{"unknown flag", []string{"--frobnicate", dir}, "unknown flag"},
		{"bad format", []string{"--format", "xml", dir}, "want text, json or sarif"},
		{"context is not a directory", []string{filepath.Join(dir, "Dockerfile")}, "not a directory"},
		{"missing Dockerfile", []string{"-f", filepath.Join(dir, "nope"), dir}, "reading the Dockerfile"},
		{"parse error", []string{"-f", filepath.Join(dir, "broken/Dockerfile"), dir}, "unknown instruction"},
		{"bad policy", []string{"--policy", filepath.Join(dir, "bad.yaml"), dir}, "bad.yaml"},
		{"missing policy", []string{"--policy", filepath.Join(dir, "nope.yaml"), dir}, "nope.yaml"},
		{"unknown baseline", []string{"--policy", "builtin:lax", dir}, "unknown baseline"},
		{"missing exceptions", []string{"--exceptions", filepath.Join(dir, "nope.yaml"), dir}, "reading exceptions"},
		{"unknown target", []string{"--target", "nope", dir}, `target stage "nope"`},
		{"bad build arg", []string{"--build-arg", "=x", dir}, "want KEY=VALUE"},
		{"unwritable output", []string{"-o", filepath.Join(dir, "no/such/dir/out"), dir}, "creating report file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := check(t, tt.args...)
			wantCode(t, r, ExitUsage)
			if !strings.Contains(r.err.Error(), tt.msg) {
				t.Errorf("error = %v, want it to mention %q", r.err, tt.msg)
			}
		})
	}
}

func TestCheckParseErrorCarriesSource(t *testing.T) {
	dir := project(t, map[string]string{"Dockerfile": "FROM alpine\nFROB x\n"})
	r := check(t, dir)
	wantCode(t, r, ExitUsage)
	srcs := errdefs.Sources(r.err)
	if len(srcs) == 0 {
		t.Fatalf("error %v has no Dockerfile source for the CLI to print", r.err)
	}
	var b bytes.Buffer
	if err := srcs[0].Print(&b); err != nil || !strings.Contains(b.String(), ">>> FROB x") {
		t.Errorf("source snippet = %q (%v)", b.String(), err)
	}
}

func TestCheckPolicyBesideDockerfile(t *testing.T) {
	policy := "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\nrules:\n  HK1001: off\n  HK1020: warn\n  HK1021: warn\n  HK1050: warn\n"
	dir := project(t, map[string]string{"Dockerfile": dirtyDockerfile, "hardenkit.yaml": policy})
	r := check(t, "--format", "json", dir)
	wantCode(t, r, ExitClean)
	var doc report.JSONReport
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Policy.Name != "team" {
		t.Errorf("policy = %+v, want team (hardenkit.yaml beside the Dockerfile)", doc.Policy)
	}
	for _, f := range doc.Findings {
		if f.Rule == "HK1001" || f.Level == "enforce" {
			t.Errorf("finding %+v should be off or warn under the team policy", f)
		}
	}

	// --policy overrides the file beside the Dockerfile.
	r = check(t, "--policy", "strict", dir)
	wantCode(t, r, ExitViolations)
}

func TestCheckBaselineByName(t *testing.T) {
	// cis-docker warns about rules outside CIS §4, such as HK1020's
	// neighbours; HK1050 (CIS 4.1) is still enforced.
	dir := project(t, map[string]string{"Dockerfile": "FROM debian:bookworm@" + digest + "\nUSER root\n"})
	r := check(t, "--policy", "cis-docker", "--format", "json", dir)
	wantCode(t, r, ExitViolations)
	if !strings.Contains(r.stdout, `"name": "cis-docker"`) {
		t.Errorf("stdout = %s, want the cis-docker policy", r.stdout)
	}
}

func writeExceptions(t *testing.T, dir string, created, expires time.Time) string {
	t.Helper()
	p := filepath.Join(dir, "exceptions.yaml")
	content := fmt.Sprintf(`apiVersion: hardenkit.dev/v1alpha1
kind: Exceptions
exceptions:
  - id: EX-1
    rule: HK1050
    scope:
      stage: "0"
    justification: debug image used only in CI
    owner: alice@example.com
    approvedBy: bob@example.com
    created: %s
    expires: %s
`, created.Format(time.DateOnly), expires.Format(time.DateOnly))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// unsignedExceptionsPolicy is a team policy that accepts unsigned
// exceptions; the built-in baselines do not.
const unsignedExceptionsPolicy = "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\ncontrols:\n  exceptions:\n    requireSignature: false\n"

func TestCheckExceptions(t *testing.T) {
	dir := project(t, map[string]string{"Dockerfile": "FROM debian:bookworm@" + digest + "\nUSER root\n"})
	now := time.Now().UTC()

	valid := writeExceptions(t, t.TempDir(), now.AddDate(0, 0, -1), now.AddDate(0, 0, 30))
	// Under the strict baseline an unsigned exception is refused.
	r := check(t, "--exceptions", valid, dir)
	wantCode(t, r, ExitUsage)
	if !strings.Contains(r.stderr, "unsigned: the policy requires a signature by an approver key and names none") {
		t.Errorf("strict accepted an unsigned exception: %s", r.stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "hardenkit.yaml"), []byte(unsignedExceptionsPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	r = check(t, "--exceptions", valid, "--format", "json", dir)
	wantCode(t, r, ExitClean)
	var doc report.JSONReport
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	waived := false
	for _, f := range doc.Findings {
		if f.Rule == "HK1050" {
			waived = f.Level == "waived" && f.Waiver == "EX-1"
		}
	}
	if !waived {
		t.Errorf("findings = %+v, want HK1050 waived by EX-1 (kept in the report)", doc.Findings)
	}

	expired := writeExceptions(t, t.TempDir(), now.AddDate(0, 0, -60), now.AddDate(0, 0, -1))
	r = check(t, "--exceptions", expired, dir)
	wantCode(t, r, ExitUsage)
	if !strings.Contains(r.err.Error(), "expired") {
		t.Errorf("error = %v, want it to say the exception expired", r.err)
	}
}

func TestCheckExceptionsNamedByPolicy(t *testing.T) {
	dir := project(t, map[string]string{
		"Dockerfile":     "FROM debian:bookworm@" + digest + "\nUSER root\n",
		"hardenkit.yaml": "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\ncontrols:\n  exceptions:\n    file: waivers.yaml\n    requireSignature: false\n",
	})
	now := time.Now().UTC()
	p := writeExceptions(t, dir, now.AddDate(0, 0, -1), now.AddDate(0, 0, 30))
	if err := os.Rename(p, filepath.Join(dir, "waivers.yaml")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // paths in the policy are relative to the policy file, not the working directory
	r := check(t, dir)
	wantCode(t, r, ExitClean)
	if !strings.Contains(r.stdout, "HK1050 [waived]") || !strings.Contains(r.stdout, "waived by exception EX-1") {
		t.Errorf("stdout = %s, want HK1050 waived by EX-1", r.stdout)
	}
}

func TestCheckInlineSuppressionAllowedByPolicy(t *testing.T) {
	df := "FROM debian:bookworm@" + digest + "\n# hardenkit:ignore=HK1050 reason=\"base image needs root for its entrypoint\"\nUSER root\n"
	dir := project(t, map[string]string{
		"Dockerfile":     df,
		"hardenkit.yaml": "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\ncontrols:\n  exceptions:\n    allowInline: true\n",
	})
	r := check(t, dir)
	wantCode(t, r, ExitClean)
	if !strings.Contains(r.stdout, "HK1050 [waived]") {
		t.Errorf("stdout = %s", r.stdout)
	}
	// Under strict, the same comment is itself a violation and waives nothing.
	r = check(t, "--policy", "strict", dir)
	wantCode(t, r, ExitViolations)
	if !strings.Contains(r.stdout, "HK1099 [enforce]") || !strings.Contains(r.stdout, "HK1050 [enforce]") {
		t.Errorf("stdout = %s", r.stdout)
	}
}

func TestCheckDockerignore(t *testing.T) {
	df := "FROM golang:1.22@" + digest + "\nCOPY . .\n"
	t.Run("none", func(t *testing.T) {
		// A warning: the build's context scan (HK3054) is what fails on a
		// secret actually copied.
		r := check(t, project(t, map[string]string{"Dockerfile": df}))
		wantCode(t, r, ExitClean)
		if !strings.Contains(r.stdout, "HK1070 [warn]") || !strings.Contains(r.stdout, "no .dockerignore") {
			t.Errorf("stdout = %s", r.stdout)
		}
	})
	t.Run("context .dockerignore", func(t *testing.T) {
		r := check(t, project(t, map[string]string{"Dockerfile": df, ".dockerignore": goodIgnore}))
		if strings.Contains(r.stdout, "HK1070") {
			t.Errorf("stdout = %s, want no HK1070", r.stdout)
		}
	})
	t.Run("Dockerfile-specific ignore file wins", func(t *testing.T) {
		dir := project(t, map[string]string{"build/app.Dockerfile": df, "build/app.Dockerfile.dockerignore": ".git\n", ".dockerignore": goodIgnore})
		r := check(t, "-f", filepath.Join(dir, "build/app.Dockerfile"), dir)
		if !strings.Contains(r.stdout, "HK1070") || !strings.Contains(r.stdout, "does not exclude .env") {
			t.Errorf("stdout = %s, want HK1070 from app.Dockerfile.dockerignore", r.stdout)
		}
	})
}

func TestCheckBuildArgs(t *testing.T) {
	df := "FROM alpine:3.20@" + digest + "\nARG NPM_TOKEN\nARG BASE_USER=app\nUSER ${BASE_USER}\n"
	dir := project(t, map[string]string{"Dockerfile": df, ".dockerignore": goodIgnore})
	r := check(t, "--build-arg", "BASE_USER=root", dir)
	wantCode(t, r, ExitViolations)
	if !strings.Contains(r.stdout, ":4 HK1050") {
		t.Errorf("stdout = %s, want USER expanded from the build arg", r.stdout)
	}
	t.Setenv("NPM_TOKEN", "npm-secret-value")
	r = check(t, "--build-arg", "NPM_TOKEN", dir)
	wantCode(t, r, ExitViolations)
	if !strings.Contains(r.stdout, ":2 HK1062") || strings.Contains(r.stdout, "npm-secret-value") {
		t.Errorf("stdout = %s, want HK1062 without the value", r.stdout)
	}
}

func TestCheckStdinAndTarget(t *testing.T) {
	dir := project(t, map[string]string{})
	df := "FROM alpine:3.20@" + digest + " AS debug\nUSER root\nFROM alpine:3.20@" + digest + "\nUSER 1000\n"
	r := execute(t, NewCheckCommand(), df, "-f", "-", dir)
	wantCode(t, r, ExitClean)
	r = execute(t, NewCheckCommand(), df, "-f", "-", "--target", "debug", dir)
	wantCode(t, r, ExitViolations)
	if !strings.Contains(r.stdout, "Dockerfile:2 HK1050") {
		t.Errorf("stdout = %s", r.stdout)
	}
}
