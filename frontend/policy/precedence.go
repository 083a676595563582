package policy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Precedence: who may set the policy of a build.
//
// The sources of a policy, highest rank first, are the organisation's
// frontend image (OrgPolicyPath), the hardenkit-policy named context (what CI
// passes), hardenkit.yaml beside the Dockerfile, and the HARDENKIT_POLICY
// build arg. The highest source that exists sets the policy as its file
// says; every source below it may only tighten it: raise a rule's level,
// lower a threshold, shorten a lifetime, shrink an allow-list. A lower
// source that writes a setting weaker than the effective policy of the
// sources above it fails the build, naming the source, the line and the
// setting. What a lower source only inherits from its baseline without
// writing it is not an attempt: the higher sources' value stays.

// The ranks of the policy sources, in Sources.Rank.
const (
	// RankOrganisation is a policy baked into the frontend image.
	RankOrganisation = "organisation"
	// RankCI is the hardenkit-policy named context.
	RankCI = "ci"
	// RankDockerfile is hardenkit.yaml beside the Dockerfile.
	RankDockerfile = "dockerfile"
	// RankBuildArg is the HARDENKIT_POLICY build arg (or CLI flag).
	RankBuildArg = "build-arg"
	// RankDefault is the strict baseline of a build that names no policy.
	RankDefault = "default"
)

// OrgPolicyPath is where an organisation's frontend image carries its
// policy; `make frontend-image ORG_POLICY=file` puts it there.
const OrgPolicyPath = "/etc/hardenkit/policy.yaml"

// SourceRef is one policy source a build consulted.
type SourceRef struct {
	// Rank is one of the Rank* constants.
	Rank string `json:"rank"`
	// Name is the file (or "builtin:<baseline>") the policy came from.
	Name string `json:"name"`
	// Digest is "sha256:<hex>" of the source's bytes as read.
	Digest string `json:"digest"`
}

// Ranking is what judging a lower source needs beyond the two policies.
type Ranking struct {
	// Catalog is every rule of the build: levels are compared per rule.
	Catalog []rules.Rule
	// BuiltinTools returns hardenkit's built-in list of a tooling
	// category ("packageManagers", "networkTools", "debuggers",
	// "shells"), which a null tool list stands for. Nil: a null list
	// compares only with another null list.
	BuiltinTools func(category string) []string
}

// written is what a policy file wrote: setting path → line. A built-in
// baseline named as a source writes every setting (all is set).
type written struct {
	lines map[string]int
	all   bool
}

func (w written) has(path string) (int, bool) {
	if w.all {
		return 0, true
	}
	l, ok := w.lines[path]
	return l, ok
}

// LevelRank orders levels by strictness: off 0, warn 1, enforce 2.
func LevelRank(l rules.Level) int {
	switch l {
	case rules.LevelEnforce:
		return 2
	case rules.LevelWarn:
		return 1
	}
	return 0
}

// severityRank orders failOn thresholds: a lower threshold is stricter.
func severityRank(s rules.Severity) int { return slices.Index(severities, s) }

// distrolessRank orders the distroless modes by strictness.
func distrolessRank(m string) int {
	return slices.Index([]string{DistrolessStrip, DistrolessRebase, DistrolessRequire}, m)
}

// levelOrigin returns r's level and the setting that decided it.
func (p *Policy) levelOrigin(r rules.Rule) (rules.Level, string) {
	if l, ok := p.Rules[r.ID]; ok {
		return l, "rules." + r.ID
	}
	for _, s := range p.Defaults.Select {
		if s.Matches(r) {
			return s.Level, "defaults.select"
		}
	}
	return p.Defaults.Level, "defaults.level"
}

