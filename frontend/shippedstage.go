package frontend

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/options"
)

// baseState returns the filesystem the shipped stage is built on: an
// earlier stage (converted by dockerfile2llb with it as the target), a
// named context, an image, or nil for scratch.
func baseState(ctx context.Context, bc *dockerui.Client, dt []byte, opt dockerfile2llb.ConvertOpt, st dockerfilemodel.Shipped, platform ocispecs.Platform) (*llb.State, error) {
	switch {
	case st.BaseStage != "":
		opt.Target = st.BaseStage
		opt.Warn = nil
		res, err := dockerfile2llb.Dockerfile2LLB(ctx, dt, opt)
		if err != nil {
			return nil, fmt.Errorf("converting base stage %s: %w", st.BaseStage, err)
		}
		return &res.State, nil
	case strings.EqualFold(st.BaseName, "scratch"):
		return nil, nil
	}
	nc, err := bc.NamedContext(st.BaseName, dockerui.ContextOpt{Platform: &platform})
	if err != nil {
		return nil, fmt.Errorf("named context %s: %w", st.BaseName, err)
	}
	if nc != nil {
		s, _, err := nc.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading named context %s: %w", st.BaseName, err)
		}
		return s, nil
	}
	img := llb.Image(st.BaseName, llb.Platform(platform), llb.WithCustomName("[hardenkit] base "+st.BaseName))
	return &img, nil
}

// resolveEpoch decides the build's SOURCE_DATE_EPOCH: the build arg, else
// the commit time of a git context (or an HTTP context's time), else the
// policy's default. It returns ok=false when dockerfile2llb must resolve a
// symbolic build arg value itself ("context", a named context).
func resolveEpoch(ctx context.Context, bc *dockerui.Client, buildArgs map[string]string, policyDefault int64) (time.Time, bool, error) {
	if v, ok := buildArgs[options.KeySourceDateEpoch]; ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false, nil
		}
		return time.Unix(n, 0).UTC(), true, nil
	}
	t, err := bc.ResolveMainContextSourceDateEpoch(ctx)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("resolving the build context's commit time for SOURCE_DATE_EPOCH: %w", err)
	}
	if t != nil {
		return t.UTC(), true, nil
	}
	return time.Unix(policyDefault, 0).UTC(), true, nil
}
