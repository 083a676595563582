package frontend

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/harden/hardenstep"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

func strictBaseline(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.Baseline(policy.BaselineStrict)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHardenConfigOfStrict: the strict baseline is the Config llb/harden's
// and hardenstep's tests use (their strictConfig).
func TestHardenConfigOfStrict(t *testing.T) {
	want := harden.Config{
		Policy:     "strict",
		Levels:     map[string]rules.Level{},
		Distroless: harden.Distroless{Mode: harden.DistrolessRebase},
		Tooling:    harden.Tooling{Keep: []string{}},
		User:       harden.UserInjection{Inject: true, UID: 65532, GID: 65532},
	}
	for _, r := range harden.Rules() {
		want.Levels[r.ID] = rules.LevelEnforce
	}
	got := hardenConfig(strictBaseline(t))
	// The allow-list is empty either way; nil and empty are the same here.
	got.Distroless.AllowedBases = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hardenConfig(strict) =\n %+v\nwant\n %+v", got, want)
	}
}

// TestHardenConfigCarriesWhatHardeningReads: each policy setting hardening
// reads reaches its Config.
func TestHardenConfigCarriesWhatHardeningReads(t *testing.T) {
	base := []policy.BaseImage{{Pattern: "gcr.io/distroless/*", Digest: digest.FromString("base").String()}}
	tests := []struct {
		name  string
		edit  func(*policy.Policy)
		check func(harden.Config) bool
	}{
		{"name", func(p *policy.Policy) { p.Name = "team" }, func(c harden.Config) bool { return c.Policy == "team" }},
		{"rule level", func(p *policy.Policy) { p.Rules["HK2023"] = rules.LevelWarn },
			func(c harden.Config) bool { return c.Levels["HK2023"] == rules.LevelWarn }},
		{"default level", func(p *policy.Policy) { p.Defaults.Level = rules.LevelOff },
			func(c harden.Config) bool { return c.Levels["HK2040"] == rules.LevelOff }},
		{"distroless mode", func(p *policy.Policy) { p.Controls.Distroless.Mode = policy.DistrolessRequire },
			func(c harden.Config) bool { return c.Distroless.Mode == harden.DistrolessRequire }},
		{"allowed bases", func(p *policy.Policy) { p.Controls.Distroless.AllowedBases = base },
			func(c harden.Config) bool { return reflect.DeepEqual(c.Distroless.AllowedBases, base) }},
		{"package managers", func(p *policy.Policy) { p.Controls.Tooling.PackageManagers = []string{"apt"} },
			func(c harden.Config) bool { return slices.Equal(c.Tooling.PackageManagers, []string{"apt"}) }},
		{"network tools", func(p *policy.Policy) { p.Controls.Tooling.NetworkTools = []string{} },
			func(c harden.Config) bool { return c.Tooling.NetworkTools != nil && len(c.Tooling.NetworkTools) == 0 }},
		{"debuggers", func(p *policy.Policy) { p.Controls.Tooling.Debuggers = []string{"gdb"} },
			func(c harden.Config) bool { return slices.Equal(c.Tooling.Debuggers, []string{"gdb"}) }},
		{"shells", func(p *policy.Policy) { p.Controls.Tooling.Shells = []string{"sh"} },
			func(c harden.Config) bool { return slices.Equal(c.Tooling.Shells, []string{"sh"}) }},
		{"keep", func(p *policy.Policy) { p.Controls.Tooling.Keep = []string{"/bin/sh"} },
			func(c harden.Config) bool { return slices.Equal(c.Tooling.Keep, []string{"/bin/sh"}) }},
		{"user", func(p *policy.Policy) { p.Controls.User = policy.UserControl{Inject: false, UID: 1000, GID: 1001} },
			func(c harden.Config) bool { return c.User == harden.UserInjection{UID: 1000, GID: 1001} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := strictBaseline(t)
			tt.edit(p)
			if c := hardenConfig(p); !tt.check(c) {
				t.Errorf("the edit did not reach the config: %+v", c)
			}
		})
	}
	if c := hardenConfig(nil); c.Levels["HK2030"] != rules.LevelEnforce {
		t.Errorf("no policy: HK2030 at %q, want enforce", c.Levels["HK2030"])
	}
}

