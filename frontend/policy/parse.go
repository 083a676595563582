package policy

import (
	"embed"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/hardenkit/hardenkit/frontend/exceptions"
	sy "github.com/hardenkit/hardenkit/frontend/policy/strictyaml"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// The baselines are ordinary policy files, embedded so that the binary
// carries them and `hardenkit` can print them for review.
//
//go:embed baselines/*.yaml
var baselineFiles embed.FS

// baselineNames are the built-in baselines, in documentation order.
var baselineNames = []string{BaselineStrict, BaselineCISDocker}

// The values each enumerated setting accepts. They are tables, never
// modified; schema_test.go checks docs/policy.schema.json lists the same.
var (
	configurableLevels = []rules.Level{rules.LevelEnforce, rules.LevelWarn, rules.LevelOff}
	families           = []rules.Family{
		rules.FamilyReproducibility, rules.FamilyMinimalImage, rules.FamilyTooling, rules.FamilyNonRoot,
		rules.FamilySecrets, rules.FamilyDeterministicDockerfile, rules.FamilyHardening, rules.FamilySupplyChain,
	}
	severities      = []rules.Severity{rules.SeverityLow, rules.SeverityMedium, rules.SeverityHigh, rules.SeverityCritical}
	stages          = []rules.Stage{rules.StageStatic, rules.StageLLB, rules.StageImage, rules.StageEvidence}
	cisItems        = []string{"4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9", "4.10", "4.11", "4.12"}
	distrolessModes = []string{DistrolessRequire, DistrolessRebase, DistrolessStrip}
)

var (
	nameRe       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	ruleIDRe     = regexp.MustCompile(`^HK[0-9]+$`)
	detectorRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	tagRe        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	errNoLiteral = errors.New("has no literal character, so it matches everything")
)

const (
	// maxUnixID is the largest uid/gid every runtime accepts.
	maxUnixID = 1<<31 - 1
	// pemMarker tells an inline approver key from a key file path.
	pemMarker = "-----BEGIN"
)

// Baselines lists the built-in baseline names.
func Baselines() []string {
	return slices.Clone(baselineNames)
}

// Baseline returns a built-in baseline ("strict", "cis-docker"; a
// "builtin:" prefix is accepted) as an effective policy.
func Baseline(name string) (*Policy, error) {
	name = strings.TrimPrefix(name, BuiltinPrefix)
	data, file, err := BaselineFile(name)
	if err != nil {
		return nil, err
	}
	p, _, err := parse(file, data, nil, name)
	if err != nil {
		return nil, fmt.Errorf("built-in baseline %s: %w", name, err)
	}
	p.Source = BuiltinPrefix + name
	return p, nil
}

// BaselineFile returns the embedded policy file of a built-in baseline and
// its name inside the binary, for `hardenkit` to print.
func BaselineFile(name string) ([]byte, string, error) {
	if !slices.Contains(baselineNames, name) {
		return nil, "", fmt.Errorf("unknown baseline %q (known: %s)", name, strings.Join(baselineNames, ", "))
	}
	file := "baselines/" + name + ".yaml"
	data, err := baselineFiles.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("reading built-in baseline %s: %w", name, err)
	}
	return data, file, nil
}

// Parse reads a policy file (YAML or JSON) and merges it onto the baseline
// it selects (strict when it names none). known reports whether a rule id
// is in the catalog; nil accepts any id of the form HK<digits>. Unknown
// keys, wrong types, unknown rule ids and bad values are errors; every
// error starts with "FILENAME:LINE: ".
func Parse(filename string, data []byte, known func(ruleID string) bool) (*Policy, error) {
	p, _, err := parseWritten(filename, data, known)
	return p, err
}

// parseWritten is Parse that also returns the settings the file wrote,
// which precedence judges a lower-ranked source by.
func parseWritten(filename string, data []byte, known func(ruleID string) bool) (*Policy, written, error) {
	p, w, err := parse(filename, data, known, "")
	if err != nil {
		return nil, written{}, err
	}
	p.Source = filename
	return p, w, nil
}

