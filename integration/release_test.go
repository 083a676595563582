package integration

import (
	"bytes"
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

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	intoto "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/promote"
	"github.com/hardenkit/hardenkit/pkg/release/releasepolicy"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// releaseFixture is what the release tests share: keys, one signed image
// hardenkit built and pushed (also written as an OCI tarball), a second
// signed image, a signed HARDENKIT_MODE=off build, and release policies.
type releaseFixture struct {
	dir, pass     string
	key, pub      string // the release key pair
	otherKey      string
	base, other   string // digest references of signed hardenkit images
	modeOff       string
	tar           string // OCI tarball of base, signed
	policyDigest  string
	policy        string // release policy accepting base
	outputs       bytes.Buffer
	envv          []string
	exceptionsEnd time.Time
}

// hk runs the hardenkit CLI and returns stdout, stderr and the exit code;
// all output is kept to check no secret ever appears in it.
func (f *releaseFixture) hk(ctx context.Context, t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, binaries.hardenkit, args...)
	cmd.Env = append(os.Environ(), f.envv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	f.outputs.Write(stdout.Bytes())
	f.outputs.Write(stderr.Bytes())
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("hardenkit %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

func (f *releaseFixture) ref(repo string) string {
	return env.Registry + "/hk-release/" + repo + ":v1"
}

// buildSigned builds the test Dockerfile with hardenkit, pushes it to
// repo and signs it with --sign-key; it returns the digest reference.
func (f *releaseFixture) buildSigned(ctx context.Context, t *testing.T, app, repo string, extra ...string) string {
	t.Helper()
	meta := filepath.Join(t.TempDir(), "metadata.json")
	args := append([]string{"build", "--addr", env.BuildkitAddr, "--progress", "plain", "--metadata-file", meta,
		"--sign-key", f.key, "-o", "type=image,name=" + f.ref(repo) + ",push=true"}, extra...)
	stdout, stderr, code := f.hk(ctx, t, append(args, app)...)
	if code != 0 {
		t.Fatalf("hardenkit build: exit %d\n%s%s", code, stdout, stderr)
	}
	var md map[string]any
	dt, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dt, &md); err != nil {
		t.Fatal(err)
	}
	d, _ := md["containerimage.digest"].(string)
	if !strings.HasPrefix(d, "sha256:") {
		t.Fatalf("no image digest in the build metadata: %s", dt)
	}
	if !strings.Contains(stderr, "hardenkit: signed "+f.ref(repo)+"@"+d) {
		t.Fatalf("build --sign-key did not report signing %s:\n%s", d, stderr)
	}
	return env.Registry + "/hk-release/" + repo + "@" + d
}

// newReleaseFixture builds everything the release tests share, once.
func newReleaseFixture(ctx context.Context, t *testing.T) *releaseFixture {
	f := &releaseFixture{dir: t.TempDir(), pass: fmt.Sprintf("it-Pa55-%d", time.Now().UnixNano())}
	f.envv = []string{"COSIGN_PASSWORD=" + f.pass}
	for _, prefix := range []string{"release", "other"} {
		if stdout, stderr, code := f.hk(ctx, t, "keygen", "--output-prefix", filepath.Join(f.dir, prefix)); code != 0 {
			t.Fatalf("keygen: exit %d\n%s%s", code, stdout, stderr)
		}
	}
	f.key, f.pub, f.otherKey = filepath.Join(f.dir, "release.key"), filepath.Join(f.dir, "release.pub"), filepath.Join(f.dir, "other.key")

	// The built-in baselines accept signed exceptions only: the policy
	// names the approver's key.
	approverKey := newApprover(t)
	// The application is a static binary (the static-site example's
	// server): a build with no warning, so the release policy, which
	// refuses warnings, passes it.
	server, err := os.ReadFile(filepath.Join("..", "examples", "static-site", "bin", "server"))
	if err != nil {
		t.Fatal(err)
	}
	app := t.TempDir()
	for name, content := range map[string]string{
		"Dockerfile":     sshDockerfile,
		"app":            string(server),
		".dockerignore":  ".git\n.env\n**/*.key\n**/*.pem\n",
		"hardenkit.yaml": unpinnedBasesPolicy + "controls:\n  exceptions:\n    approverKeys:\n      - |\n" + indentLines(approverKey.pem, "        "),
	} {
		if err := os.WriteFile(filepath.Join(app, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	f.exceptionsEnd = now.AddDate(0, 0, 30)
	exfile := filepath.Join(f.dir, "exceptions.yaml")
	if err := os.WriteFile(exfile, []byte(exceptionsFile(t, approverKey, now.AddDate(0, 0, -1), f.exceptionsEnd)), 0o644); err != nil {
		t.Fatal(err)
	}
	f.tar = filepath.Join(f.dir, "app.tar")
	f.base = f.buildSigned(ctx, t, app, "app", "--exceptions", exfile)
	// The same build (cached) as a signed OCI tarball, for offline checks.
	if stdout, stderr, code := f.hk(ctx, t, "build", "--addr", env.BuildkitAddr, "--progress", "plain", "--exceptions", exfile,
		"--sign-key", f.key, "-o", "type=oci,dest="+f.tar, app); code != 0 || !strings.Contains(stderr, "hardenkit: signed oci-archive://"+f.tar) {
		t.Fatalf("hardenkit build -o type=oci --sign-key: exit %d\n%s%s", code, stdout, stderr)
	}
	f.other = f.buildSigned(ctx, t, app, "other", "--exceptions", exfile, "--label", "variant=other")
	f.modeOff = f.buildSigned(ctx, t, app, "modeoff", "--build-arg", "HARDENKIT_MODE=off")

	dt, err := os.ReadFile(f.tar)
	if err != nil {
		t.Fatal(err)
	}
	l, img := readOCI(t, dt)
	atts, err := l.Attestations(img.Descriptor.Digest)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Predicate compliance.Predicate `json:"predicate"`
	}
	if len(atts[compliance.PredicateType]) != 1 {
		t.Fatal("no compliance statement in the OCI tarball")
	}
	if err := json.Unmarshal(atts[compliance.PredicateType][0], &st); err != nil {
		t.Fatal(err)
	}
	f.policyDigest = st.Predicate.Policy.Digest
	f.policy = f.releasePolicy(t, "accept", f.policyDigest, true, "")
	return f
}

// releasePolicy writes a release policy accepting build policy digest,
// tolerating HK1001 warn when allowWarn (the test base images cannot be
// pinned), rules that did not run and the missing vulnerability database.
func (f *releaseFixture) releasePolicy(t *testing.T, name, digest string, allowWarn bool, builderID string) string {
	t.Helper()
	warn := "[]"
	if allowWarn {
		warn = "[HK1001, HK1090]"
	}
	doc := fmt.Sprintf(`apiVersion: hardenkit.dev/v1alpha1
kind: ReleasePolicy
policyDigests: [%q]
allow:
  warn: %s
  notEvaluated: ["*"]
  vulnerabilitiesNotEvaluated: true
`, digest, warn)
	if builderID != "" {
		doc += fmt.Sprintf("provenance:\n  builderId: %q\n", builderID)
	}
	p := filepath.Join(f.dir, name+".yaml")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// verify runs `hardenkit verify --format json` and returns the report.
func (f *releaseFixture) verify(ctx context.Context, t *testing.T, ref, pub, policy string) (*verify.Report, int, string) {
	t.Helper()
	stdout, stderr, code := f.hk(ctx, t, "verify", "--key", pub, "--policy", policy, "--format", "json", ref)
	if code == 2 {
		return nil, code, stderr
	}
	var rep verify.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("verify output is not a JSON report (exit %d): %v\n%s%s", code, err, stdout, stderr)
	}
	return &rep, code, stderr
}

// derive copies the base image to repo with edit applied, keeping the
// signatures that still match (an attacker without the key).
func (f *releaseFixture) derive(ctx context.Context, t *testing.T, from, repo string, keepSignatures bool, edit func(*releasetest.Image) error) string {
	t.Helper()
	img, err := releasetest.Load(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		if err := edit(img); err != nil {
			t.Fatal(err)
		}
	}
	ref, err := img.Push(ctx, f.ref(repo))
	if err != nil {
		t.Fatal(err)
	}
	if keepSignatures {
		if _, err := releasetest.CopySignatures(ctx, from, ref); err != nil {
			t.Fatal(err)
		}
	}
	return ref
}

func reportFailures(rep *verify.Report) map[string]string {
	out := map[string]string{}
	if rep == nil {
		return out
	}
	for k, v := range rep.Failures() {
		out[k] = strings.Join(v, "\n")
	}
	return out
}

// TestReleaseGate builds and signs real hardenkit images once, derives
// every tampered case from them with go-containerregistry, and checks
// that `hardenkit verify` refuses each with its precise reason and exit 1,
// that promote copies only what verifies (by digest), that the signed OCI
// tarball verifies offline, and that no key or password leaks.
func TestReleaseGate(t *testing.T) {
	ctx := context.Background()
	f := newReleaseFixture(ctx, t)
	pw := func(bool) ([]byte, error) { return []byte(f.pass), nil }
	priv, err := os.ReadFile(f.key)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := keys.LoadPrivateKey(priv, pw)
	if err != nil {
		t.Fatal(err)
	}
	baseRoot, baseChildren, err := releasetest.Descriptors(ctx, f.base)
	if err != nil {
		t.Fatal(err)
	}
	imgDigest := baseChildren[0].Digest

	unsigned := f.derive(ctx, t, f.base, "unsigned", false, nil)
	otherKey := f.derive(ctx, t, f.base, "otherkey", false, nil)
	if stdout, stderr, code := f.hk(ctx, t, "sign", "--key", f.otherKey, otherKey); code != 0 {
		t.Fatalf("sign: exit %d\n%s%s", code, stdout, stderr)
	}
	overOther := f.derive(ctx, t, f.base, "overother", false, nil)
	spdxOnly := f.derive(ctx, t, f.base, "spdxonly", false, nil)
	for _, d := range append([]v1.Descriptor{baseRoot}, baseChildren...) {
		if err := releasetest.SignAs(ctx, overOther, d, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}, sign.PredicateType, kp); err != nil {
			t.Fatal(err)
		}
		if err := releasetest.SignAs(ctx, spdxOnly, d, d.Digest, intoto.PredicateSPDX, kp); err != nil {
			t.Fatal(err)
		}
	}
	swapped := f.derive(ctx, t, f.base, "swapped", true, func(img *releasetest.Image) error {
		o, err := releasetest.Load(ctx, f.other)
		if err != nil {
			return err
		}
		oe := o.AttestationOf(o.ImageDigests()[0])
		img.SetManifest(img.AttestationOf(imgDigest.String()), o.Manifests[oe["digest"].(string)])
		for k, v := range o.Blobs {
			img.Blobs[k] = v
		}
		return nil
	})
	if _, err := releasetest.CopySignatures(ctx, f.other, swapped); err != nil {
		t.Fatal(err)
	}
	edited := f.derive(ctx, t, f.base, "edited", true, func(img *releasetest.Image) error {
		return img.EditStatement(compliance.PredicateType, func(st map[string]any) error {
			for _, r := range st["predicate"].(map[string]any)["rules"].([]any) {
				r.(map[string]any)["result"] = "pass"
			}
			return nil
		})
	})
	noSBOM := f.derive(ctx, t, f.base, "nosbom", true, func(img *releasetest.Image) error {
		return img.RemoveStatement(intoto.PredicateSPDX)
	})
	otherSBOM := f.derive(ctx, t, f.base, "othersbom", true, func(img *releasetest.Image) error {
		return img.EditStatement(intoto.PredicateSPDX, func(st map[string]any) error {
			st["predicate"].(map[string]any)["name"] = "another SBOM"
			return nil
		})
	})
	refuseWarn := f.releasePolicy(t, "refuse-warn", f.policyDigest, false, "")
	otherDigest := f.releasePolicy(t, "other-digest", "sha256:"+strings.Repeat("0", 64), true, "")
	builder := f.releasePolicy(t, "builder", f.policyDigest, true, "https://ci.example.com/trusted-builder")

	cases := []struct {
		name, ref, policy, check, reason string
	}{
		{"clean", f.base, f.policy, "", ""},
		{"unsigned", unsigned, f.policy, verify.CheckImageSignature, "is not signed: no sigstore bundle refers to it"},
		{"signed by another key", otherKey, f.policy, verify.CheckImageSignature, "not a valid signature by the trusted key"},
		{"signature over a different digest", overOther, f.policy, verify.CheckImageSignature, "not a valid signature by the trusted key"},
		{"only an SPDX attestation signed", spdxOnly, f.policy, verify.CheckImageSignature, "over a https://spdx.dev/Document statement, not an image signature"},
		{"attestation manifest from another image", swapped, f.policy, verify.CheckAttestations, "is about another image"},
		{"compliance statement edited after signing", edited, f.policy, verify.CheckAttestationSignature, "is not signed"},
		{"SBOM layer removed", noSBOM, f.policy, verify.CheckAttestations, "no SPDX SBOM statement"},
		{"SBOM replaced by another", otherSBOM, f.policy, verify.CheckAttestations, "the SBOM was replaced"},
		{"a warning the release policy refuses", f.base, refuseWarn, verify.CheckCompliance, "rule HK1001: warn"},
		{"policy digest not accepted", f.base, otherDigest, verify.CheckCompliance, "which the release policy does not accept"},
		{"HARDENKIT_MODE=off build", f.modeOff, f.policy, verify.CheckAttestations, "no hardenkit compliance statement"},
		{"provenance builder id", f.base, builder, verify.CheckProvenance, `the release policy requires "https://ci.example.com/trusted-builder"`},
		{"signed OCI tarball, offline", "oci-archive://" + f.tar, f.policy, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, code, stderr := f.verify(ctx, t, tc.ref, f.pub, tc.policy)
			if tc.check == "" {
				if code != 0 || !rep.Compliant {
					t.Fatalf("exit %d, want 0; failures: %v\n%s", code, reportFailures(rep), stderr)
				}
				return
			}
			if code != 1 || rep.Compliant {
				t.Fatalf("exit %d, want 1 (not compliant)\n%s", code, stderr)
			}
			if got := reportFailures(rep)[tc.check]; !strings.Contains(got, tc.reason) {
				t.Fatalf("check %s: reasons do not contain %q; failures: %v", tc.check, tc.reason, reportFailures(rep))
			}
		})
	}

	t.Run("exception expired after the build", func(t *testing.T) {
		st, err := store.OpenRemote(f.base, store.RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Verify(ctx, st, f.verifyOptions(t, f.exceptionsEnd.AddDate(0, 0, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if got := reportFailures(rep)[verify.CheckCompliance]; rep.Compliant || !strings.Contains(got, "exception EX-IT-1 (rule HK1043) expired") {
			t.Fatalf("failures: %v", reportFailures(rep))
		}
	})

	t.Run("could not verify", func(t *testing.T) {
		if _, code, _ := f.verify(ctx, t, "127.0.0.1:1/nothing:here", f.pub, f.policy); code != 2 {
			t.Errorf("unreachable registry: exit %d, want 2", code)
		}
		bad := filepath.Join(f.dir, "bad.yaml")
		if err := os.WriteFile(bad, []byte("apiVersion: hardenkit.dev/v1alpha1\nkind: ReleasePolicy\nalow: {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, code, stderr := f.verify(ctx, t, f.base, f.pub, bad); code != 2 || !strings.Contains(stderr, "bad.yaml:3") {
			t.Errorf("malformed release policy: exit %d, want 2 naming bad.yaml:3:\n%s", code, stderr)
		}
	})

	t.Run("promote", func(t *testing.T) {
		dst := env.Registry + "/hk-release/promoted:v1"
		stdout, stderr, code := f.hk(ctx, t, "promote", "--key", f.pub, "--policy", f.policy, f.base, dst)
		if code != 0 {
			t.Fatalf("promote: exit %d\n%s%s", code, stdout, stderr)
		}
		rep, code, stderr := f.verify(ctx, t, dst, f.pub, f.policy)
		if code != 0 || rep.Digest != baseRoot.Digest.String() {
			t.Fatalf("verify of the promoted copy: exit %d, digest %s, want %s; failures %v\n%s", code, repDigest(rep), baseRoot.Digest, reportFailures(rep), stderr)
		}
		for _, bad := range []string{unsigned, edited, swapped, otherSBOM} {
			dst := env.Registry + "/hk-release/refused:v1"
			if _, stderr, code := f.hk(ctx, t, "promote", "--key", f.pub, "--policy", f.policy, bad, dst); code != 1 {
				t.Errorf("promote %s: exit %d, want 1\n%s", bad, code, stderr)
			}
			repo, err := name.NewRepository(env.Registry + "/hk-release/refused")
			if err != nil {
				t.Fatal(err)
			}
			if tags, err := remote.List(repo, remote.WithContext(ctx)); err == nil && len(tags) > 0 {
				t.Errorf("promote of %s refused but the destination has tags %v", bad, tags)
			}
			d := strings.Split(bad, "@")[1]
			if _, err := remote.Head(repo.Digest(d), remote.WithContext(ctx)); err == nil {
				t.Errorf("promote of %s refused but the destination has the manifest", bad)
			}
		}
	})

	t.Run("moved tag", func(t *testing.T) {
		// SRC is a tag on the clean image; between verification and copy it
		// is moved to the edited one. The copy is the verified digest.
		src := env.Registry + "/hk-release/app:moving" // beside the signatures of base
		if _, err := releasetest.Retag(ctx, f.base, src); err != nil {
			t.Fatal(err)
		}
		dst := env.Registry + "/hk-release/moved-dst:v1"
		res, err := promote.Promote(ctx, src, dst, promote.Options{
			Verify: f.verifyOptions(t, time.Now()),
			BeforeCopy: func(ctx context.Context) error {
				_, err := releasetest.Retag(ctx, edited, src)
				return err
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Digest != baseRoot.Digest.String() {
			t.Fatalf("promoted %s, want the verified %s", res.Digest, baseRoot.Digest)
		}
		dref, err := name.ParseReference(dst)
		if err != nil {
			t.Fatal(err)
		}
		got, err := remote.Head(dref, remote.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		if got.Digest != baseRoot.Digest {
			t.Fatalf("destination tag points at %s, want the verified %s (the tag moved to the edited image)", got.Digest, baseRoot.Digest)
		}
	})

	t.Run("no key or password in output or files", func(t *testing.T) {
		// A wrong password fails without echoing either password.
		cmd := exec.CommandContext(ctx, binaries.hardenkit, "sign", "--key", f.key, f.base)
		wrong := "wrong-" + f.pass
		cmd.Env = append(os.Environ(), "COSIGN_PASSWORD="+wrong)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatal("sign with a wrong password succeeded")
		}
		f.outputs.Write(out)
		privPEM, err := os.ReadFile(f.key)
		if err != nil {
			t.Fatal(err)
		}
		secrets := []string{f.pass, "ENCRYPTED SIGSTORE PRIVATE KEY"}
		for _, l := range strings.Split(string(privPEM), "\n") {
			if len(l) > 40 {
				secrets = append(secrets, l)
			}
		}
		all := f.outputs.String()
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("command output contains a secret (%.12s…)", s)
			}
		}
		if strings.Contains(string(out), "wrong-") {
			t.Error("the wrong password is echoed")
		}
		err = filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, ".key") {
				return err
			}
			dt, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, s := range secrets {
				if bytes.Contains(dt, []byte(s)) {
					t.Errorf("%s contains a secret (%.12s…)", p, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// verifyOptions are the library options of `verify --key release.pub
// --policy accept.yaml` at time now.
func (f *releaseFixture) verifyOptions(t *testing.T, now time.Time) verify.Options {
	t.Helper()
	pub, err := os.ReadFile(f.pub)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := keys.LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := releasepolicy.Load(f.policy)
	if err != nil {
		t.Fatal(err)
	}
	return verify.Options{Key: pk, Policy: rp, Now: now}
}

func repDigest(rep *verify.Report) string {
	if rep == nil {
		return ""
	}
	return rep.Digest
}
