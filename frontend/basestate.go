package frontend

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
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