// parse decodes a policy file. For a built-in baseline (asBaseline set) it
// starts from an empty policy, since a baseline file writes out every
// setting (TestBaseline checks it does); otherwise from the baseline the
// file selects.
func parse(filename string, data []byte, known func(string) bool, asBaseline string) (*Policy, written, error) {
	var f policyFile
	if err := sy.Decode(filename, data, &f); err != nil {
		return nil, written{}, err
	}
	m := &merger{c: sy.NewCollector(filename), known: known, lines: map[string]int{}}
	m.header(&f)
	baseName := BaselineStrict
	if f.Baseline.Set {
		baseName = f.Baseline.V
	}
	if !slices.Contains(baselineNames, baseName) {
		m.c.Addf(f.Baseline.Line, "baseline %q is not one of %s", baseName, strings.Join(baselineNames, ", "))
		return nil, written{}, m.c.Err()
	}
	p := &Policy{}
	if asBaseline == "" {
		base, err := Baseline(baseName)
		if err != nil {
			return nil, written{}, err
		}
		p = base
	} else {
		if baseName != asBaseline {
			m.c.Addf(f.Baseline.Line, "built-in baseline %s must declare baseline: %s", asBaseline, asBaseline)
		}
		if f.Rules.Set {
			m.c.Addf(f.Rules.Line, "a baseline decides levels with defaults, not per-rule overrides")
		}
	}
	p.APIVersion, p.Kind, p.Name, p.Baseline = APIVersion, Kind, f.Name.V, baseName
	m.apply(&f, p)
	normalize(p)
	m.check(p)
	if err := m.c.Err(); err != nil {
		return nil, written{}, err
	}
	return p, written{lines: m.lines}, nil
}

// merger applies the settings a file makes onto a policy, checking each,
// and remembers where each was made for checks that span settings.
type merger struct {
	c     *sy.Collector
	known func(string) bool
	lines map[string]int
}

func (m *merger) header(f *policyFile) {
	switch {
	case !f.APIVersion.Set:
		m.c.Addf(1, "apiVersion is required (%q)", APIVersion)
	case f.APIVersion.V != APIVersion:
		m.c.Addf(f.APIVersion.Line, "apiVersion must be %q, got %q", APIVersion, f.APIVersion.V)
	}
	switch {
	case !f.Kind.Set:
		m.c.Addf(1, "kind is required (%q)", Kind)
	case f.Kind.V != Kind:
		m.c.Addf(f.Kind.Line, "kind must be %q, got %q", Kind, f.Kind.V)
	}
	switch {
	case !f.Name.Set:
		m.c.Addf(1, "name is required: reports and attestations identify the policy by it")
	case !nameRe.MatchString(f.Name.V):
		m.c.Addf(f.Name.Line, "name %q: want letters, digits, '.', '_' or '-', at most 128", f.Name.V)
	}
}

func (m *merger) apply(f *policyFile, p *Policy) {
	if d := f.Defaults; d != nil {
		enum(m, d.Level, "defaults.level", &p.Defaults.Level, configurableLevels)
		if d.Select.Set {
			m.lines["defaults.select"] = d.Select.Line
			p.Defaults.Select = []Selector{}
			for i, item := range d.Select.V {
				p.Defaults.Select = append(p.Defaults.Select, m.selector(item, fmt.Sprintf("defaults.select[%d]", i)))
			}
		}
	}
	if f.Rules.Set {
		p.Rules = maps.Clone(p.Rules)
		if p.Rules == nil {
			p.Rules = map[string]rules.Level{}
		}
		for _, id := range slices.Sorted(maps.Keys(f.Rules.V)) {
			v := f.Rules.V[id]
			if !m.knownRule(id) {
				m.c.Addf(v.Line, "rules: unknown rule id %q", id)
				continue
			}
			var l rules.Level
			if enum(m, v, "rules."+id, &l, configurableLevels) {
				p.Rules[id] = l
			}
		}
	}
	if f.Controls != nil {
		m.controls(f.Controls, &p.Controls)
	}
}

func (m *merger) knownRule(id string) bool {
	if m.known == nil {
		return ruleIDRe.MatchString(id)
	}
	return m.known(id)
}

