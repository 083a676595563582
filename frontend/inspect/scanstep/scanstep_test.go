package scanstep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/llb/step"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMainScansRootAndContext runs the scanner's entry point as the step
// does, on directories, and reads its result back.
func TestMainScansRootAndContext(t *testing.T) {
	secret := secretstest.Generate(t)
	dir := t.TempDir()
	root, bctx := filepath.Join(dir, "rootfs"), filepath.Join(dir, "context")
	writeFiles(t, root, map[string]string{
		"etc/passwd":   "app:x:65532:65532::/nonexistent:/usr/sbin/nologin\n",
		"etc/group":    "app:x:65532:\n",
		"app/config":   "aws_access_key_id = " + secret.AWSAccessKeyID + "\n",
		"app/Makefile": "all:\n",
	})
	writeFiles(t, bctx, map[string]string{"keys/id.pem": secret.PrivateKeyPEM})

	pol, err := policy.Baseline(policy.BaselineStrict)
	if err != nil {
		t.Fatal(err)
	}
	img := &dockerspec.DockerOCIImage{}
	img.Config.User = "65532:65532"
	req, err := json.Marshal(request{Image: img, Settings: settingsOf(pol), Context: true})
	if err != nil {
		t.Fatal(err)
	}
	reqPath, out := filepath.Join(dir, "request.json"), t.TempDir()
	if err := os.WriteFile(reqPath, req, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if err := Command().Main(t.Context(), []string{"--request", reqPath, "--root", root, "--context", bctx, "--out", out}, &stderr); err != nil {
		t.Fatalf("Main: %v\n%s", err, stderr.String())
	}
	dt, err := os.ReadFile(filepath.Join(out, step.AnswerFile))
	if err != nil {
		t.Fatal(err)
	}
	secretstest.AssertNoLeak(t, secret, "scanner result", string(dt))
	secretstest.AssertNoLeak(t, secret, "scanner output", stderr.String())
	var resp Response
	if err := json.Unmarshal(dt, &resp); err != nil {
		t.Fatal(err)
	}
	var fileHit bool
	for _, f := range resp.Image.Findings {
		if f.Rule == "HK3052" && f.File == "/app/config" && len(f.Fingerprint) == 16 {
			fileHit = true
		}
	}
	if !fileHit {
		t.Errorf("no HK3052 finding for /app/config: %+v", resp.Image.Findings)
	}
	if resp.Image.Status["HK3052"] != inspect.StatusFail {
		t.Errorf("HK3052 status %q, want fail", resp.Image.Status["HK3052"])
	}
	// Config secret checks are the frontend's, not the step's.
	for _, id := range []string{"HK3050", "HK3051", "HK3053"} {
		if _, ok := resp.Image.Status[id]; ok {
			t.Errorf("the scanner evaluated %s, which is the frontend's", id)
		}
	}
	if resp.Context == nil || len(resp.Context.Findings) != 1 || resp.Context.Findings[0].File != "context:keys/id.pem" {
		t.Errorf("context findings: %+v", resp.Context)
	}
}

func TestMainRejectsBadInvocations(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no args", nil, "usage"},
		{"missing request", []string{"--request", filepath.Join(dir, "none.json"), "--root", dir, "--out", filepath.Join(dir, "o")}, "reading the request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Command().Main(t.Context(), tt.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Command().Main(%v) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestStepKeepsConfigSecretsOut checks that Env, labels, ONBUILD triggers
// and history never
// reach the step's LLB definition, which the build cache and provenance
// record.
func TestStepKeepsConfigSecretsOut(t *testing.T) {
	secret := secretstest.Generate(t)
	pol, err := policy.Baseline(policy.BaselineStrict)
	if err != nil {
		t.Fatal(err)
	}
	img := &dockerspec.DockerOCIImage{}
	img.Config.Env = []string{"GITHUB_TOKEN=" + secret.GitHubToken}
	img.Config.Labels = map[string]string{"token": secret.JWT}
	img.Config.OnBuild = []string{"RUN echo " + secret.NPMToken + " > /root/.npmrc"}
	img.History = []ocispec.History{{CreatedBy: "RUN |1 AWS_SECRET_ACCESS_KEY=" + secret.AWSSecretAccessKey + " /bin/sh -c true"}}
	st, err := Step(Scan{Scanner: llb.Image("scanner"), Root: llb.Scratch(), Image: img, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	def, err := st.Marshal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range def.Def {
		secretstest.AssertNoLeak(t, secret, fmt.Sprintf("LLB op %d", i), string(op))
	}
	if len(img.Config.Env) != 1 {
		t.Errorf("Step modified the caller's image config")
	}
}

// stepDigest is the digest of the scan step's definition under p, with a
// build context when withContext.
func stepDigest(t *testing.T, p *policy.Policy, withContext bool) digest.Digest {
	t.Helper()
	s := Scan{Scanner: llb.Image("scanner"), Root: llb.Image("app"), Image: &dockerspec.DockerOCIImage{}, Policy: p}
	if withContext {
		bctx := llb.Local("context", llb.LocalUniqueID("test")) // else a random id per call
		s.Context = &bctx
	}
	st, err := Step(s)
	if err != nil {
		t.Fatal(err)
	}
	def, err := st.Marshal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The last op is the definition's root; its digest covers every op.
	return digest.FromBytes(def.Def[len(def.Def)-1])
}

// TestStepKeepsItsCache: editing a policy setting the scanner does not
// read leaves the step's definition — and so its cache — as it was;
// editing one it reads changes it.
func TestStepKeepsItsCache(t *testing.T) {
	strict := func(t *testing.T) *policy.Policy {
		p, err := policy.Baseline(policy.BaselineStrict)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	want := stepDigest(t, strict(t), true)
	if again := stepDigest(t, strict(t), true); again != want {
		t.Fatalf("the same policy gave two definitions")
	}
	tests := []struct {
		name    string
		edit    func(*policy.Policy)
		changes bool
	}{
		{"vulnerability DB age", func(p *policy.Policy) { p.Controls.Vulnerabilities.MaxDBAge = policy.Duration(time.Hour) }, false},
		{"exceptions", func(p *policy.Policy) { p.Controls.Exceptions.RequireSignature = false }, false},
		{"distroless", func(p *policy.Policy) { p.Controls.Distroless.Mode = policy.DistrolessStrip }, false},
		{"user", func(p *policy.Policy) { p.Controls.User.UID = 1000 }, false},
		{"name", func(p *policy.Policy) { p.Name = "team" }, false},
		{"a hardening rule", func(p *policy.Policy) { p.Rules["HK2023"] = rules.LevelOff }, false},
		{"a config secret rule, the frontend's", func(p *policy.Policy) { p.Rules["HK3050"] = rules.LevelOff }, false},
		{"a filesystem rule", func(p *policy.Policy) { p.Rules["HK3052"] = rules.LevelWarn }, true},
		{"the context rule", func(p *policy.Policy) { p.Rules["HK3054"] = rules.LevelWarn }, true},
		{"secrets", func(p *policy.Policy) { p.Controls.Secrets.MaxFileSize = 1 }, true},
		{"tooling", func(p *policy.Policy) { p.Controls.Tooling.Keep = []string{"/bin/sh"} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := strict(t)
			tt.edit(p)
			if changed := stepDigest(t, p, true) != want; changed != tt.changes {
				t.Errorf("the step's definition changed: %v, want %v", changed, tt.changes)
			}
		})
	}
}

// TestSettingsKeepTheLevels: the scanner evaluates every rule it runs at
// the level the policy gives it.
func TestSettingsKeepTheLevels(t *testing.T) {
	for _, name := range []string{policy.BaselineStrict, policy.BaselineCISDocker} {
		p, err := policy.Baseline(name)
		if err != nil {
			t.Fatal(err)
		}
		p.Rules["HK3052"] = rules.LevelOff
		got := settingsOf(p).asPolicy()
		for _, r := range inspect.Rules() {
			if _, ok := settingsOf(p).Levels[r.ID]; ok && got.Level(r) != p.Level(r) {
				t.Errorf("%s: %s at %s, want %s", name, r.ID, got.Level(r), p.Level(r))
			}
		}
		for _, r := range inspect.ScopeRules(inspect.ScopeFilesystem) {
			if _, ok := settingsOf(p).Levels[r.ID]; !ok {
				t.Errorf("%s: the scanner runs %s without its level", name, r.ID)
			}
		}
		if !reflect.DeepEqual(got.Controls.Secrets, p.Controls.Secrets) || !reflect.DeepEqual(got.Controls.Tooling, p.Controls.Tooling) {
			t.Errorf("%s: the secrets and tooling controls differ", name)
		}
	}
}
