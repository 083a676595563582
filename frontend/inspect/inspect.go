package inspect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Input is what Run inspects.
type Input struct {
	// Tree is the final root filesystem.
	Tree *rootfs.Tree
	// Src reads Tree's file contents.
	Src rootfs.Source
	// Image is the final image config, history included.
	Image *dockerspec.DockerOCIImage
	// Policy decides each rule's level and the controls' parameters; nil
	// enforces every rule with the built-in defaults.
	Policy *policy.Policy
	// BuildArgs are the build arguments given to the frontend, by name.
	BuildArgs map[string]string
	// Scope selects the checks Run evaluates; the zero value is all.
	Scope Scope
}

// Scope selects a part of the checks, so that the part that reads every
// file can run where the files are (the in-build scanner) and the part
// that reads secret-bearing config values never leaves the frontend.
type Scope int

const (
	// ScopeAll evaluates every check.
	ScopeAll Scope = iota
	// ScopeFilesystem evaluates every check except the secret checks of
	// Env, labels, history and build arguments. Image must still be set
	// (User, ports and volumes are checked); Tree and Src are required.
	ScopeFilesystem
	// ScopeConfigSecrets evaluates only the secret checks of Env, labels,
	// history and build arguments: no filesystem is needed.
	ScopeConfigSecrets
)

// configSecretChecks are the checks ScopeConfigSecrets selects.
func configSecretChecks() []check {
	return []check{configSecretsCheck, historySecretsCheck, buildArgSecretsCheck}
}

// selects reports whether s selects c.
func (s Scope) selects(c check) bool {
	isConfig := slices.ContainsFunc(configSecretChecks(), func(k check) bool { return k.rules[0].ID == c.rules[0].ID })
	switch s {
	case ScopeFilesystem:
		return !isConfig
	case ScopeConfigSecrets:
		return isConfig
	default:
		return true
	}
}

