// Package solve evaluates LLB through a gateway client. It is the one place
// where hardenkit's frontend and its in-build steps marshal a state and
// solve it, so every solve carries the build's cache imports the same way.
package solve

import (
	"context"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
)

// Ref marshals st, solves it through c with cacheImports (nil for none) and
// returns its single result reference.
func Ref(ctx context.Context, c client.Client, st llb.State, cacheImports []client.CacheOptionsEntry) (client.Reference, error) {
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, fmt.Errorf("marshaling LLB definition: %w", err)
	}
	r, err := c.Solve(ctx, client.SolveRequest{
		Definition:   def.ToPB(),
		CacheImports: cacheImports,
	})
	if err != nil {
		return nil, err
	}
	ref, err := r.SingleRef()
	if err != nil {
		return nil, fmt.Errorf("reading solve result: %w", err)
	}
	return ref, nil
}
