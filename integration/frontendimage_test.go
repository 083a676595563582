package integration

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// TestFrontendImageInspectsClean inspects hardenkit's own frontend image,
// as pushed to the registry and pulled by BuildKit, with every inspection
// rule of the strict policy (every file read): the image users put after `# syntax=` must
// pass the controls it enforces.
func TestFrontendImageInspectsClean(t *testing.T) {
	ctx := t.Context()
	pol, err := policy.Baseline(policy.BaselineStrict)
	if err != nil {
		t.Fatal(err)
	}
	// The frontend binary (syft, grype and gitleaks inside) is larger than
	// the default 10 MiB scan limit; raise it so the binary is read, not
	// listed as unscanned.
	pol.Controls.Secrets.MaxFileSize = 512 << 20
	var res inspect.Result
	var files int
	c := newClient(ctx, t)
	_, err = c.Build(ctx, client.SolveOpt{}, "", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
		_, _, cfg, err := gw.ResolveImageConfig(ctx, env.Frontend, sourceresolver.Opt{})
		if err != nil {
			return nil, err
		}
		var img dockerspec.DockerOCIImage
		if err := json.Unmarshal(cfg, &img); err != nil {
			return nil, err
		}
		def, err := llb.Image(env.Frontend).Marshal(ctx)
		if err != nil {
			return nil, err
		}
		r, err := gw.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
		if err != nil {
			return nil, err
		}
		ref, err := r.SingleRef()
		if err != nil {
			return nil, err
		}
		src := rootfs.ReferenceSource(ref)
		tree, err := rootfs.Load(ctx, src)
		if err != nil {
			return nil, err
		}
		files = tree.Len()
		res, err = inspect.Run(ctx, inspect.Input{Tree: tree, Src: src, Image: &img, Policy: pol})
		return nil, err
	}, nil)
	if err != nil {
		t.Fatalf("inspecting %s: %v", env.Frontend, err)
	}
	if files < 3 {
		t.Fatalf("the frontend image has %d entries: the test did not see its filesystem", files)
	}
	for _, f := range res.Findings {
		if f.Level == rules.LevelEnforce {
			t.Errorf("enforce-level finding in the frontend image: %s %s:%d %s", f.Rule, f.File, f.Line, f.Message)
		}
	}
	for _, r := range inspect.Rules() {
		if r.ID == "HK3054" { // build context rule: no context here
			continue
		}
		if s, ok := res.Status[r.ID]; !ok || s == inspect.StatusError {
			t.Errorf("%s: status %q (%s)", r.ID, s, res.Errors[r.ID])
		}
	}
	if len(res.Unscanned) != 0 {
		t.Errorf("unscanned files in the frontend image: %v", res.Unscanned)
	}
	t.Logf("frontend image %s: %d entries, %d findings (none enforced)", env.Frontend, files, len(res.Findings))
}
