package frontend

import (
	"context"
	"slices"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// TestLLBSources: every pinned image of every stage, and the ids (never
// the content) of secret and SSH mounts, are read from the graph.
func TestLLBSources(t *testing.T) {
	const d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	const d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	builder := llb.Image("docker.io/library/golang:1.22@"+d1).
		Run(llb.Shlex("go build"), llb.AddSecret("/run/secrets/npm", llb.SecretID("npm")), llb.AddSSHSocket(llb.SSHID("default"))).Root()
	final := llb.Image("docker.io/library/debian:bookworm@" + d2).
		File(llb.Copy(builder, "/out", "/app"))
	imgs, mounts, err := llbSources(context.Background(), final)
	if err != nil {
		t.Fatal(err)
	}
	want := []compliance.PinnedImage{{Ref: "docker.io/library/debian:bookworm", Digest: d2}, {Ref: "docker.io/library/golang:1.22", Digest: d1}}
	if !slices.Equal(imgs, want) {
		t.Errorf("images = %v, want %v", imgs, want)
	}
	if !slices.Equal(mounts[pb.MountType_SECRET], []string{"npm"}) || !slices.Equal(mounts[pb.MountType_SSH], []string{"default"}) {
		t.Errorf("mounts = %v, want secret npm and ssh default", mounts)
	}
}

func TestSecretArg(t *testing.T) {
	flagged := []rules.Finding{{Message: inspect.BuildArgPlace("BLOB") + " holds a secret (detector aws, sha256 fingerprint x)"}}
	tests := []struct {
		name, value string
		want        bool
	}{
		{"VERSION", "1.2.3", false},
		{"API_TOKEN", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", true},
		{"BLOB", "opaque", true},
		{"SOURCE_DATE_EPOCH", "1714564800", false},
	}
	for _, tt := range tests {
		if got := secretArg(tt.name, tt.value, flagged); got != tt.want {
			t.Errorf("secretArg(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