func (m *merger) selector(item sy.Value[selectorFile], path string) Selector {
	f := item.V
	s := Selector{
		Families:   enumList(m, f.Families, path+".families", families),
		CIS:        enumList(m, f.CIS, path+".cis", cisItems),
		Severities: enumList(m, f.Severities, path+".severities", severities),
		Stages:     enumList(m, f.Stages, path+".stages", stages),
	}
	if !f.Level.Set {
		m.c.Addf(item.Line, "%s: level is required", path)
	}
	enum(m, f.Level, path+".level", &s.Level, configurableLevels)
	if len(s.Families)+len(s.CIS)+len(s.Severities)+len(s.Stages) == 0 {
		m.c.Addf(item.Line, "%s: set at least one of families, cis, severities, stages", path)
	}
	return s
}

func (m *merger) controls(f *controlsFile, c *Controls) {
	if e := f.Epoch; e != nil {
		integer(m, e.Default, "controls.epoch.default", &c.Epoch.Default, 0, 1<<62)
	}
	if d := f.Distroless; d != nil {
		enum(m, d.Mode, "controls.distroless.mode", &c.Distroless.Mode, distrolessModes)
		if d.AllowedBases.Set {
			m.lines["controls.distroless.allowedBases"] = d.AllowedBases.Line
			c.Distroless.AllowedBases = []BaseImage{}
			for i, item := range d.AllowedBases.V {
				c.Distroless.AllowedBases = append(c.Distroless.AllowedBases,
					m.base(item, fmt.Sprintf("controls.distroless.allowedBases[%d]", i)))
			}
		}
	}
	if t := f.Tooling; t != nil {
		m.list(t.PackageManagers, "controls.tooling.packageManagers", &c.Tooling.PackageManagers, toolName)
		m.list(t.NetworkTools, "controls.tooling.networkTools", &c.Tooling.NetworkTools, toolName)
		m.list(t.Debuggers, "controls.tooling.debuggers", &c.Tooling.Debuggers, toolName)
		m.list(t.Shells, "controls.tooling.shells", &c.Tooling.Shells, toolName)
		m.list(t.Keep, "controls.tooling.keep", &c.Tooling.Keep, keepPath)
	}
	if u := f.User; u != nil {
		m.boolean(u.Inject, "controls.user.inject", &c.User.Inject)
		integer(m, u.UID, "controls.user.uid", &c.User.UID, 0, maxUnixID)
		integer(m, u.GID, "controls.user.gid", &c.User.GID, 0, maxUnixID)
	}
	if s := f.Secrets; s != nil {
		m.list(s.AllowPaths, "controls.secrets.allowPaths", &c.Secrets.AllowPaths, narrowGlob)
		m.list(s.AllowRules, "controls.secrets.allowRules", &c.Secrets.AllowRules, func(v string) error {
			if !detectorRe.MatchString(v) {
				return errors.New("want a detector rule id like generic-api-key")
			}
			return nil
		})
		integer(m, s.MaxFileSize, "controls.secrets.maxFileSize", &c.Secrets.MaxFileSize, 1, 1<<40)
	}
	if v := f.Vulnerabilities; v != nil {
		enum(m, v.FailOn, "controls.vulnerabilities.failOn", &c.Vulnerabilities.FailOn, severities)
		m.boolean(v.RequireDB, "controls.vulnerabilities.requireDB", &c.Vulnerabilities.RequireDB)
		m.duration(v.MaxDBAge, "controls.vulnerabilities.maxDBAge", &c.Vulnerabilities.MaxDBAge)
		m.str(v.DB, "controls.vulnerabilities.db", &c.Vulnerabilities.DB, optionalPath)
	}
	if e := f.Exceptions; e != nil {
		m.str(e.File, "controls.exceptions.file", &c.Exceptions.File, optionalPath)
		m.duration(e.MaxLifetime, "controls.exceptions.maxLifetime", &c.Exceptions.MaxLifetime)
		m.boolean(e.RequireSignature, "controls.exceptions.requireSignature", &c.Exceptions.RequireSignature)
		m.list(e.ApproverKeys, "controls.exceptions.approverKeys", &c.Exceptions.ApproverKeys, approverKey)
		m.boolean(e.AllowInline, "controls.exceptions.allowInline", &c.Exceptions.AllowInline)
	}
	if md := f.Mode; md != nil {
		m.boolean(md.AllowOff, "controls.mode.allowOff", &c.Mode.AllowOff)
	}
}

