package dockerfilemodel

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Shipped is what hardening needs to know about the stage a build
// exports.
type Shipped struct {
	// BaseName is the stage's FROM value, ARGs expanded.
	BaseName string
	// BaseStage is the name of the earlier stage the shipped one is built
	// on, if any.
	BaseStage string
	// Lines locate USER, ENTRYPOINT, CMD, HEALTHCHECK and FROM, following
	// the chain of stages the shipped one inherits them from.
	Lines Lines
}

// Lines locate the instructions hardening points its findings at. It has
// harden.Lines's fields, so the frontend converts one to the other: the
// model reads Dockerfiles and depends on no LLB package.
type Lines struct {
	From, User, Entrypoint, Cmd, Healthcheck []parser.Range
	// Last is the shipped stage's own last instruction (its FROM when it
	// has none): where advice appends what belongs at the end of the stage.
	Last []parser.Range
}

// Shipped reads the exported stage and the stages it inherits from.
func (v *View) Shipped() (Shipped, error) {
	var out Shipped
	for i, first := v.target, true; i >= 0; first = false {
		s := v.stages[i]
		base, err := v.base(i)
		if err != nil {
			return Shipped{}, err
		}
		if first {
			out.BaseName = base
			out.Lines.From = s.Location
			out.Lines.Last = s.Location
			if n := len(s.Commands); n > 0 {
				out.Lines.Last = s.Commands[n-1].Location()
			}
		}
		fillLines(&out.Lines, s)
		next := StageIndex(v.stages, base, i)
		if first && next >= 0 {
			out.BaseStage = v.stages[next].Name
		}
		i = next
	}
	return out, nil
}

// fillLines records the last USER, ENTRYPOINT, CMD and HEALTHCHECK of s
// that a later stage has not set already.
func fillLines(l *Lines, s instructions.Stage) {
	var user, ep, cmd, hc []parser.Range
	for _, c := range s.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.Location()
		case *instructions.EntrypointCommand:
			ep = c.Location()
		case *instructions.CmdCommand:
			cmd = c.Location()
		case *instructions.HealthCheckCommand:
			hc = c.Location()
		}
	}
	if l.User == nil {
		l.User = user
	}
	if l.Entrypoint == nil {
		l.Entrypoint = ep
	}
	if l.Cmd == nil {
		l.Cmd = cmd
	}
	if l.Healthcheck == nil {
		l.Healthcheck = hc
	}
}

// ImageBase is a stage the build runs whose FROM is an image (not
// scratch, not an earlier stage): the image's ONBUILD triggers run as the
// stage's first instructions.
type ImageBase struct {
	// Stage labels the stage (Label).
	Stage string
	// Image is the FROM value, ARGs expanded.
	Image string
	// Platform is the platform the image is resolved for: FROM
	// --platform=, else the view's.
	Platform ocispecs.Platform
	// FromLine is the line of the FROM instruction.
	FromLine int
}

// ImageBases returns the image bases of the stages the build runs, in
// Dockerfile order.
func (v *View) ImageBases() ([]ImageBase, error) {
	reached, err := v.Reachable()
	if err != nil {
		return nil, err
	}
	var out []ImageBase
	for i, s := range v.stages {
		if !reached[i] {
			// BuildKit does not build it: its triggers never run.
			continue
		}
		base, err := v.base(i)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(base, "scratch") || StageIndex(v.stages, base, i) >= 0 {
			continue
		}
		p, err := v.stagePlatform(s)
		if err != nil {
			return nil, err
		}
		out = append(out, ImageBase{Stage: Label(s, i), Image: base, Platform: p, FromLine: firstLine(s.Location)})
	}
	return out, nil
}
