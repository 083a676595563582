package integration

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/integration/devenv"
)

// Governance: the bypasses of issue 14, each tried as an attacker would.
// Every refused attempt fails the build early (before any image is built)
// with a message naming the source and the setting or rule; the one build
// that passes shows the effective policy in its compliance statement.

// ciPolicy is what CI passes as the hardenkit-policy named context: off is
// forbidden, and the local base images (which cannot be pinned) only warn.
const ciPolicy = `apiVersion: hardenkit.dev/v1alpha1
kind: Policy
name: ci
baseline: strict
rules:
  HK1001: warn
controls:
  mode:
    allowOff: false
`

// approver is an exception approver's key pair, its public key as PEM.
type approver struct {
	key ed25519.PrivateKey
	pem string
}

func newApprover(t *testing.T) approver {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return approver{key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
}

// exceptionsYAML writes records as an exceptions file (JSON is YAML), each
// signed by a when a is not nil.
func exceptionsYAML(t *testing.T, a *approver, recs ...exceptions.Exception) string {
	t.Helper()
	type sig struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}
	type env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []sig  `json:"signatures"`
	}
	type rec struct {
		ID            string           `json:"id"`
		Rule          string           `json:"rule"`
		Scope         exceptions.Scope `json:"scope"`
		Justification string           `json:"justification"`
		Owner         string           `json:"owner"`
		ApprovedBy    string           `json:"approvedBy"`
		Created       string           `json:"created"`
		Expires       string           `json:"expires"`
		Signature     *env             `json:"signature,omitempty"`
	}
	doc := struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Exceptions []rec  `json:"exceptions"`
	}{APIVersion: "hardenkit.dev/v1alpha1", Kind: "Exceptions"}
	for _, e := range recs {
		// The file has whole seconds: sign what it says.
		e.Created, e.Expires = e.Created.Truncate(time.Second), e.Expires.Truncate(time.Second)
		r := rec{ID: e.ID, Rule: e.Rule, Scope: e.Scope, Justification: e.Justification, Owner: e.Owner, ApprovedBy: e.ApprovedBy,
			Created: e.Created.UTC().Format(time.RFC3339), Expires: e.Expires.UTC().Format(time.RFC3339)}
		if a != nil {
			s, err := exceptions.Sign(e, a.key, "security-team")
			if err != nil {
				t.Fatal(err)
			}
			r.Signature = &env{PayloadType: s.PayloadType, Payload: s.Payload}
			for _, x := range s.Signatures {
				r.Signature.Signatures = append(r.Signature.Signatures, sig{KeyID: x.KeyID, Sig: x.Sig})
			}
		}
		doc.Exceptions = append(doc.Exceptions, r)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// governanceContext writes the SSH Dockerfile (HK1043 at line 3) and files
// into a fresh context directory.
func governanceContext(t *testing.T, dockerfile string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{"Dockerfile": dockerfile, "app": "#!/app\n", ".dockerignore": ".git\n.env\n**/*.key\n**/*.pem\n"}
	for k, v := range files {
		all[k] = v
	}
	for name, content := range all {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func dirWith(t *testing.T, name, content string) string {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

func wantFailure(t *testing.T, res *buildResult, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the build succeeded, want it to fail naming %q:\n%s", want, res.progress)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

// TestGovernanceBypassesFail: each bypass of the policy and the exception
// machinery fails the build, saying which source tried what.
func TestGovernanceBypassesFail(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	enforce := map[string]string{"build-arg:HARDENKIT_MODE": "enforce"}
	ciCtx := dirWith(t, "hardenkit.yaml", ciPolicy)
	a := newApprover(t)
	teamPolicy := ciPolicy + "  exceptions:\n    approverKeys:\n      - |\n" + indentLines(a.pem, "        ")
	waiver := exceptions.Exception{ID: "EX-GOV-1", Rule: "HK1043", Scope: exceptions.Scope{Path: "Dockerfile"},
		Justification: "the test image exposes SSH", Owner: "alice@example.com", ApprovedBy: "\u0430lice@example.com",
		Created: now.AddDate(0, 0, -1), Expires: now.AddDate(0, 0, 20)}
	secretWaiver := waiver
	secretWaiver.ID, secretWaiver.Rule, secretWaiver.Scope, secretWaiver.ApprovedBy = "EX-GOV-2", "HK3052", exceptions.Scope{Path: "/a*/**"}, "security@example.com"
	unsigned := waiver
	unsigned.ApprovedBy = "security@example.com"

	tests := []struct {
		name     string
		files    map[string]string // beside the Dockerfile
		attrs    map[string]string
		contexts map[string]string
		want     []string
	}{
		{
			name:     "a build arg replaces the CI policy to allow off",
			attrs:    map[string]string{"build-arg:HARDENKIT_MODE": "off", "build-arg:HARDENKIT_POLICY": "strict"},
			contexts: map[string]string{"hardenkit-policy": ciCtx},
			want: []string{"policy builtin:strict (build-arg) may only tighten", "hardenkit-policy:hardenkit.yaml (ci)", "controls.mode.allowOff: true would allow HARDENKIT_MODE=off",
				"to fix: drop HARDENKIT_POLICY=strict (the build arg or --policy flag)"},
		},
		{
			name:     "HARDENKIT_MODE=off where the CI policy forbids it",
			attrs:    map[string]string{"build-arg:HARDENKIT_MODE": "off"},
			contexts: map[string]string{"hardenkit-policy": ciCtx},
			want: []string{"HARDENKIT_MODE=off is not allowed by the policy ci (controls.mode.allowOff is false; policy sources: hardenkit-policy:hardenkit.yaml (ci))",
				"to fix: build without HARDENKIT_MODE=off", "ask the owner of hardenkit-policy:hardenkit.yaml (ci) to set controls.mode.allowOff: true there"},
		},
		{
			name:     "a policy beside the Dockerfile switches every rule off",
			files:    map[string]string{"hardenkit.yaml": "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: strict\ndefaults:\n  level: off\n"},
			attrs:    enforce,
			contexts: map[string]string{"hardenkit-policy": ciCtx},
			want: []string{"policy hardenkit.yaml (dockerfile) may only tighten", "hardenkit.yaml:5: defaults.level: would lower ", " rules from enforce to off: ", " HK1043, ",
				"to fix: remove these settings from hardenkit.yaml, or make them at least as strict as hardenkit-policy:hardenkit.yaml (ci) has them"},
		},
		{
			name:     "approval by the owner in Cyrillic",
			files:    map[string]string{"hardenkit.yaml": teamPolicy},
			attrs:    enforce,
			contexts: map[string]string{"hardenkit-exceptions": dirWith(t, "exceptions.yaml", exceptionsYAML(t, &a, waiver, secretWaiver))},
			want: []string{`exception "EX-GOV-1": approvedBy "аlice@example.com" is the owner "alice@example.com"`,
				`exception "EX-GOV-2": over-broad: scope.path "/a*/**" waives HK3052 in a whole directory tree`},
		},
		{
			name:     "an unsigned exception under a built-in baseline",
			files:    map[string]string{"hardenkit.yaml": ciPolicy},
			attrs:    enforce,
			contexts: map[string]string{"hardenkit-exceptions": dirWith(t, "exceptions.yaml", exceptionsYAML(t, nil, unsigned))},
			want: []string{`exception "EX-GOV-1": unsigned: the policy requires a signature by an approver key and names none`,
				"sign with `hardenkit exceptions sign --key approver.key FILE`"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := governanceContext(t, sshDockerfile, tt.files)
			res, err := build(ctx, t, inProcess, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"), attrs: tt.attrs, contexts: tt.contexts, noExport: true})
			wantFailure(t, res, err, tt.want...)
		})
	}

	// A parent image's ONBUILD trigger downloads without a checksum.
	t.Run("ONBUILD trigger of the base image", func(t *testing.T) {
		ref := pushOnbuildBase(ctx, t, "ADD http://downloads.example.com/tool.tgz /opt/")
		df := "FROM busybox:1.35 AS tools\nRUN true\n\nFROM " + ref + "\nCOPY app /app\nUSER 65532:65532\n"
		dir := governanceContext(t, df, map[string]string{"hardenkit.yaml": ciPolicy})
		res, err := build(ctx, t, inProcess, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"), attrs: enforce, noExport: true})
		wantFailure(t, res, err, "Dockerfile:4 HK1010", "ONBUILD trigger of base image "+ref, `"ADD http://downloads.example.com/tool.tgz /opt/"`)
	})

	// The same image given as a named context replaces the FROM name, and
	// BuildKit runs the triggers of its config all the same.
	t.Run("ONBUILD trigger of a docker-image:// named context", func(t *testing.T) {
		ref := pushOnbuildBase(ctx, t, "ADD http://downloads.example.com/ctx.tgz /opt/")
		dir := governanceContext(t, "FROM base\nCOPY app /app\nUSER 65532:65532\n", map[string]string{"hardenkit.yaml": ciPolicy})
		res, err := build(ctx, t, inProcess, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"), attrs: enforce, noExport: true,
			contexts: map[string]string{"base": "docker-image://" + ref}})
		wantFailure(t, res, err, "Dockerfile:1 HK1010", "ONBUILD trigger of base image base", `"ADD http://downloads.example.com/ctx.tgz /opt/"`)
	})

	// A multi-platform build: only the second platform's image has the
	// trigger, and each platform's base is checked.
	t.Run("ONBUILD trigger of another platform's image", func(t *testing.T) {
		ref := pushOnbuildIndex(ctx, t, "ADD http://downloads.example.com/arm.tgz /opt/")
		dir := governanceContext(t, "FROM "+ref+"\nCOPY app /app\nUSER 65532:65532\n", map[string]string{"hardenkit.yaml": ciPolicy})
		attrs := map[string]string{"platform": "linux/amd64,linux/arm64"}
		for k, v := range enforce {
			attrs[k] = v
		}
		res, err := build(ctx, t, inProcess, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"), attrs: attrs, noExport: true})
		wantFailure(t, res, err, "Dockerfile:1 HK1010", "ONBUILD trigger of base image "+ref, `"ADD http://downloads.example.com/arm.tgz /opt/"`)
	})

	// The organisation's frontend image outranks everything a build brings.
	t.Run("organisation policy in the frontend image", func(t *testing.T) {
		org := pushOrgFrontend(ctx, t, strings.Replace(ciPolicy, "name: ci", "name: acme-org", 1))
		dir := governanceContext(t, sshDockerfile, map[string]string{"hardenkit.yaml": "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\nrules:\n  HK1043: off\n"})
		res, err := build(ctx, t, stock, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"), noExport: true,
			attrs: map[string]string{"build-arg:BUILDKIT_SYNTAX": org, "build-arg:HARDENKIT_MODE": "enforce"}})
		wantFailure(t, res, err, "policy hardenkit.yaml (dockerfile) may only tighten the policy of frontend:/etc/hardenkit/policy.yaml (organisation)",
			"hardenkit.yaml:5: rules.HK1043: would lower HK1043 from enforce to off")
	})
}

// TestGovernanceEvidence: a policy that disables rules builds (it is the
// team's top source) but says so — in the build output and in the
// compliance statement, rule by rule — and a signed exception is announced
// and recorded with owner, approver, signer, justification digest and scope.
// The approver's key and signature come from the CLI, as docs/exceptions.md
// tells an approver to make them.
func TestGovernanceEvidence(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	keyDir := t.TempDir()
	password := []string{"COSIGN_PASSWORD=approver-password"}
	if out, err := run(ctx, t, password, binaries.hardenkit, "keygen", "--output-prefix", filepath.Join(keyDir, "approver")); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	approverPub, err := os.ReadFile(filepath.Join(keyDir, "approver.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pol := `apiVersion: hardenkit.dev/v1alpha1
kind: Policy
name: strict
baseline: strict
defaults:
  level: off
  select:
    - stages: [llb, image]
      level: enforce
rules:
  HK1043: enforce
controls:
  exceptions:
    approverKeys:
      - |
` + indentLines(string(approverPub), "        ")
	waiver := exceptions.Exception{ID: "EX-GOV-OK", Rule: "HK1043", Scope: exceptions.Scope{Path: "Dockerfile"},
		Justification: "the test image exposes SSH to exercise the waiver path", Owner: "dev@example.com", ApprovedBy: "security@example.com",
		Created: now.AddDate(0, 0, -1), Expires: now.AddDate(0, 0, 20)}
	dir := governanceContext(t, sshDockerfile, map[string]string{"hardenkit.yaml": pol})
	exFile := filepath.Join(t.TempDir(), "exceptions.yaml")
	if err := os.WriteFile(exFile, []byte(exceptionsYAML(t, nil, waiver)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(ctx, t, password, binaries.hardenkit, "exceptions", "sign", "--key", filepath.Join(keyDir, "approver.key"), exFile); err != nil {
		t.Fatalf("exceptions sign: %v\n%s", err, out)
	}
	// Through the CLI, as a user sees the output (every warning listed).
	dest := filepath.Join(t.TempDir(), "image.tar")
	out, err := run(ctx, t, nil, binaries.hardenkit, "build", "--addr", env.BuildkitAddr, "--progress", "plain",
		"--exceptions", exFile, "--output", "type=oci,dest="+dest, dir)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	oci, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	pred := compliancePredicate(t, oci)
	pub, err := exceptions.ParsePublicKey(approverPub)
	if err != nil {
		t.Fatal(err)
	}
	keyID, err := exceptions.KeyID(pub)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("build output", func(t *testing.T) {
		for _, w := range []string{"policy strict (from hardenkit.yaml (dockerfile)) disables", "HK1001", "policy.disabledRules",
			"exception EX-GOV-OK applied: waives HK1043 (path=Dockerfile), owner dev@example.com, approved by security@example.com, signed by key " + keyID} {
			if !strings.Contains(out, w) {
				t.Errorf("build output lacks %q:\n%s", w, out)
			}
		}
	})
	t.Run("effective levels", func(t *testing.T) {
		levels := map[string]string{}
		for _, r := range pred.Rules {
			levels[r.ID] = string(r.Level)
		}
		for id, want := range map[string]string{"HK1001": "off", "HK1050": "off", "HK1043": "enforce", "HK2030": "enforce"} {
			if levels[id] != want {
				t.Errorf("%s level %q, want %q", id, levels[id], want)
			}
		}
		for _, r := range pred.Rules {
			if r.Level == "" {
				t.Errorf("%s has no level", r.ID)
			}
		}
		if !contains(pred.Policy.DisabledRules, "HK1001") || !contains(pred.Policy.BelowBaseline, "HK1050") || contains(pred.Policy.DisabledRules, "HK1043") {
			t.Errorf("policy = %+v", pred.Policy)
		}
		if pred.Policy.Baseline != "strict" || len(pred.Policy.Sources) != 1 || pred.Policy.Sources[0].Rank != "dockerfile" ||
			pred.Policy.Sources[0].Name != "hardenkit.yaml" || !strings.HasPrefix(pred.Policy.Sources[0].Digest, "sha256:") {
			t.Errorf("policy sources = %+v", pred.Policy.Sources)
		}
	})
	t.Run("applied exception", func(t *testing.T) {
		if len(pred.Exceptions) != 1 {
			t.Fatalf("exceptions = %+v", pred.Exceptions)
		}
		e := pred.Exceptions[0]
		if e.ID != "EX-GOV-OK" || e.Owner != "dev@example.com" || e.ApprovedBy != "security@example.com" || e.SignerKeyID != keyID ||
			!strings.HasPrefix(e.JustificationDigest, "sha256:") || e.Scope == nil || e.Scope.Path != "Dockerfile" {
			t.Errorf("exception record = %+v", e)
		}
		if strings.Contains(string(mustJSON(t, pred)), waiver.Justification) {
			t.Error("the justification text is in the statement; only its digest belongs there")
		}
	})
}

// compliancePredicate decodes the compliance statement of an OCI tarball.
func compliancePredicate(t *testing.T, oci []byte) compliance.Predicate {
	t.Helper()
	var st struct {
		Predicate compliance.Predicate `json:"predicate"`
	}
	if err := json.Unmarshal(complianceStatement(t, oci), &st); err != nil {
		t.Fatal(err)
	}
	return st.Predicate
}

// complianceStatement returns the one compliance statement attached to the
// image of an OCI tarball.
func complianceStatement(t *testing.T, oci []byte) []byte {
	t.Helper()
	l, img := readOCI(t, oci)
	atts, err := l.Attestations(img.Descriptor.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(atts[compliance.PredicateType]); n != 1 {
		t.Fatalf("%d compliance attestations, want 1", n)
	}
	return atts[compliance.PredicateType][0]
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func indentLines(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(prefix + l + "\n")
	}
	return b.String()
}

// pushOnbuildBase pushes an image without layers whose config carries the
// ONBUILD trigger, and returns its digest-pinned reference.
func pushOnbuildBase(ctx context.Context, t *testing.T, trigger string) string {
	t.Helper()
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: runtime.GOARCH, OS: "linux",
		RootFS: v1.RootFS{Type: "layers"},
		Config: v1.Config{OnBuild: []string{trigger}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := devenv.PushImage(ctx, env.Registry+"/hardenkit-it/onbuild:1", img)
	if err != nil {
		t.Fatal(err)
	}
	return ref.String()
}

// pushOnbuildIndex pushes an image index for linux/amd64 and linux/arm64
// in which only the arm64 image has trigger, and returns its
// digest-pinned reference.
func pushOnbuildIndex(ctx context.Context, t *testing.T, trigger string) string {
	t.Helper()
	idx := v1.ImageIndex(empty.Index)
	for _, p := range []struct {
		arch     string
		triggers []string
	}{{"amd64", nil}, {"arm64", []string{trigger}}} {
		img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
			Architecture: p.arch, OS: "linux",
			RootFS: v1.RootFS{Type: "layers"},
			Config: v1.Config{OnBuild: p.triggers},
		})
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: p.arch}}})
	}
	tag, err := name.ParseReference(env.Registry + "/hardenkit-it/onbuild-index:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(tag, idx, remote.WithContext(ctx)); err != nil {
		t.Fatalf("pushing %s: %v", tag, err)
	}
	dgst, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return tag.Context().Digest(dgst.String()).String()
}

// pushOrgFrontend pushes the dev frontend image with an organisation
// policy baked in and returns its digest-pinned reference.
func pushOrgFrontend(ctx context.Context, t *testing.T, policy string) string {
	t.Helper()
	ref, err := name.ParseReference(env.Frontend)
	if err != nil {
		t.Fatal(err)
	}
	base, err := remote.Image(ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("reading the frontend image %s: %v", env.Frontend, err)
	}
	img, err := devenv.WithOrgPolicy(base, []byte(policy))
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := devenv.PushImage(ctx, env.Registry+"/hardenkit/frontend:org-it", img)
	if err != nil {
		t.Fatal(err)
	}
	return pinned.String()
}