// tighten returns the effective policy when lower, a source ranked below
// the sources that made upper, is applied: the stricter of the two in
// every setting lower wrote. Any written setting weaker than upper's is
// an error that names lower's file, line and the setting.
func tighten(upper, lower *Policy, w written, rk Ranking) (*Policy, error) {
	t := &tightening{q: clonePolicy(upper), upper: upper, lower: lower, w: w, rk: rk}
	// One check per area, in the order their refusals are reported.
	for _, check := range []func(){t.levels, t.epoch, t.distroless, t.tooling, t.user, t.secrets, t.vulnerabilities, t.exceptions, t.mode} {
		check()
	}
	if len(t.bad) > 0 {
		return nil, errors.New(strings.Join(t.bad, "\n"))
	}
	normalize(t.q)
	return t.q, nil
}

// tightening is one application of a lower source onto upper: q is the
// result so far, bad the refusals so far.
type tightening struct {
	q            *Policy
	upper, lower *Policy
	w            written
	rk           Ranking
	bad          []string
}

// refuse records that lower's setting at path would weaken the policy.
func (t *tightening) refuse(path, format string, args ...any) {
	where := t.lower.Source
	if l, _ := t.w.has(path); l > 0 {
		where = fmt.Sprintf("%s:%d", t.lower.Source, l)
	}
	t.bad = append(t.bad, fmt.Sprintf("%s: %s: %s", where, path, fmt.Sprintf(format, args...)))
}

// levels tightens rule levels, rule by rule.
func (t *tightening) levels() {
	// Levels, rule by rule; the rules one setting would lower from one
	// level to another are one line (defaults.level: off lowers dozens).
	type lowering struct{ origin, from, to string }
	var lowerings []lowering
	lowered := map[lowering][]string{}
	for _, r := range t.rk.Catalog {
		lu := t.upper.Level(r)
		ll, origin := t.lower.levelOrigin(r)
		switch {
		case LevelRank(ll) > LevelRank(lu):
			t.q.Rules[r.ID] = ll
		case LevelRank(ll) < LevelRank(lu):
			if _, ok := t.w.has(origin); ok {
				k := lowering{origin, string(lu), string(ll)}
				if lowered[k] == nil {
					lowerings = append(lowerings, k)
				}
				lowered[k] = append(lowered[k], r.ID)
			}
		}
	}
	for _, k := range lowerings {
		if ids := lowered[k]; len(ids) == 1 {
			t.refuse(k.origin, "would lower %s from %s to %s", ids[0], k.from, k.to)
		} else {
			t.refuse(k.origin, "would lower %d rules from %s to %s: %s", len(ids), k.from, k.to, strings.Join(ids, ", "))
		}
	}
}

// epoch takes lower's default timestamp.
func (t *tightening) epoch() {
	c, lc := &t.q.Controls, t.lower.Controls
	if _, ok := t.w.has("controls.epoch.default"); ok {
		// The timestamp is not a strictness: the team may choose it.
		c.Epoch.Default = lc.Epoch.Default
	}
}

// distroless tightens the mode and the allowed bases.
func (t *tightening) distroless() {
	c, uc, lc := &t.q.Controls, t.upper.Controls, t.lower.Controls
	if _, ok := t.w.has("controls.distroless.mode"); ok {
		switch {
		case distrolessRank(lc.Distroless.Mode) < distrolessRank(uc.Distroless.Mode):
			t.refuse("controls.distroless.mode", "%s is weaker than %s", lc.Distroless.Mode, uc.Distroless.Mode)
		default:
			c.Distroless.Mode = lc.Distroless.Mode
		}
	}
	if _, ok := t.w.has("controls.distroless.allowedBases"); ok {
		switch {
		case len(uc.Distroless.AllowedBases) == 0:
			c.Distroless.AllowedBases = slices.Clone(lc.Distroless.AllowedBases)
		case len(lc.Distroless.AllowedBases) == 0:
			t.refuse("controls.distroless.allowedBases", "an empty list would drop the allow-list of %d bases", len(uc.Distroless.AllowedBases))
		default:
			ok := true
			for _, b := range lc.Distroless.AllowedBases {
				if !slices.ContainsFunc(uc.Distroless.AllowedBases, func(u BaseImage) bool {
					return u.Pattern == b.Pattern && (u.Digest == "" || u.Digest == b.Digest)
				}) {
					t.refuse("controls.distroless.allowedBases", "%s is not among the allowed bases it may narrow", b.Pattern)
					ok = false
				}
			}
			if ok {
				c.Distroless.AllowedBases = slices.Clone(lc.Distroless.AllowedBases)
			}
		}
	}
}

