package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/buildflags"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/vsa"
)

// TestSignTargets: build --sign-key signs OCI files and directories and
// pushed images by the digest the build reported, and refuses outputs it
// cannot sign before the build runs.
func TestSignTargets(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		outputs []string
		want    []string
		err     string
	}{
		{outputs: []string{"type=oci,dest=app.tar"}, want: []string{"oci-archive://app.tar"}},
		{outputs: []string{"type=oci,dest=dir,tar=false"}, want: []string{"oci-layout://dir"}},
		{outputs: []string{`type=registry,"name=reg/app:1,reg/app:latest"`}, want: []string{"reg/app:1@" + d, "reg/app:latest@" + d}},
		{outputs: []string{"type=oci,dest=a.tar", "type=oci,dest=b,tar=false"}, want: []string{"oci-archive://a.tar", "oci-layout://b"}},
		{outputs: []string{"type=image,name=reg/app:1,push=true", "type=oci,dest=a.tar"}, err: "push it as the only output"},
		{outputs: []string{"type=image,name=reg/app:1"}, err: "type=image cannot be signed"},
		{outputs: []string{"type=local,dest=out"}, err: "type=local cannot be signed"},
		{outputs: nil, err: "needs an output to sign"},
	} {
		t.Run(strings.Join(tc.outputs, " "), func(t *testing.T) {
			outs, err := buildflags.ParseOutputs(tc.outputs)
			if err != nil {
				t.Fatal(err)
			}
			got, err := signTargets(outs, d)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestBuildRefusesAnnotationSecrets: `hardenkit build` refuses an exporter
// annotation (image, index or per-platform manifest) carrying a token
// before it contacts BuildKit, naming the attribute but never the token —
// even when the --output value is malformed in another way.
func TestBuildRefusesAnnotationSecrets(t *testing.T) {
	t.Setenv("BUILDKIT_HOST", "unix:///nonexistent.sock")
	p := secretstest.Generate(t)
	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, output := range []string{
		"type=oci,dest=app.tar,annotation.org.example.deploy=" + p.GitHubToken,
		"type=registry,name=reg/app:1,annotation-index.org.example.token=" + p.NPMToken,
		`type=oci,dest=a.tar,"annotation-manifest[linux/amd64].org.example.key=` + p.AWSAccessKeyID + `"`,
		"dest=app.tar,annotation.org.example.x=" + p.GitHubToken, // no type: a parse error would quote it
	} {
		root := newRootCommand()
		var stdout, stderr bytes.Buffer
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		root.SetArgs([]string{"build", "-o", output, ctxDir})
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), "exporter annotations carry secrets") {
			t.Errorf("--output with a token in an annotation: err = %v, want a refusal", err)
			continue
		}
		secretstest.AssertNoLeak(t, p, "the error", err.Error()+stdout.String()+stderr.String())
	}
}

// TestVerifyAttest: `verify --attest --sign-key K --attest-output F` writes
// a PASSED summary of a compliant layout, attaches it signed, and the
// image still verifies with the summary beside its signatures.
func TestVerifyAttest(t *testing.T) {
	ctx := context.Background()
	const pass = "pass-attest"
	t.Setenv("COSIGN_PASSWORD", pass)
	pw := func(bool) ([]byte, error) { return []byte(pass), nil }
	priv, pub, err := keys.Generate(pw)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := keys.LoadPrivateKey(priv, pw)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile, pubFile, out := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub"), filepath.Join(dir, "vsa.json")
	for f, b := range map[string][]byte{keyFile: priv, pubFile: pub} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	idx, err := releasetest.Synthetic(releasetest.Predicate(now.Add(48*time.Hour)), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	layoutDir := releasetest.LayoutDir(t, idx)
	st, err := store.OpenLayout(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Sign(ctx, st, kp, now); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) error {
		root := newRootCommand()
		root.SetOut(&bytes.Buffer{})
		root.SetErr(&bytes.Buffer{})
		root.SetArgs(args)
		return root.Execute()
	}
	if err := run("verify", "--key", pubFile, "--attest", "--sign-key", keyFile, "--attest-output", out, "oci-layout://"+layoutDir); err != nil {
		t.Fatal(err)
	}
	var s vsa.Statement
	dt, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dt, &s); err != nil || s.PredicateType != vsa.PredicateType || s.Predicate.VerificationResult != vsa.Passed {
		t.Fatalf("summary %s (%v), want a PASSED VSA", dt, err)
	}
	root, err := st.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := st.Referrers(ctx, root.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(refs, func(d v1.Descriptor) bool { return d.Annotations[sign.AnnotationPredicateType] == vsa.PredicateType }) {
		t.Fatalf("no VSA referrer attached: %v", refs)
	}
	if err := run("verify", "--key", pubFile, "oci-layout://"+layoutDir); err != nil {
		t.Fatalf("with the summary attached: %v", err)
	}
	if err := run("verify", "--key", pubFile, "--attest", "oci-layout://"+layoutDir); err == nil || !strings.Contains(err.Error(), "--attest needs") {
		t.Fatalf("--attest without a key or file: %v", err)
	}
}