func (m *merger) base(item sy.Value[baseFile], path string) BaseImage {
	var b BaseImage
	if !item.V.Pattern.Set {
		m.c.Addf(item.Line, "%s: pattern is required", path)
	}
	m.str(item.V.Pattern, path+".pattern", &b.Pattern, imagePattern)
	m.str(item.V.Digest, path+".digest", &b.Digest, sha256Digest)
	return b
}

// check enforces what no single setting can: the invariants of an
// effective policy. For a baseline they also catch settings it forgot.
func (m *merger) check(p *Policy) {
	at := func(paths ...string) int {
		for _, k := range paths {
			if l, ok := m.lines[k]; ok {
				return l
			}
		}
		return 1
	}
	for _, r := range []struct {
		missing bool
		path    string
	}{
		{p.Defaults.Level == "", "defaults.level"},
		{p.Controls.Distroless.Mode == "", "controls.distroless.mode"},
		{p.Controls.Secrets.MaxFileSize == 0, "controls.secrets.maxFileSize"},
		{p.Controls.Vulnerabilities.FailOn == "", "controls.vulnerabilities.failOn"},
		{p.Controls.Vulnerabilities.MaxDBAge == 0, "controls.vulnerabilities.maxDBAge"},
		{p.Controls.Exceptions.MaxLifetime == 0, "controls.exceptions.maxLifetime"},
	} {
		if r.missing {
			m.c.Addf(at(r.path), "%s is required", r.path)
		}
	}
	if p.Controls.User.Inject && p.Controls.User.UID == 0 {
		m.c.Addf(at("controls.user.uid", "controls.user.inject"), "controls.user.uid: the injected user must not be root (0)")
	}
	// requireSignature without approverKeys is allowed: it accepts no
	// exception at all, which is what the built-in baselines do until a
	// policy names the keys that approve.
}

// normalize makes absent lists and maps empty, except the tool lists where
// nil means the built-in list, so that equal policies encode equally.
func normalize(p *Policy) {
	if p.Rules == nil {
		p.Rules = map[string]rules.Level{}
	}
	if p.Defaults.Select == nil {
		p.Defaults.Select = []Selector{}
	}
	for _, l := range []*[]string{
		&p.Controls.Tooling.Keep, &p.Controls.Secrets.AllowPaths, &p.Controls.Secrets.AllowRules,
		&p.Controls.Exceptions.ApproverKeys,
	} {
		if *l == nil {
			*l = []string{}
		}
	}
	if p.Controls.Distroless.AllowedBases == nil {
		p.Controls.Distroless.AllowedBases = []BaseImage{}
	}
}

// Setting appliers: each records the line of a setting the file made,
// checks the value and stores it.

func (m *merger) str(v sy.Value[string], path string, dst *string, check func(string) error) {
	if !v.Set {
		return
	}
	m.lines[path] = v.Line
	if err := check(v.V); err != nil {
		m.c.Addf(v.Line, "%s %q: %v", path, v.V, err)
		return
	}
	*dst = v.V
}

func (m *merger) boolean(v sy.Value[bool], path string, dst *bool) {
	if v.Set {
		m.lines[path] = v.Line
		*dst = v.V
	}
}

func integer[T int | int64](m *merger, v sy.Value[T], path string, dst *T, lo, hi T) {
	if !v.Set {
		return
	}
	m.lines[path] = v.Line
	if v.V < lo || v.V > hi {
		m.c.Addf(v.Line, "%s: %d is out of range [%d, %d]", path, v.V, lo, hi)
		return
	}
	*dst = v.V
}

func (m *merger) duration(v sy.Value[string], path string, dst *Duration) {
	if !v.Set {
		return
	}
	m.lines[path] = v.Line
	d, err := ParseDuration(v.V)
	switch {
	case err != nil:
		m.c.Addf(v.Line, "%s: %v", path, err)
	case d <= 0:
		m.c.Addf(v.Line, "%s: must be longer than 0", path)
	default:
		*dst = Duration(d)
	}
}

