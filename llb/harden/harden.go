// Package harden rewrites a converted Dockerfile build in LLB. It works on the
// llb.State and image config that dockerfile2llb returns, never on the
// Dockerfile text: BuildKit owns Dockerfile → LLB, hardenkit only changes
// what comes out of it.
package harden

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// Target is one platform's build as it will be exported: the final stage's
// filesystem and the image config that describes it.
type Target struct {
	// State is the final stage's root filesystem.
	State llb.State
	// Image is the image config exported with State.
	Image *dockerspec.DockerOCIImage
	// BaseImage is the config of the final stage's base, which the exporter
	// uses to tell inherited layers and history from new ones.
	BaseImage *dockerspec.DockerOCIImage
	// Epoch is the resolved SOURCE_DATE_EPOCH, if any.
	Epoch *time.Time
}

// Control is one hardening step. A control returns a new Target and leaves
// its input untouched, as llb.State operations do.
type Control interface {
	// Name identifies the control in errors and evidence.
	Name() string
	// Apply hardens t.
	Apply(ctx context.Context, t Target) (Target, error)
}

// Apply runs controls in order, each on the previous one's output. Any
// error fails the whole step: a control is never skipped.
func Apply(ctx context.Context, t Target, controls []Control) (Target, error) {
	for _, c := range controls {
		next, err := c.Apply(ctx, t)
		if err != nil {
			return Target{}, fmt.Errorf("hardening control %s: %w", c.Name(), err)
		}
		if next.Image == nil {
			return Target{}, fmt.Errorf("hardening control %s returned no image config", c.Name())
		}
		t = next
	}
	return t, nil
}
