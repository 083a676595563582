package harden

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

type setUser struct{ user string }

func (s setUser) Name() string { return "set-user" }
func (s setUser) Apply(_ context.Context, t Target) (Target, error) {
	img := *t.Image
	img.Config.User = s.user
	t.Image = &img
	return t, nil
}

type failing struct{}

func (failing) Name() string { return "failing" }
func (failing) Apply(context.Context, Target) (Target, error) {
	return Target{}, errors.New("boom")
}

type dropsImage struct{}

func (dropsImage) Name() string                                      { return "drops-image" }
func (dropsImage) Apply(_ context.Context, t Target) (Target, error) { t.Image = nil; return t, nil }

func TestApply(t *testing.T) {
	in := Target{State: llb.Scratch(), Image: &dockerspec.DockerOCIImage{}}
	tests := []struct {
		name     string
		controls []Control
		wantUser string
		wantErr  string
	}{
		{name: "no controls keeps the target", controls: nil, wantUser: ""},
		{name: "controls run in order", controls: []Control{setUser{"1"}, setUser{"65532:65532"}}, wantUser: "65532:65532"},
		{name: "error names the control", controls: []Control{setUser{"1"}, failing{}}, wantErr: "hardening control failing: boom"},
		{name: "nil image is an error", controls: []Control{dropsImage{}}, wantErr: "drops-image returned no image config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply(context.Background(), in, tt.controls)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Apply() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Image.Config.User != tt.wantUser {
				t.Fatalf("User = %q, want %q", got.Image.Config.User, tt.wantUser)
			}
			if in.Image.Config.User != "" {
				t.Fatal("Apply modified its input")
			}
		})
	}
}