func (m *merger) list(v strList, path string, dst *[]string, check func(string) error) {
	if !v.Set {
		return
	}
	m.lines[path] = v.Line
	if v.V == nil {
		// An explicit null: back to the built-in default.
		*dst = nil
		return
	}
	out := make([]string, 0, len(v.V))
	for i, item := range v.V {
		if err := check(item.V); err != nil {
			m.c.Addf(item.Line, "%s[%d] %q: %v", path, i, item.V, err)
			continue
		}
		out = append(out, item.V)
	}
	*dst = out
}

// enum stores v in dst when it is one of allowed and reports whether it
// did.
func enum[T ~string](m *merger, v sy.Value[string], path string, dst *T, allowed []T) bool {
	if !v.Set {
		return false
	}
	m.lines[path] = v.Line
	if !slices.Contains(allowed, T(v.V)) {
		m.c.Addf(v.Line, "%s: %q is not one of %s", path, v.V, join(allowed))
		return false
	}
	*dst = T(v.V)
	return true
}

// enumList checks every item of a list against allowed.
func enumList[T ~string](m *merger, v strList, path string, allowed []T) []T {
	if !v.Set {
		return nil
	}
	var out []T
	for i, item := range v.V {
		if !slices.Contains(allowed, T(item.V)) {
			m.c.Addf(item.Line, "%s[%d]: %q is not one of %s", path, i, item.V, join(allowed))
			continue
		}
		out = append(out, T(item.V))
	}
	return out
}

func join[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Value checks used by the appliers.

func plainString(v string) error {
	if strings.TrimSpace(v) == "" || strings.ContainsAny(v, "\x00\n\r") {
		return errors.New("must be a non-empty single line")
	}
	return nil
}

// optionalPath accepts a path or "" (the default).
func optionalPath(v string) error {
	if strings.ContainsAny(v, "\x00\n\r") {
		return errors.New("must be a single line")
	}
	return nil
}

func toolName(v string) error {
	if v == "" || strings.ContainsAny(v, " \t\n\r\x00") {
		return errors.New("want a tool name or absolute path without spaces")
	}
	return nil
}

func keepPath(v string) error {
	switch {
	case !strings.HasPrefix(v, "/") || path.Clean(v) != v:
		return errors.New("want a clean absolute path")
	case v == "/":
		return errors.New(`keeping "/" would keep everything`)
	}
	return nil
}

func narrowGlob(v string) error {
	if err := rootfs.ValidatePattern(v); err != nil {
		return err
	}
	if rootfs.WildcardOnly(v) {
		return errNoLiteral
	}
	return nil
}

// imagePattern accepts "name[:tag][@digest]" where name is a path
// pattern that names something; the static rule that checks the final base
// (dockerfilecheck) matches the same three parts.
func imagePattern(v string) error {
	repo, dgst, hasDigest := strings.Cut(v, "@")
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		if tag := repo[i+1:]; !tagRe.MatchString(tag) {
			return fmt.Errorf("tag %q is not a valid tag", tag)
		}
		repo = repo[:i]
	}
	if hasDigest {
		if err := sha256Digest(dgst); err != nil {
			return err
		}
	}
	return narrowGlob(repo)
}

func sha256Digest(v string) error {
	d, err := digest.Parse(v)
	if err != nil || d.Algorithm() != digest.SHA256 {
		return errors.New("want a digest sha256:<64 hex digits>")
	}
	return nil
}

// approverKey accepts an inline PEM key, which must parse, or a path.
func approverKey(v string) error {
	if strings.Contains(v, pemMarker) {
		if _, err := exceptions.ParsePublicKey([]byte(v)); err != nil {
			return fmt.Errorf("inline key: %w", err)
		}
		return nil
	}
	return plainString(v)
}

// IsBaseline reports whether name ("strict", "builtin:cis-docker") names a
// built-in baseline rather than a policy file.
func IsBaseline(name string) bool {
	return slices.Contains(Baselines(), strings.TrimPrefix(name, BuiltinPrefix))
}
