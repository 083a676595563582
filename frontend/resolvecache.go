package frontend

import (
	"context"
	"fmt"

	"github.com/gohugoio/hashstructure"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/util/flightcontrol"
	digest "github.com/opencontainers/go-digest"
)

// resolveCache deduplicates image config lookups across the per-platform
// conversions of one build, as dockerfile.v0 does.
type resolveCache struct {
	client.Client
	g flightcontrol.CachedGroup[*resolvedImage]
}

type resolvedImage struct {
	ref  string
	dgst digest.Digest
	cfg  []byte
}

func withResolveCache(c client.Client) client.Client {
	rc := &resolveCache{Client: c}
	rc.g.CacheError = true
	return rc
}

// ResolveImageConfig resolves ref once per (ref, options) pair.
func (c *resolveCache) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	optHash, err := hashstructure.Hash(opt, nil)
	if err != nil {
		return "", "", nil, fmt.Errorf("hashing resolve options for %s: %w", ref, err)
	}
	res, err := c.g.Do(ctx, fmt.Sprintf("%s,%d", ref, optHash), func(ctx context.Context) (*resolvedImage, error) {
		ref, dgst, cfg, err := c.Client.ResolveImageConfig(ctx, ref, opt)
		if err != nil {
			return nil, err
		}
		return &resolvedImage{ref, dgst, cfg}, nil
	})
	if err != nil {
		return "", "", nil, err
	}
	return res.ref, res.dgst, res.cfg, nil
}
