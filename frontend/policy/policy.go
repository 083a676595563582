// Package policy is hardenkit's declarative policy: which rules are
// enforced, warned about or off, and the parameters of every control
// (allowed bases, tool lists, user to inject, severity threshold, exception
// lifetime, …).
//
// A policy file (YAML or JSON, docs/policy.md) selects a built-in baseline
// and overrides parts of it; Parse merges the file onto the baseline and
// returns the effective Policy. The built-in baselines are themselves policy
// files embedded in the binary (baselines/*.yaml). Discover finds the policy
// of a build — explicit option, named context, hardenkit.yaml, else the
// strict baseline — and Digest identifies the effective policy in reports
// and attestations.
//
// A Policy is a value: nothing here mutates one after it is returned, and
// nothing is cached between calls.
package policy

import (
	"slices"

	"github.com/hardenkit/hardenkit/pkg/baseimage"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// APIVersion is the only policy file version this package reads.
const APIVersion = "hardenkit.dev/v1alpha1"

// Kind is the kind of a policy document.
const Kind = "Policy"

// The built-in baselines.
const (
	// BaselineStrict enforces every rule except a documented few that
	// warn; it is the policy of a build that supplies none.
	BaselineStrict = "strict"
	// BaselineCISDocker enforces the rules mapped to CIS Docker Benchmark
	// §4 recommendations and warns about the rest.
	BaselineCISDocker = "cis-docker"
)

// BuiltinPrefix marks a policy that came from an embedded baseline in
// Policy.Source, and may prefix a baseline name given as an explicit policy.
const BuiltinPrefix = "builtin:"

// Policy is the effective policy after merging a file onto its baseline.
//
// Its JSON form (CanonicalJSON) is itself a complete policy document.
type Policy struct {
	// APIVersion is always APIVersion.
	APIVersion string `json:"apiVersion"`
	// Kind is always Kind.
	Kind string `json:"kind"`
	// Name identifies the policy in reports.
	Name string `json:"name"`
	// Baseline is the built-in baseline the policy was merged onto.
	Baseline string `json:"baseline"`
	// Defaults decides the level of every rule without an explicit
	// override; the baseline sets it and a file may replace it.
	Defaults Defaults `json:"defaults"`
	// Rules are per rule id overrides: enforce, warn or off.
	Rules map[string]rules.Level `json:"rules"`
	// Controls are the parameters of the controls.
	Controls Controls `json:"controls"`
	// Source is the file the policy came from, or "builtin:<baseline>".
	// It is not part of the digest: the same content is the same policy
	// wherever it is stored.
	Source string `json:"-"`
	// Sources are the policy sources the build consulted, highest rank
	// first (Discover fills it in). Not part of the digest either: the
	// compliance statement records them beside it.
	Sources []SourceRef `json:"-"`
}

// Defaults decide a rule's level when Policy.Rules does not name it: the
// first Selector that matches the rule wins, else Level.
type Defaults struct {
	// Level applies to rules no selector matches.
	Level rules.Level `json:"level"`
	// Select lists selectors in priority order.
	Select []Selector `json:"select"`
}

// Selector matches rules by catalog attributes. Within one attribute any
// listed value matches; all non-empty attributes must match.
type Selector struct {
	// Families of the rule.
	Families []rules.Family `json:"families,omitempty"`
	// CIS items ("4.6"): the rule must map to at least one of them.
	CIS []string `json:"cis,omitempty"`
	// Severities of the rule.
	Severities []rules.Severity `json:"severities,omitempty"`
	// Stages where the rule runs.
	Stages []rules.Stage `json:"stages,omitempty"`
	// Level the matching rules get.
	Level rules.Level `json:"level"`
}

// Matches reports whether r satisfies every attribute the selector sets.
func (s Selector) Matches(r rules.Rule) bool {
	if len(s.Families) > 0 && !slices.Contains(s.Families, r.Family) {
		return false
	}
	if len(s.Severities) > 0 && !slices.Contains(s.Severities, r.Severity) {
		return false
	}
	if len(s.Stages) > 0 && !slices.Contains(s.Stages, r.Stage) {
		return false
	}
	if len(s.CIS) > 0 && !slices.ContainsFunc(r.CIS, func(item string) bool { return slices.Contains(s.CIS, item) }) {
		return false
	}
	return true
}

// Level returns the effective level of r: the explicit override in Rules,
// else the level of the first matching default selector, else the default
// level. A nil policy enforces everything: a missing policy must never
// relax a build.
func (p *Policy) Level(r rules.Rule) rules.Level {
	if p == nil {
		return rules.LevelEnforce
	}
	if l, ok := p.Rules[r.ID]; ok {
		return l
	}
	for _, s := range p.Defaults.Select {
		if s.Matches(r) {
			return s.Level
		}
	}
	return p.Defaults.Level
}

// Controls are the parameters of hardenkit's controls.
type Controls struct {
	// Epoch is the SOURCE_DATE_EPOCH control.
	Epoch EpochControl `json:"epoch"`
	// Distroless is the minimal-base control.
	Distroless DistrolessControl `json:"distroless"`
	// Tooling is the control that removes tools from the final image.
	Tooling ToolingControl `json:"tooling"`
	// User is the non-root control.
	User UserControl `json:"user"`
	// Secrets is the secret scanning control.
	Secrets SecretsControl `json:"secrets"`
	// Vulnerabilities is the vulnerability gate.
	Vulnerabilities VulnControl `json:"vulnerabilities"`
	// Exceptions says how waivers are accepted.
	Exceptions ExceptionsControl `json:"exceptions"`
	// Mode says which HARDENKIT_MODE values a build may ask for.
	Mode ModeControl `json:"mode"`
}

// EpochControl sets the timestamp of reproducible outputs.
type EpochControl struct {
	// Default is the SOURCE_DATE_EPOCH used when the build gives none.
	Default int64 `json:"default"`
}

// The distroless modes.
const (
	// DistrolessRequire fails a build whose final base is not allowed.
	DistrolessRequire = "require"
	// DistrolessRebase copies the final stage's payload onto an allowed
	// minimal base.
	DistrolessRebase = "rebase"
	// DistrolessStrip keeps the base and strips tooling from it.
	DistrolessStrip = "strip"
)

// DistrolessControl says how the final image gets a minimal base.
type DistrolessControl struct {
	// Mode is require, rebase or strip.
	Mode string `json:"mode"`
	// AllowedBases are the bases the shipped stage may be built on. An
	// empty list is no allow-list: any base is accepted.
	AllowedBases []BaseImage `json:"allowedBases"`
}

// BaseImage is one allowed base image; pkg/baseimage owns its matching.
type BaseImage = baseimage.Allowed

// ToolingControl lists what the tooling control removes. A nil list means
// hardenkit's built-in list for that category; an empty list removes
// nothing of that category.
type ToolingControl struct {
	// PackageManagers to remove (apt, dpkg, apk, …).
	PackageManagers []string `json:"packageManagers"`
	// NetworkTools to remove (curl, wget, nc, …).
	NetworkTools []string `json:"networkTools"`
	// Debuggers to remove (gdb, strace, …).
	Debuggers []string `json:"debuggers"`
	// Shells to remove (sh, bash, …).
	Shells []string `json:"shells"`
	// Keep are absolute paths never removed, whatever the lists say.
	Keep []string `json:"keep"`
}

// UserControl says which user the final image runs as.
type UserControl struct {
	// Inject sets USER to UID:GID when the final stage would run as root.
	Inject bool `json:"inject"`
	// UID of the injected user (65532, distroless "nonroot"); never 0
	// while Inject is set.
	UID int `json:"uid"`
	// GID of the injected user.
	GID int `json:"gid"`
}

// SecretsControl tunes secret scanning.
type SecretsControl struct {
	// AllowPaths are globs of paths never reported (test fixtures).
	AllowPaths []string `json:"allowPaths"`
	// AllowRules are secret detector rule ids (e.g. gitleaks
	// "generic-api-key") whose matches are not reported.
	AllowRules []string `json:"allowRules"`
	// MaxFileSize is the largest file scanned, in bytes.
	MaxFileSize int64 `json:"maxFileSize"`
}

// VulnControl is the vulnerability gate.
type VulnControl struct {
	// FailOn is the lowest severity that is a violation.
	FailOn rules.Severity `json:"failOn"`
	// RequireDB fails the build when no usable vulnerability database is
	// available; otherwise the scan is skipped and recorded as skipped.
	RequireDB bool `json:"requireDB"`
	// MaxDBAge is the oldest database accepted.
	MaxDBAge Duration `json:"maxDBAge"`
	// DB is the database path; empty means the scanner's default.
	DB string `json:"db"`
}

// ExceptionsControl says how exceptions (waivers) are accepted.
type ExceptionsControl struct {
	// File is the exceptions file, relative to the policy file; empty
	// means only the hardenkit-exceptions named context is read.
	File string `json:"file"`
	// MaxLifetime is the longest created..expires span accepted.
	MaxLifetime Duration `json:"maxLifetime"`
	// RequireSignature requires every exception to carry a DSSE signature
	// by one of ApproverKeys.
	RequireSignature bool `json:"requireSignature"`
	// ApproverKeys are PEM public keys (Ed25519 or ECDSA P-256, PKIX), or
	// paths to such files relative to the policy file.
	ApproverKeys []string `json:"approverKeys"`
	// AllowInline allows suppressions in Dockerfile comments; each must
	// carry a reason.
	AllowInline bool `json:"allowInline"`
}

// ModeControl says which HARDENKIT_MODE values a build may ask for.
type ModeControl struct {
	// AllowOff allows HARDENKIT_MODE=off. When false such a build fails:
	// whoever can pass build args must not be able to switch the policy
	// off.
	AllowOff bool `json:"allowOff"`
}
