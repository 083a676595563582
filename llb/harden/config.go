package harden

import (
	"github.com/hardenkit/hardenkit/pkg/baseimage"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Config is what hardening reads of the build's policy, and nothing else:
// it travels in the definitions of the in-build analysis steps
// (package hardenstep), whose cache must not be thrown away when an
// unrelated policy setting changes. The frontend derives it from the
// policy.
type Config struct {
	// Policy names the policy in errors.
	Policy string `json:"policy,omitempty"`
	// Levels are the levels of hardening's rules (Rules), by rule id. A
	// rule without a level is enforced: a missing setting never relaxes a
	// build.
	Levels map[string]rules.Level `json:"levels"`
	// Distroless says how the shipped image gets a minimal base.
	Distroless Distroless `json:"distroless"`
	// Tooling lists the tools hardening removes, and those it keeps.
	Tooling Tooling `json:"tooling"`
	// User says whether, and as whom, a USER is injected.
	User UserInjection `json:"user"`
}

// The distroless modes.
const (
	// DistrolessRequire fails a build whose shipped stage's base is
	// neither scratch nor allowed.
	DistrolessRequire = "require"
	// DistrolessRebase keeps only what the application needs of the
	// shipped stage.
	DistrolessRebase = "rebase"
	// DistrolessStrip keeps the shipped stage's filesystem minus tooling.
	DistrolessStrip = "strip"
)

// Distroless is the minimal-base control.
type Distroless struct {
	// Mode is DistrolessRequire, DistrolessRebase or DistrolessStrip.
	Mode string `json:"mode"`
	// AllowedBases are the bases the shipped stage may be built on in
	// require mode; empty accepts any base.
	AllowedBases []baseimage.Allowed `json:"allowedBases,omitempty"`
}

// Tooling lists what the tooling control removes. A nil list means
// pkg/tooling's built-in list for that category; an empty one removes
// nothing of it (so the lists have no omitempty: nil and empty differ).
type Tooling struct {
	PackageManagers []string `json:"packageManagers"`
	NetworkTools    []string `json:"networkTools"`
	Debuggers       []string `json:"debuggers"`
	Shells          []string `json:"shells"`
	// Keep are image path patterns never removed, whatever the lists say.
	Keep []string `json:"keep,omitempty"`
}

// UserInjection says which user a shipped stage without USER runs as.
type UserInjection struct {
	// Inject sets USER to UID:GID when the shipped stage sets none.
	Inject bool `json:"inject,omitempty"`
	UID    int  `json:"uid,omitempty"`
	GID    int  `json:"gid,omitempty"`
}

// level is the level of r: its entry in Levels, else enforce.
func (c Config) level(r rules.Rule) rules.Level {
	if l, ok := c.Levels[r.ID]; ok {
		return l
	}
	return rules.LevelEnforce
}
