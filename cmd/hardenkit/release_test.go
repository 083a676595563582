package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/buildflags"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
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
