package frontend

import (
	"slices"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// hardenConfig is what hardening reads of p: the levels of its own rules
// and the distroless, tooling and user controls. Nothing else of the
// policy reaches llb/harden, so the in-build analysis steps keep their
// cache when another setting changes. A nil policy enforces every rule
// with zero controls, as policy.Level does.
func hardenConfig(p *policy.Policy) harden.Config {
	c := harden.Config{Levels: map[string]rules.Level{}}
	for _, r := range harden.Rules() {
		c.Levels[r.ID] = p.Level(r)
	}
	if p == nil {
		return c
	}
	d, t, u := p.Controls.Distroless, p.Controls.Tooling, p.Controls.User
	c.Policy = p.Name
	c.Distroless = harden.Distroless{Mode: d.Mode, AllowedBases: slices.Clone(d.AllowedBases)}
	c.Tooling = harden.Tooling{
		PackageManagers: slices.Clone(t.PackageManagers),
		NetworkTools:    slices.Clone(t.NetworkTools),
		Debuggers:       slices.Clone(t.Debuggers),
		Shells:          slices.Clone(t.Shells),
		Keep:            slices.Clone(t.Keep),
	}
	c.User = harden.UserInjection{Inject: u.Inject, UID: u.UID, GID: u.GID}
	return c
}