// ScopeRules returns the rules s evaluates, sorted by id.
func ScopeRules(s Scope) []rules.Rule {
	var out []rules.Rule
	for _, c := range checks() {
		if s.selects(c) {
			out = append(out, c.rules...)
		}
	}
	slices.SortFunc(out, func(a, b rules.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Status is the outcome of one rule.
type Status string

// The statuses, in the order Result reports the worst of them.
const (
	// StatusPass: the rule ran and found nothing.
	StatusPass Status = "pass"
	// StatusWaived: every finding was waived by an exception.
	StatusWaived Status = "waived"
	// StatusWarn: findings at warn level, none at enforce.
	StatusWarn Status = "warn"
	// StatusFail: at least one enforce-level finding.
	StatusFail Status = "fail"
	// StatusError: the rule could not be evaluated; the build fails.
	StatusError Status = "error"
)

// Result is what Run found. Its JSON form is what the in-build scanner
// writes for the frontend to read back.
type Result struct {
	// Findings are sorted by rule, file, line. Findings of rules the
	// policy switches off are never produced.
	Findings []rules.Finding `json:"findings"`
	// Status has one entry per rule the policy does not switch off.
	Status map[string]Status `json:"status"`
	// Unscanned are the image files larger than the policy's
	// controls.secrets.maxFileSize, which the secret scan did not read.
	Unscanned []string `json:"unscanned,omitempty"`
	// SecretStats count what the file secret scan (HK3052) read and
	// which detectors it ran; nil when it did not run.
	SecretStats *secrets.TreeStats `json:"secretStats,omitempty"`
	// Public are the packages that vouch for the files of HK3052's
	// public content findings, by image path (public_content.go), for
	// the frontend's check of who wrote them (PublicOrigins).
	Public map[string]secrets.Public `json:"public,omitempty"`
	// Errors says, per rule with StatusError, why it could not run.
	Errors map[string]string `json:"errors,omitempty"`
}

// WithFindings returns a copy of r with findings replaced — typically by
// exceptions.Set.Apply's output, where waived findings have Level
// waived — and the statuses recomputed. Rules in error stay in error.
func (r Result) WithFindings(findings []rules.Finding) Result {
	out := r
	out.Findings = slices.Clone(findings)
	out.Status = maps.Clone(r.Status)
	out.restatus()
	return out
}

// restatus derives each evaluated rule's status from its findings.
func (r *Result) restatus() {
	worst := map[string]Status{}
	for _, f := range r.Findings {
		s := StatusPass
		switch f.Level {
		case rules.LevelEnforce:
			s = StatusFail
		case rules.LevelWarn:
			s = StatusWarn
		case rules.LevelWaived:
			s = StatusWaived
		}
		if rank(s) > rank(worst[f.Rule]) {
			worst[f.Rule] = s
		}
	}
	for id, s := range r.Status {
		if s == StatusError {
			continue
		}
		r.Status[id] = cmp.Or(worst[id], StatusPass)
	}
}

func rank(s Status) int {
	return slices.Index([]Status{"", StatusPass, StatusWaived, StatusWarn, StatusFail, StatusError}, s)
}

// Rules returns the inspection rules, sorted by id: those Run evaluates,
// and HK3054, which ContextSecrets evaluates.
func Rules() []rules.Rule {
	out := []rules.Rule{ruleSecretInContext}
	for _, c := range checks() {
		out = append(out, c.rules...)
	}
	slices.SortFunc(out, func(a, b rules.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// check is one inspection: the rules it owns and the function that
// evaluates them. run returns findings with Rule, File, Line, Message and
// Fingerprint set; Run assigns levels and drops switched-off rules.
type check struct {
	rules []rules.Rule
	run   func(ctx context.Context, e *env) ([]rules.Finding, error)
}

// checks lists every check, in the order Run evaluates them: cheap
// config checks first, the full-content secret scan last.
func checks() []check {
	return []check{
		configUserCheck, configPortsCheck, configVolumesCheck,
		setuidCheck, capabilitiesCheck, worldWritableCheck,
		shadowCheck, idsCheck, loginShellCheck, leaksCheck,
		toolingCheck,
		configSecretsCheck, historySecretsCheck, buildArgSecretsCheck, fileSecretsCheck,
	}
}

// Run inspects in. It returns every finding and status it could produce;
// when a check could not run, its rules have StatusError and the error
// is returned too, so that a caller that only checks the error still
// fails closed.
func Run(ctx context.Context, in Input) (Result, error) {
	res := Result{Status: map[string]Status{}}
	if in.Image == nil || (in.Scope != ScopeConfigSecrets && (in.Tree == nil || in.Src == nil)) {
		return res, errors.New("inspect: the root filesystem, its source and the image config are all required")
	}
	e := &env{in: in, files: map[string][]byte{}}
	var errs []error
	for _, c := range checks() {
		if !in.Scope.selects(c) {
			continue
		}
		var active []rules.Rule
		for _, r := range c.rules {
			if in.Policy.Level(r) != rules.LevelOff {
				active = append(active, r)
			}
		}
		if len(active) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("inspect: %w", err)
		}
		fs, err := c.run(ctx, e)
		if err != nil {
			if res.Errors == nil {
				res.Errors = map[string]string{}
			}
			for _, r := range active {
				res.Status[r.ID] = StatusError
				res.Errors[r.ID] = err.Error()
			}
			errs = append(errs, fmt.Errorf("%s: %w", ruleIDs(active), err))
			continue
		}
		for _, r := range active {
			res.Status[r.ID] = StatusPass
		}
		for _, f := range fs {
			i := slices.IndexFunc(c.rules, func(r rules.Rule) bool { return r.ID == f.Rule })
			if i < 0 {
				return res, fmt.Errorf("inspect: a check reported rule %s, which it does not own", f.Rule)
			}
			if l := in.Policy.Level(c.rules[i]); l != rules.LevelOff {
				// A check may report below the policy's level (public
				// content is a warning at most), never above it.
				if f.Level != rules.LevelWarn || l != rules.LevelEnforce {
					f.Level = l
				}
				res.Findings = append(res.Findings, f)
			}
		}
	}
	slices.SortStableFunc(res.Findings, func(a, b rules.Finding) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	res.Unscanned = e.unscanned
	res.SecretStats = e.secretStats
	res.Public = e.public
	res.restatus()
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("inspect: checks could not run: %w", err)
	}
	return res, nil
}

// ScanDir inspects the root filesystem in the local directory root with
// image config img under policy p, with every check.
func ScanDir(ctx context.Context, root string, img *dockerspec.DockerOCIImage, p *policy.Policy) (Result, error) {
	return ScanDirScope(ctx, root, img, p, ScopeAll)
}

// ScanDirScope is ScanDir with the checks of scope s only: the in-build
// scanner's entry point, run against the candidate root filesystem
// mounted read-only.
func ScanDirScope(ctx context.Context, root string, img *dockerspec.DockerOCIImage, p *policy.Policy, s Scope) (Result, error) {
	src := rootfs.DirSource(root)
	tree, err := rootfs.Load(ctx, src)
	if err != nil {
		return Result{}, fmt.Errorf("inspect: loading %s: %w", root, err)
	}
	return Run(ctx, Input{Tree: tree, Src: src, Image: img, Policy: p, Scope: s})
}

// Merge combines the results of disjoint scopes of one inspection.
func Merge(rs ...Result) Result {
	out := Result{Status: map[string]Status{}}
	for _, r := range rs {
		out.Findings = append(out.Findings, r.Findings...)
		maps.Copy(out.Status, r.Status)
		out.Unscanned = append(out.Unscanned, r.Unscanned...)
		if r.SecretStats != nil {
			out.SecretStats = r.SecretStats
		}
		if r.Public != nil {
			out.Public = r.Public
		}
		for id, msg := range r.Errors {
			if out.Errors == nil {
				out.Errors = map[string]string{}
			}
			out.Errors[id] = msg
		}
	}
	slices.SortStableFunc(out.Findings, func(a, b rules.Finding) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	slices.Sort(out.Unscanned)
	return out
}

func ruleIDs(rs []rules.Rule) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return strings.Join(ids, ",")
}

// env is one Run's shared state: files several checks read, and the
// secret scanner. It lives for one Run only.
type env struct {
	in          Input
	files       map[string][]byte
	scanner     *secrets.Scanner
	unscanned   []string
	secretStats *secrets.TreeStats
	public      map[string]secrets.Public
}

// maxConfigFile bounds the system files checks read whole (/etc/passwd,
// /etc/shadow, …): a planted multi-gigabyte "passwd" must not exhaust
// the frontend's memory.
const maxConfigFile = 16 << 20

// readFile returns the content of the file at p, following symlinks
// within the tree, and whether it exists. A path that exists but is not
// a regular file, is too large or cannot be read is an error.
func (e *env) readFile(ctx context.Context, p string) ([]byte, bool, error) {
	if dt, ok := e.files[p]; ok {
		return dt, dt != nil, nil
	}
	phys, ok := e.in.Tree.Resolve(p)
	if !ok {
		e.files[p] = nil
		return nil, false, nil
	}
	ent, _ := e.in.Tree.Lookup(phys)
	if !ent.IsRegular() {
		return nil, false, fmt.Errorf("%s is not a regular file", p)
	}
	if ent.Size > maxConfigFile {
		return nil, false, fmt.Errorf("%s is larger than %d bytes", p, maxConfigFile)
	}
	dt, err := e.in.Src.ReadFile(ctx, phys, 0, 0)
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", p, err)
	}
	if dt == nil {
		dt = []byte{}
	}
	e.files[p] = dt
	return dt, true, nil
}

// secretScanner returns the run's scanner, configured from the policy's
// controls.secrets.
func (e *env) secretScanner() (*secrets.Scanner, error) {
	if e.scanner != nil {
		return e.scanner, nil
	}
	var c policy.SecretsControl
	if e.in.Policy != nil {
		c = e.in.Policy.Controls.Secrets
	}
	s, err := secrets.New(secrets.Options{AllowPaths: c.AllowPaths, AllowRules: c.AllowRules, MaxFileSize: c.MaxFileSize})
	if err != nil {
		return nil, err
	}
	e.scanner = s
	return s, nil
}

// on reports whether the policy evaluates r.
func (e *env) on(r rules.Rule) bool {
	return e.in.Policy.Level(r) != rules.LevelOff
}

// finding builds a finding of r about the image file p.
func finding(r rules.Rule, p string, line int, format string, args ...any) rules.Finding {
	return rules.Finding{Rule: r.ID, File: p, Line: line, Message: fmt.Sprintf(format, args...)}
}

// imageRule fills in the fields every inspection rule shares.
func imageRule(r rules.Rule) rules.Rule {
	r.Stage = rules.StageImage
	r.HelpURI = rules.HelpURI(r.ID)
	return r
}
