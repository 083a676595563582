package dockerfilemodel

import (
	"fmt"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// stagePlatform is the platform a stage's base resolves for: FROM
// --platform=, expanded, as dockerfile2llb reads it, else the view's.
func (v *View) stagePlatform(s instructions.Stage) (ocispecs.Platform, error) {
	if s.Platform == "" {
		return v.opt.Platform, nil
	}
	p, err := v.Expand(s.Platform)
	if err != nil {
		return ocispecs.Platform{}, fmt.Errorf("expanding FROM --platform=%s: %w", s.Platform, err)
	}
	out, err := platforms.Parse(p)
	if err != nil {
		return ocispecs.Platform{}, fmt.Errorf("FROM --platform=%s: %w", p, err)
	}
	return out, nil
}