// tooling: removing more is stricter, keeping more is weaker.
func (t *tightening) tooling() {
	c, uc, lc := &t.q.Controls, t.upper.Controls, t.lower.Controls
	for _, tl := range []struct {
		key          string
		dst          *[]string
		upper, lower []string
	}{
		{"packageManagers", &c.Tooling.PackageManagers, uc.Tooling.PackageManagers, lc.Tooling.PackageManagers},
		{"networkTools", &c.Tooling.NetworkTools, uc.Tooling.NetworkTools, lc.Tooling.NetworkTools},
		{"debuggers", &c.Tooling.Debuggers, uc.Tooling.Debuggers, lc.Tooling.Debuggers},
		{"shells", &c.Tooling.Shells, uc.Tooling.Shells, lc.Tooling.Shells},
	} {
		path := "controls.tooling." + tl.key
		if _, ok := t.w.has(path); !ok {
			continue
		}
		u, uok := resolveTools(tl.upper, tl.key, t.rk)
		l, lok := resolveTools(tl.lower, tl.key, t.rk)
		switch {
		case tl.upper == nil && tl.lower == nil:
		case !uok || !lok:
			t.refuse(path, "cannot tell whether it removes at least the built-in list the higher policy removes")
		case !subset(u, l):
			t.refuse(path, "would stop removing %s", strings.Join(missing(u, l), ", "))
		default:
			*tl.dst = slices.Clone(tl.lower)
		}
	}
	t.narrower("controls.tooling.keep", "would keep", &c.Tooling.Keep, uc.Tooling.Keep, lc.Tooling.Keep)
}

// user may only keep or start injecting a non-root user.
func (t *tightening) user() {
	c, uc, lc := &t.q.Controls, t.upper.Controls, t.lower.Controls
	if _, ok := t.w.has("controls.user.inject"); ok {
		if uc.User.Inject && !lc.User.Inject {
			t.refuse("controls.user.inject", "false would stop injecting a non-root user")
		}
		c.User.Inject = uc.User.Inject || lc.User.Inject
	}
	if _, ok := t.w.has("controls.user.uid"); ok {
		c.User.UID = lc.User.UID
	}
	if _, ok := t.w.has("controls.user.gid"); ok {
		c.User.GID = lc.User.GID
	}
	if c.User.Inject && c.User.UID == 0 {
		t.refuse("controls.user.uid", "the injected user must not be root (0)")
	}
}

// secrets may only narrow allow-lists and scan more.
func (t *tightening) secrets() {
	c, uc, lc := &t.q.Controls, t.upper.Controls, t.lower.Controls
	t.narrower("controls.secrets.allowPaths", "would stop reporting secrets in", &c.Secrets.AllowPaths, uc.Secrets.AllowPaths, lc.Secrets.AllowPaths)
	t.narrower("controls.secrets.allowRules", "would stop reporting detector", &c.Secrets.AllowRules, uc.Secrets.AllowRules, lc.Secrets.AllowRules)
	if _, ok := t.w.has("controls.secrets.maxFileSize"); ok {
		if lc.Secrets.MaxFileSize < uc.Secrets.MaxFileSize {
			t.refuse("controls.secrets.maxFileSize", "%d would scan less than %d bytes per file", lc.Secrets.MaxFileSize, uc.Secrets.MaxFileSize)
		} else {
			c.Secrets.MaxFileSize = lc.Secrets.MaxFileSize
		}
	}
}

