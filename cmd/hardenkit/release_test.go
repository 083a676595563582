package main

import (
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/buildflags"
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
