package rebuildcmd

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/checkcmd"
	"github.com/hardenkit/hardenkit/pkg/release/rebuild"
)

// TestBuildArgs: the rebuild asks hardenkit build for exactly the recorded
// inputs, without cache, and the verifier's flags come last (they win).
func TestBuildArgs(t *testing.T) {
	plan := rebuild.Plan{Dockerfile: "Dockerfile", Target: "app", Platforms: []string{"linux/amd64", "linux/arm64"},
		BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "1714564800", "VERSION": "1"},
		Pins:      map[string]string{"debian:bookworm::linux/amd64": "docker-image://docker.io/library/debian:bookworm@sha256:aa"}}
	o := Options{Context: "/src", Addr: "unix:///b.sock", Progress: "quiet", BuildArgs: []string{"VERSION=2"}, Secrets: []string{"id=npm,src=/n"}}
	got := strings.Join(buildArgs(plan, o, "/tmp/out.tar"), " ")
	want := "--addr unix:///b.sock build --no-cache --progress quiet --output type=oci,dest=/tmp/out.tar --target app --platform linux/amd64,linux/arm64 " +
		"--file /src/Dockerfile --build-arg SOURCE_DATE_EPOCH=1714564800 --build-arg VERSION=1 " +
		"--build-context debian:bookworm::linux/amd64=docker-image://docker.io/library/debian:bookworm@sha256:aa " +
		"--build-arg VERSION=2 --secret id=npm,src=/n /src"
	if got != want {
		t.Errorf("buildArgs =\n  %s\nwant\n  %s", got, want)
	}
}

func TestFlagNames(t *testing.T) {
	if got := ids([]string{"id=npm,src=/x", "src=/y,id=aws"}); !slices.Equal(got, []string{"npm", "aws"}) {
		t.Errorf("ids = %v", got)
	}
	if got := names([]string{"TOKEN=x", "PLAIN"}); !slices.Equal(got, []string{"TOKEN", "PLAIN"}) {
		t.Errorf("names = %v", got)
	}
}

// TestRunUsage: a bad format and an unreadable image are usage errors
// (exit 2) before anything is built.
func TestRunUsage(t *testing.T) {
	for name, tt := range map[string]struct {
		image string
		o     Options
	}{
		"format":    {"oci-layout:///nonexistent", Options{Format: "yaml"}},
		"no layout": {"oci-layout:///nonexistent", Options{Format: "text"}},
	} {
		err := Run(context.Background(), io.Discard, io.Discard, tt.image, tt.o)
		var ee *checkcmd.ExitError
		if !errors.As(err, &ee) || ee.Code != ExitUsage {
			t.Errorf("%s: Run = %v, want exit %d", name, err, ExitUsage)
		}
	}
}
