package policysource

import (
	"context"
	"io/fs"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	fstypes "github.com/tonistiigi/fsutil/types"

	"github.com/hardenkit/hardenkit/frontend/catalog"
)

// dirGateway is a gateway client whose every solve is the directory files
// (path → content): the Dockerfile's directory, as Load reads it.
type dirGateway struct{ files map[string]string }

func (g dirGateway) Solve(context.Context, client.SolveRequest) (*client.Result, error) {
	return &client.Result{Ref: dirRef(g)}, nil
}

func (g dirGateway) ResolveImageConfig(context.Context, string, sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return "", "", nil, fs.ErrNotExist
}

func (g dirGateway) ResolveSourceMetadata(context.Context, *pb.SourceOp, sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	return nil, fs.ErrNotExist
}

func (g dirGateway) BuildOpts() client.BuildOpts {
	return client.BuildOpts{Opts: map[string]string{}, LLBCaps: pb.Caps.CapSet(pb.Caps.All()), Caps: gwpb.Caps.CapSet(gwpb.Caps.All())}
}

func (g dirGateway) Inputs(context.Context) (map[string]llb.State, error) { return nil, nil }

func (g dirGateway) NewContainer(context.Context, client.NewContainerRequest) (client.Container, error) {
	return nil, fs.ErrInvalid
}

func (g dirGateway) Warn(context.Context, digest.Digest, string, client.WarnOpts) error { return nil }

type dirRef dirGateway

func (r dirRef) ToState() (llb.State, error)    { return llb.Scratch(), nil }
func (r dirRef) Evaluate(context.Context) error { return nil }

func (r dirRef) ReadFile(_ context.Context, req client.ReadRequest) ([]byte, error) {
	dt, ok := r.files[strings.TrimPrefix(path.Clean("/"+req.Filename), "/")]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(dt), nil
}

func (r dirRef) StatFile(context.Context, client.StatRequest) (*fstypes.Stat, error) {
	return nil, fs.ErrNotExist
}

func (r dirRef) ReadDir(_ context.Context, req client.ReadDirRequest) ([]*fstypes.Stat, error) {
	dir := strings.TrimPrefix(path.Clean("/"+req.Path), "/")
	if dir == "" {
		dir = "."
	}
	var out []*fstypes.Stat
	for p, dt := range r.files {
		if ok, _ := path.Match(req.IncludePattern, path.Base(p)); ok && path.Dir(p) == dir {
			out = append(out, &fstypes.Stat{Path: path.Base(p), Mode: 0o644, Size: int64(len(dt))})
		}
	}
	return out, nil
}

// TestLoad: Load finds the policy beside the Dockerfile or a baseline, and
// fails on what exists but cannot be used.
func TestLoad(t *testing.T) {
	const header = "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\n"
	tests := []struct {
		name     string
		explicit string
		files    map[string]string
		want     string // policy name
		wantErr  string
	}{
		{name: "default baseline", files: map[string]string{}, want: "strict"},
		{name: "baseline by build arg", explicit: "cis-docker", files: map[string]string{}, want: "cis-docker"},
		{name: "beside the Dockerfile", files: map[string]string{"app/hardenkit.yaml": header}, want: "team"},
		{name: "broken policy fails", files: map[string]string{"app/hardenkit.yaml": "kind: [\n"}, wantErr: "loading policy"},
		{name: "explicit file missing", explicit: "team.yaml", files: map[string]string{}, wantErr: "not found beside the Dockerfile"},
		{name: "exceptions file missing", files: map[string]string{"app/hardenkit.yaml": header + "controls:\n  exceptions:\n    file: exceptions.yaml\n"}, wantErr: "does not exist beside the Dockerfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := dirGateway{files: tt.files}
			bc, err := dockerui.NewClient(g)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Load(context.Background(), bc, g, Request{
				Explicit:       tt.explicit,
				DockerfileName: "app/Dockerfile",
				Known:          catalog.Known,
				Now:            time.Now(),
				Catalog:        catalog.All(),
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Policy.Name != tt.want || got.Exceptions != nil {
				t.Errorf("policy %q exceptions %v, want %q and none", got.Policy.Name, got.Exceptions, tt.want)
			}
		})
	}
}
