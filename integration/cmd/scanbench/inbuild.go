package main

import (
	"context"
	"crypto/rand"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/inspect/scanstep"
)

// inBuildScan runs the in-build scanner of the frontend image scanner
// over root, freshly. llb.IgnoreCache alone is not enough: within one
// build job the solver reuses an exec it already ran when the definition
// is the same (solver.loadUnlocked merges a vertex with an active one of
// the same digest), so each run also gets a nonce in its environment,
// which changes the exec's digest.
func inBuildScan(ctx context.Context, gw gwclient.Client, scanner, root llb.State) (inspect.Result, error) {
	resp, err := scanstep.Run(ctx, gw, scanstep.Scan{
		Scanner: scanner, Root: root, Image: benchImage(), Policy: benchPolicy,
		Opts: []llb.RunOption{llb.IgnoreCache, llb.AddEnv("SCANBENCH_NONCE", rand.Text()),
			llb.WithCustomName("scanbench: in-build scanner")},
	})
	if err != nil {
		return inspect.Result{}, err
	}
	return resp.Image, nil
}