// vulnerabilities may only fail on more and demand a fresher database.
func (t *tightening) vulnerabilities() {
	c, vu, vl := &t.q.Controls, t.upper.Controls.Vulnerabilities, t.lower.Controls.Vulnerabilities
	if _, ok := t.w.has("controls.vulnerabilities.failOn"); ok {
		if severityRank(vl.FailOn) > severityRank(vu.FailOn) {
			t.refuse("controls.vulnerabilities.failOn", "%s would let %s vulnerabilities through", vl.FailOn, vu.FailOn)
		} else {
			c.Vulnerabilities.FailOn = vl.FailOn
		}
	}
	if _, ok := t.w.has("controls.vulnerabilities.requireDB"); ok && vu.RequireDB && !vl.RequireDB {
		t.refuse("controls.vulnerabilities.requireDB", "false would let a build without a vulnerability database pass")
	}
	c.Vulnerabilities.RequireDB = vu.RequireDB || (vl.RequireDB && t.w.hasAny("controls.vulnerabilities.requireDB"))
	if _, ok := t.w.has("controls.vulnerabilities.maxDBAge"); ok {
		if vl.MaxDBAge > vu.MaxDBAge {
			t.refuse("controls.vulnerabilities.maxDBAge", "%s would accept a database older than %s", vl.MaxDBAge, vu.MaxDBAge)
		} else {
			c.Vulnerabilities.MaxDBAge = vl.MaxDBAge
		}
	}
	if _, ok := t.w.has("controls.vulnerabilities.db"); ok && vl.DB != vu.DB {
		if vu.DB != "" {
			t.refuse("controls.vulnerabilities.db", "%q would replace the database %q", vl.DB, vu.DB)
		} else {
			c.Vulnerabilities.DB = vl.DB
		}
	}
}

// exceptions may only shorten lifetimes and demand more approval.
func (t *tightening) exceptions() {
	c, eu, el := &t.q.Controls, t.upper.Controls.Exceptions, t.lower.Controls.Exceptions
	if _, ok := t.w.has("controls.exceptions.file"); ok && el.File != "" {
		c.Exceptions.File = el.File
	}
	if _, ok := t.w.has("controls.exceptions.maxLifetime"); ok {
		if el.MaxLifetime > eu.MaxLifetime {
			t.refuse("controls.exceptions.maxLifetime", "%s would extend exception lifetimes beyond %s", el.MaxLifetime, eu.MaxLifetime)
		} else {
			c.Exceptions.MaxLifetime = el.MaxLifetime
		}
	}
	if _, ok := t.w.has("controls.exceptions.requireSignature"); ok {
		if eu.RequireSignature && !el.RequireSignature {
			t.refuse("controls.exceptions.requireSignature", "false would accept unsigned exceptions")
		}
		c.Exceptions.RequireSignature = eu.RequireSignature || el.RequireSignature
	}
	if _, ok := t.w.has("controls.exceptions.approverKeys"); ok {
		switch {
		case !eu.RequireSignature && len(eu.ApproverKeys) == 0:
			// Nothing was signed before: any key only narrows.
			c.Exceptions.ApproverKeys = slices.Clone(el.ApproverKeys)
		case !subset(el.ApproverKeys, eu.ApproverKeys):
			t.refuse("controls.exceptions.approverKeys", "%d key(s) the higher policy does not name would approve exceptions", len(missing(el.ApproverKeys, eu.ApproverKeys)))
		default:
			c.Exceptions.ApproverKeys = slices.Clone(el.ApproverKeys)
		}
	}
	if c.Exceptions.RequireSignature && len(c.Exceptions.ApproverKeys) == 0 && len(eu.ApproverKeys) > 0 {
		t.refuse("controls.exceptions.approverKeys", "an empty list would leave no approver key")
	}
	if _, ok := t.w.has("controls.exceptions.allowInline"); ok {
		if !eu.AllowInline && el.AllowInline {
			t.refuse("controls.exceptions.allowInline", "true would accept suppressions in Dockerfile comments")
		}
		c.Exceptions.AllowInline = eu.AllowInline && el.AllowInline
	}
}

