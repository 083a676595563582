package frontend

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/options"
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

func TestStepRunner(t *testing.T) {
	amd64 := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	self := llb.Image("registry.example/hardenkit/frontend:1")
	served := StepBinary{Local: options.LocalStepBinary, Platform: amd64}
	tests := []struct {
		name       string
		self       *llb.State
		bin        StepBinary
		wantSource string // the runner's source, "" for none
		wantNotRun string
		wantErr    string
	}{
		{name: "the frontend image runs its own binary", self: &self, bin: served, wantSource: "docker-image://registry.example/hardenkit/frontend:1"},
		{name: "hardenkit build serves its own", bin: served, wantSource: "local://" + options.LocalStepBinary},
		{name: "a binary that cannot run fails the build", bin: StepBinary{Unavailable: "hardenkit's executable /usr/bin/hardenkit is dynamically linked (it needs /lib64/ld-linux-x86-64.so.2)"},
			wantErr: "HK2060: the smoke test cannot run: hardenkit's executable /usr/bin/hardenkit is dynamically linked"},
		{name: "a binary for another platform fails the build", bin: StepBinary{Local: options.LocalStepBinary, Platform: ocispecs.Platform{OS: "linux", Architecture: "arm64"}},
			wantErr: "hardenkit's binary is for linux/arm64 and the build runs on linux/amd64"},
		{name: "a caller that serves none does not run it", wantNotRun: "given no hardenkit binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, notRun, err := stepRunner(tt.self, tt.bin, amd64, "session-1")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "set HK2060 off") {
					t.Fatalf("err = %v, want it to say %q and how to fix it", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(notRun, tt.wantNotRun) || (tt.wantNotRun == "") != (st != nil) {
				t.Fatalf("runner %v, not run %q; want not run %q", st != nil, notRun, tt.wantNotRun)
			}
			if tt.wantSource == "" {
				return
			}
			src := runnerSource(t, *st)
			if src.Identifier != tt.wantSource {
				t.Errorf("source = %s, want %s", src.Identifier, tt.wantSource)
			}
			if strings.HasPrefix(src.Identifier, "local://") && (src.Attrs[pb.AttrLocalSessionID] != "session-1" || !strings.Contains(src.Attrs[pb.AttrIncludePatterns], "bin/hardenkit-frontend")) {
				t.Errorf("the local is not the session's one binary: %v", src.Attrs)
			}
		})
	}
}

// runnerSource is the source op st reads.
func runnerSource(t *testing.T, st llb.State) *pb.SourceOp {
	t.Helper()
	def, err := st.Marshal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if src := op.GetSource(); src != nil {
			return src
		}
	}
	t.Fatal("no source op")
	return nil
}
