package frontend

import (
	"context"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	fstypes "github.com/tonistiigi/fsutil/types"

	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
)

// fakeGateway is a gateway client whose every solve yields the same small
// filesystem: enough for Build to read its Dockerfile and policy and to
// convert and solve each platform, without a BuildKit daemon.
type fakeGateway struct {
	opts  map[string]string
	files map[string]string
	warns atomic.Int64
}

func (g *fakeGateway) Solve(context.Context, client.SolveRequest) (*client.Result, error) {
	return &client.Result{Ref: fakeRef{files: g.files}}, nil
}

func (g *fakeGateway) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromString(ref), []byte(`{"config":{}}`), nil
}

func (g *fakeGateway) ResolveSourceMetadata(_ context.Context, op *pb.SourceOp, _ sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	return &sourceresolver.MetaResponse{Op: op}, nil
}

func (g *fakeGateway) BuildOpts() client.BuildOpts {
	return client.BuildOpts{Opts: g.opts, LLBCaps: pb.Caps.CapSet(pb.Caps.All()), Caps: gwpb.Caps.CapSet(gwpb.Caps.All())}
}

func (g *fakeGateway) Inputs(context.Context) (map[string]llb.State, error) { return nil, nil }

func (g *fakeGateway) NewContainer(context.Context, client.NewContainerRequest) (client.Container, error) {
	return nil, fs.ErrInvalid
}

func (g *fakeGateway) Warn(context.Context, digest.Digest, string, client.WarnOpts) error {
	g.warns.Add(1)
	return nil
}

// fakeRef serves files (path → content, no leading slash).
type fakeRef struct{ files map[string]string }

func (r fakeRef) ToState() (llb.State, error)    { return llb.Scratch(), nil }
func (r fakeRef) Evaluate(context.Context) error { return nil }

func (r fakeRef) ReadFile(_ context.Context, req client.ReadRequest) ([]byte, error) {
	dt, ok := r.files[strings.TrimPrefix(path.Clean("/"+req.Filename), "/")]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(dt), nil
}

func (r fakeRef) StatFile(_ context.Context, req client.StatRequest) (*fstypes.Stat, error) {
	p := strings.TrimPrefix(path.Clean("/"+req.Path), "/")
	dt, ok := r.files[p]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return &fstypes.Stat{Path: p, Mode: 0o755, Size: int64(len(dt))}, nil
}

func (r fakeRef) ReadDir(_ context.Context, req client.ReadDirRequest) ([]*fstypes.Stat, error) {
	dir := strings.TrimPrefix(path.Clean("/"+req.Path), "/")
	var out []*fstypes.Stat
	for p, dt := range r.files {
		if path.Dir(p) != cmpDot(dir) {
			continue
		}
		if ok, _ := path.Match(cmpOr(req.IncludePattern, "*"), path.Base(p)); ok {
			out = append(out, &fstypes.Stat{Path: path.Base(p), Mode: 0o755, Size: int64(len(dt))})
		}
	}
	return out, nil
}

func cmpDot(dir string) string { return cmpOr(dir, ".") }

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestBuildTwoPlatforms drives Build through a fake gateway for two
// platforms at once (run with -race, it covers the per-platform
// goroutines dockerui starts), with hardening off and on: both platforms
// are in the result with a non-root user, the hardened build attaches its
// compliance statement to each, and the Dockerfile is parsed once for the
// build. In-process (no frontend image), the hardened path analyses,
// verifies, inspects and writes the SBOM over the fake's filesystem.
func TestBuildTwoPlatforms(t *testing.T) {
	const dockerfile = "FROM scratch\nCOPY app /app\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\nHEALTHCHECK NONE\n"
	tests := []struct {
		name       string
		opts       map[string]string
		files      map[string]string
		compliance bool
	}{
		{
			name:  "off",
			opts:  map[string]string{"build-arg:HARDENKIT_MODE": "off"},
			files: map[string]string{"hardenkit.yaml": policyHeader + "controls:\n  mode:\n    allowOff: true\n"},
		},
		{name: "enforce", compliance: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &fakeGateway{
				opts:  map[string]string{"platform": "linux/amd64,linux/arm64"},
				files: map[string]string{"Dockerfile": dockerfile, "app": "x"},
			}
			maps.Copy(g.opts, tt.opts)
			maps.Copy(g.files, tt.files)
			var parses atomic.Int64
			cfg := Config{parse: func(dt []byte, name string) (*dockerfilemodel.File, error) {
				parses.Add(1)
				return dockerfilecheck.Parse(dt, name)
			}}
			res, err := cfg.Build(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			if n := parses.Load(); n != 1 {
				t.Errorf("the Dockerfile was parsed %d times, want once per build", n)
			}
			ids := slices.Sorted(maps.Keys(res.Refs))
			if want := []string{"linux/amd64", "linux/arm64"}; !slices.Equal(ids, want) {
				t.Errorf("result platforms %v, want %v", ids, want)
			}
			for _, id := range ids {
				if cfg := string(res.Metadata[exptypes.ExporterImageConfigKey+"/"+id]); !strings.Contains(cfg, `"User":"65532:65532"`) {
					t.Errorf("%s image config %s, want user 65532:65532", id, cfg)
				}
				var attached bool
				for _, a := range res.Attestations[id] {
					attached = attached || a.InToto.PredicateType == compliance.PredicateType
				}
				if attached != tt.compliance {
					t.Errorf("%s compliance attestation attached: %v, want %v", id, attached, tt.compliance)
				}
			}
		})
	}
}

// TestLintWithStageArgMount: a lint request (buildx --call=check) on a
// Dockerfile whose RUN mount uses a stage ARG (uid=${UID}) answers, as
// dockerfile.v0 does; the static checks read the mount with the stage's
// ARGs.
func TestLintWithStageArgMount(t *testing.T) {
	const df = "FROM alpine:3.20\nARG UID=1000\nRUN --mount=type=cache,target=/c,uid=${UID} true\n"
	g := &fakeGateway{opts: map[string]string{"requestid": "frontend.lint"}, files: map[string]string{"Dockerfile": df}}
	res, err := (Config{}).Build(context.Background(), g)
	if err != nil {
		t.Fatalf("lint request failed: %v", err)
	}
	if res == nil || len(res.Metadata["result.json"]) == 0 {
		t.Errorf("lint request answered no result: %+v", res)
	}
}