// mode may only forbid HARDENKIT_MODE=off.
func (t *tightening) mode() {
	c, uc, lc := &t.q.Controls, t.upper.Controls, t.lower.Controls
	if _, ok := t.w.has("controls.mode.allowOff"); ok {
		if !uc.Mode.AllowOff && lc.Mode.AllowOff {
			t.refuse("controls.mode.allowOff", "true would allow HARDENKIT_MODE=off")
		}
		c.Mode.AllowOff = uc.Mode.AllowOff && lc.Mode.AllowOff
	}
}

// weakeningError is the message of a lower source that weakens the policy
// of the sources above it: which source tried what (refused, one setting a
// line, each with its file and line), and what to do about it. A built-in
// baseline named by HARDENKIT_POLICY cannot be edited, so its remedy is to
// drop the build arg; a file's is to remove or tighten the settings. Either
// way a setting that must be weaker can only be changed by the owner of the
// higher source, in that source.
func weakeningError(lower SourceRef, builtin bool, higher []SourceRef, refused error) error {
	fix := fmt.Sprintf("remove these settings from %s, or make them at least as strict as %s has them", lower.Name, names(higher))
	if builtin {
		fix = fmt.Sprintf("drop HARDENKIT_POLICY=%s (the build arg or --policy flag): %s already sets the policy, and a built-in baseline below it may only be named when it is at least as strict",
			strings.TrimPrefix(lower.Name, BuiltinPrefix), names(higher))
	}
	return fmt.Errorf("policy %s (%s) may only tighten the policy of %s, it weakens it:\n%w\nto fix: %s; a setting the build needs weaker can only be changed by the owner of the policy that sets it (%s), there",
		lower.Name, lower.Rank, names(higher), refused, fix, names(higher))
}

// hasAny reports whether w wrote path.
func (w written) hasAny(path string) bool {
	_, ok := w.has(path)
	return ok
}

// narrower applies an allow-list lower wrote when it is a subset of upper's
// (allowing less is stricter) and refuses it otherwise.
func (t *tightening) narrower(path, what string, dst *[]string, upper, lower []string) {
	if _, ok := t.w.has(path); !ok {
		return
	}
	if extra := missing(lower, upper); len(extra) > 0 {
		t.refuse(path, "%s %s", what, strings.Join(extra, ", "))
		return
	}
	*dst = slices.Clone(lower)
}

// resolveTools returns the list a tool list stands for (a null list is the
// built-in one) and whether it is known.
func resolveTools(list []string, category string, rk Ranking) ([]string, bool) {
	if list != nil {
		return list, true
	}
	if rk.BuiltinTools == nil {
		return nil, false
	}
	return rk.BuiltinTools(category), true
}

// subset reports whether every item of a is in b.
func subset(a, b []string) bool { return len(missing(a, b)) == 0 }

// missing returns the items of a that are not in b.
func missing(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// clonePolicy returns a copy of p that shares no map or slice with it.
func clonePolicy(p *Policy) *Policy {
	q := *p
	q.Rules = maps.Clone(p.Rules)
	if q.Rules == nil {
		q.Rules = map[string]rules.Level{}
	}
	q.Defaults.Select = slices.Clone(p.Defaults.Select)
	q.Sources = slices.Clone(p.Sources)
	c := &q.Controls
	c.Distroless.AllowedBases = slices.Clone(c.Distroless.AllowedBases)
	for _, l := range []*[]string{
		&c.Tooling.PackageManagers, &c.Tooling.NetworkTools, &c.Tooling.Debuggers, &c.Tooling.Shells, &c.Tooling.Keep,
		&c.Secrets.AllowPaths, &c.Secrets.AllowRules, &c.Exceptions.ApproverKeys,
	} {
		*l = slices.Clone(*l)
	}
	return &q
}
