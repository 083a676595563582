// Package solve evaluates LLB through a gateway client. It is the one place
// where hardenkit's frontend, its in-build steps and the CLI's gateway
// clients marshal a state and solve it, so every solve carries the build's
// cache imports the same way.
package solve

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
)

// Ref marshals st, solves it through c with cacheImports (nil for none) and
// returns its single result reference. The solve is lazy: BuildKit runs the
// steps when the reference is read or exported.
func Ref(ctx context.Context, c client.Client, st llb.State, cacheImports []client.CacheOptionsEntry) (client.Reference, error) {
	return ref(ctx, c, st, client.SolveRequest{CacheImports: cacheImports})
}

// Evaluated is Ref without cache imports, with the steps run before it
// returns, and an error for a state that has no filesystem (scratch): for
// callers that read the result at once and must see a failure here.
func Evaluated(ctx context.Context, c client.Client, st llb.State) (client.Reference, error) {
	r, err := ref(ctx, c, st, client.SolveRequest{Evaluate: true})
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errors.New("the build produced no filesystem")
	}
	return r, nil
}

func ref(ctx context.Context, c client.Client, st llb.State, req client.SolveRequest) (client.Reference, error) {
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, fmt.Errorf("marshaling LLB definition: %w", err)
	}
	req.Definition = def.ToPB()
	r, err := c.Solve(ctx, req)
	if err != nil {
		return nil, err
	}
	out, err := r.SingleRef()
	if err != nil {
		return nil, fmt.Errorf("reading solve result: %w", err)
	}
	return out, nil
}
