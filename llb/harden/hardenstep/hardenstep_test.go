package hardenstep

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/step"
	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// strictConfig is hardening's part of the strict baseline: every rule
// enforced (no level given), rebase, the built-in tool lists, 65532
// injected.
func strictConfig() harden.Config {
	return harden.Config{
		Policy:     "strict",
		Levels:     map[string]rules.Level{},
		Distroless: harden.Distroless{Mode: harden.DistrolessRebase},
		Tooling:    harden.Tooling{Keep: []string{}},
		User:       harden.UserInjection{Inject: true, UID: 65532, GID: 65532},
	}
}

func params(t *testing.T, entrypoint []string, env ...string) harden.Params {
	t.Helper()
	img := &dockerspec.DockerOCIImage{}
	img.Config.Entrypoint = entrypoint
	img.Config.Env = env
	img.Config.Labels = map[string]string{"org.example.token": "not-for-the-step"}
	img.History = []ocispecs.History{{CreatedBy: "RUN secret-ish"}}
	img.Config.OnBuild = []string{"RUN echo secret-ish"}
	return harden.Params{BaseName: "debian:bookworm", HasBase: true, Image: img, Epoch: time.Unix(1700000000, 0), Config: strictConfig()}
}

// runMain runs the step's command on the layouts and decodes its answer.
func runMain(t *testing.T, req request, final, base string) response {
	t.Helper()
	dir := t.TempDir()
	dt, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	reqPath, out := filepath.Join(dir, "request.json"), t.TempDir()
	if err := os.WriteFile(reqPath, dt, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--request", reqPath, "--out", out, "--final", final}
	if base != "" {
		args = append(args, "--base-index", base)
	}
	var stderr bytes.Buffer
	if err := Command().Main(t.Context(), args, &stderr); err != nil {
		t.Fatalf("Main: %v\n%s", err, stderr.String())
	}
	var resp response
	if err := step.ReadAnswer(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestDecideThroughTheStepEqualsInProcess(t *testing.T) {
	base := rootfstest.New(t).Debian()
	final := rootfstest.New(t).Debian().
		CopyELF("/usr/bin/true", "/usr/local/bin/app", 0o755).
		File("/srv/data.txt", []byte("hello"), 0o644)
	p := params(t, []string{"/usr/local/bin/app"}, "PATH=/usr/local/bin:/usr/bin:/bin", "API_TOKEN=abc")

	want, wantErr := harden.DecideFS(t.Context(), final.Source(), harden.LoadBase(base.Source()), p)
	// The step decides from the base's listing, written by the index
	// operation.
	idx := t.TempDir()
	var stderr bytes.Buffer
	if err := os.WriteFile(filepath.Join(idx, "req.json"), []byte(`{"op":"index"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Command().Main(t.Context(), []string{"--request", filepath.Join(idx, "req.json"), "--out", idx, "--final", base.Root}, &stderr); err != nil {
		t.Fatalf("index: %v\n%s", err, stderr.String())
	}
	resp := runMain(t, request{Op: opDecide, Params: stepParams(p)}, final.Root, idx)
	switch {
	case wantErr != nil:
		t.Fatalf("in-process analysis failed: %v", wantErr)
	case resp.Decision == nil:
		t.Fatalf("step answered %+v, in-process decided", resp)
	default:
		got := *resp.Decision
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if !bytes.Equal(wj, gj) {
			t.Errorf("the step decided differently from the process:\n step %s\n proc %s", gj, wj)
		}
		if len(got.Paths) == 0 || got.User == "" {
			t.Errorf("decision ships nothing or runs as nobody: %+v", got)
		}
	}
}

func TestStepParamsKeepOnlyWhatTheAnalysisReads(t *testing.T) {
	p := params(t, []string{"/app"}, "PATH=/bin", "API_TOKEN=abc", "LD_LIBRARY_PATH=/opt/lib")
	got := stepParams(p)
	if want := []string{"PATH=/bin", "LD_LIBRARY_PATH=/opt/lib"}; !reflect.DeepEqual(got.Image.Config.Env, want) {
		t.Errorf("env = %v, want %v", got.Image.Config.Env, want)
	}
	if got.Image.Config.Labels != nil || got.Image.History != nil {
		t.Errorf("labels %v / history %v reach the step's definition", got.Image.Config.Labels, got.Image.History)
	}
	if got.Image.Config.OnBuild != nil {
		t.Errorf("ONBUILD triggers %v reach the step's definition", got.Image.Config.OnBuild)
	}
	if len(p.Image.Config.Env) != 3 || p.Image.Config.Labels == nil {
		t.Error("stepParams modified its input")
	}
}

func TestStepAnswersViolationsAndErrors(t *testing.T) {
	final := rootfstest.New(t).Debian()
	tests := []struct {
		name       string
		entrypoint []string
		root       string
		wantRule   string
		wantError  bool
	}{
		// The program the image runs does not exist: the rebase fails.
		{name: "missing entrypoint", entrypoint: []string{"/nope"}, root: final.Root, wantRule: "HK2011"},
		{name: "unreadable filesystem", entrypoint: []string{"/app"}, root: filepath.Join(final.Root, "missing"), wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := params(t, tt.entrypoint)
			p.HasBase = false
			resp := runMain(t, request{Op: opDecide, Params: p}, tt.root, "")
			if tt.wantRule != "" && (len(resp.Violations) == 0 || resp.Violations[0].Rule != tt.wantRule) {
				t.Fatalf("answer %+v, want a %s violation", resp, tt.wantRule)
			}
			if tt.wantError && resp.Error == "" {
				t.Fatalf("answer %+v, want an error", resp)
			}
			if resp.Decision != nil {
				t.Errorf("a failed analysis also answered a decision")
			}
		})
	}
}

func TestVerifyThroughTheStep(t *testing.T) {
	epoch := time.Unix(1700000000, 0)
	hardened := rootfstest.New(t).File("/app", []byte("x"), 0o755).Stamp(epoch)
	p := params(t, []string{"/app"})
	resp := runMain(t, request{Op: opVerify, Params: p, User: "65532:65532"}, hardened.Root, "")
	if resp.Verification == nil || len(resp.Verification.Problems) != 0 {
		t.Fatalf("verification of a clean tree: %+v", resp)
	}
	stale := rootfstest.New(t).File("/app", []byte("x"), 0o755).Stamp(epoch.Add(time.Hour))
	resp = runMain(t, request{Op: opVerify, Params: p, User: "65532:65532"}, stale.Root, "")
	if resp.Verification == nil || len(resp.Verification.Problems) == 0 {
		t.Fatalf("a file not at the epoch verified clean: %+v", resp)
	}
	if resp.Verification.Tree != nil {
		t.Error("the tree travelled in the answer")
	}
}

func TestUnknownOperationFailsTheStep(t *testing.T) {
	_, err := answer(t.Context(), request{Op: "other", Params: params(t, nil)}, t.TempDir(), "", &bytes.Buffer{})
	if err == nil || errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want an unknown-operation error", err)
	}
}