// definitionClient records the definition of every solve and fails it.
type definitionClient struct {
	gwclient.Client
	defs *[]digest.Digest
}

var errRecorded = errors.New("recorded")

func (c definitionClient) Solve(_ context.Context, req gwclient.SolveRequest) (*gwclient.Result, error) {
	// The last op is the definition's root; its digest covers every op.
	*c.defs = append(*c.defs, digest.FromBytes(req.Definition.Def[len(req.Definition.Def)-1]))
	return nil, errRecorded
}

// hardenStepDigests are the digests of the decide and verify steps'
// definitions under p.
func hardenStepDigests(t *testing.T, p *policy.Policy) []digest.Digest {
	t.Helper()
	var defs []digest.Digest
	an := hardenstep.Analyzer{Client: definitionClient{defs: &defs}, Image: llb.Image("frontend")}
	img := &dockerspec.DockerOCIImage{}
	img.Config.Entrypoint = []string{"/app"}
	in := harden.Input{Final: llb.Image("app"), Image: img, Epoch: time.Unix(1700000000, 0), Config: hardenConfig(p)}
	if _, err := an.Decide(t.Context(), in); !errors.Is(err, errRecorded) {
		t.Fatalf("decide: %v", err)
	}
	if _, err := an.Verify(t.Context(), llb.Image("hardened"), in, img); !errors.Is(err, errRecorded) {
		t.Fatalf("verify: %v", err)
	}
	return defs
}

// TestHardenStepsKeepTheirCache: editing a policy setting hardening does
// not read leaves the decide and verify steps' definitions — and so their
// cache — as they were; editing one it reads changes them.
func TestHardenStepsKeepTheirCache(t *testing.T) {
	want := hardenStepDigests(t, strictBaseline(t))
	tests := []struct {
		name    string
		edit    func(*policy.Policy)
		changes bool
	}{
		{"vulnerability DB age", func(p *policy.Policy) { p.Controls.Vulnerabilities.MaxDBAge = policy.Duration(time.Hour) }, false},
		{"vulnerability threshold", func(p *policy.Policy) { p.Controls.Vulnerabilities.FailOn = rules.SeverityCritical }, false},
		{"exceptions", func(p *policy.Policy) { p.Controls.Exceptions.RequireSignature = false }, false},
		{"secrets", func(p *policy.Policy) { p.Controls.Secrets.MaxFileSize = 1 }, false},
		{"epoch default", func(p *policy.Policy) { p.Controls.Epoch.Default = 42 }, false},
		{"mode", func(p *policy.Policy) { p.Controls.Mode.AllowOff = false }, false},
		{"an inspection rule", func(p *policy.Policy) { p.Rules["HK3052"] = rules.LevelOff }, false},
		{"a static rule", func(p *policy.Policy) { p.Rules["HK1002"] = rules.LevelOff }, false},
		{"a hardening rule", func(p *policy.Policy) { p.Rules["HK2023"] = rules.LevelWarn }, true},
		{"tooling keep", func(p *policy.Policy) { p.Controls.Tooling.Keep = []string{"/bin/sh"} }, true},
		{"shells", func(p *policy.Policy) { p.Controls.Tooling.Shells = []string{"sh"} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := strictBaseline(t)
			tt.edit(p)
			got := hardenStepDigests(t, p)
			for i, what := range []string{"decide", "verify"} {
				if changed := got[i] != want[i]; changed != tt.changes {
					t.Errorf("%s step's definition changed: %v, want %v", what, changed, tt.changes)
				}
			}
		})
	}
}
