package solve

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
)

// fakeRef is a reference nothing reads.
type fakeRef struct{ client.Reference }

// recordingClient answers a solve with ref and records the request.
type recordingClient struct {
	client.Client
	got client.SolveRequest
	ref client.Reference
}

func (c *recordingClient) Solve(_ context.Context, req client.SolveRequest) (*client.Result, error) {
	c.got = req
	res := client.NewResult()
	res.SetRef(c.ref)
	return res, nil
}

func TestSolve(t *testing.T) {
	imports := []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "r/cache"}}}
	st := llb.Image("busybox").File(llb.Mkdir("/x", 0o755))
	tests := []struct {
		name         string
		solve        func(c client.Client) (client.Reference, error)
		ref          client.Reference
		wantEvaluate bool
		wantImports  int
		wantErr      string
	}{
		{"ref carries cache imports", func(c client.Client) (client.Reference, error) { return Ref(t.Context(), c, st, imports) }, fakeRef{}, false, 1, ""},
		{"ref of scratch is nil, no error", func(c client.Client) (client.Reference, error) { return Ref(t.Context(), c, llb.Scratch(), nil) }, nil, false, 0, ""},
		{"evaluated runs the steps", func(c client.Client) (client.Reference, error) { return Evaluated(t.Context(), c, st) }, fakeRef{}, true, 0, ""},
		{"evaluated refuses no filesystem", func(c client.Client) (client.Reference, error) { return Evaluated(t.Context(), c, st) }, nil, true, 0, "no filesystem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &recordingClient{ref: tt.ref}
			got, err := tt.solve(c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.ref {
				t.Errorf("ref = %v, want %v", got, tt.ref)
			}
			if c.got.Definition == nil {
				t.Error("no definition was sent")
			}
			if c.got.Evaluate != tt.wantEvaluate || len(c.got.CacheImports) != tt.wantImports {
				t.Errorf("request evaluate=%v imports=%d, want %v %d", c.got.Evaluate, len(c.got.CacheImports), tt.wantEvaluate, tt.wantImports)
			}
		})
	}
}
