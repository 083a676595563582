package frontend

import (
	"slices"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/llb/smoke"
)

func TestHealthProbe(t *testing.T) {
	tests := []struct {
		name string
		hc   *dockerspec.HealthcheckConfig
		want []string
	}{
		{"none", nil, nil},
		{"NONE", &dockerspec.HealthcheckConfig{Test: []string{"NONE"}}, nil},
		{"exec form", &dockerspec.HealthcheckConfig{Test: []string{"CMD", "/probe", "http", "http://127.0.0.1:8080/"}}, []string{"/probe", "http", "http://127.0.0.1:8080/"}},
		{"shell form", &dockerspec.HealthcheckConfig{Test: []string{"CMD-SHELL", "curl -f http://localhost/ || exit 1"}}, []string{"/bin/sh", "-c", "curl -f http://localhost/ || exit 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := healthProbe(tt.hc); !slices.Equal(got, tt.want) {
				t.Errorf("healthProbe = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSmokeMessage(t *testing.T) {
	a := smoke.Answer{Started: true, ExitCode: 1, Output: []string{"starting", "dlopen: libz.so.1: cannot open shared object file: No such file or directory"}}
	removed := []string{"/usr/bin/apt", "/usr/lib/x86_64-linux-gnu/libz.so.1"}
	msg := smokeMessage("the hardened image's program exited with 1 after 0.1s while the plain image's kept running", a, removed, converted{})
	for _, want := range []string{
		"does not run as the unhardened one does: the hardened image's program exited with 1",
		"\n  its last output:\n    | starting\n    | dlopen: libz.so.1",
		"\n  removed by hardening and named in that output:\n    /usr/lib/x86_64-linux-gnu/libz.so.1 [",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "/usr/bin/apt") {
		t.Errorf("message names a removed path the output does not:\n%s", msg)
	}
}
