// Package vuln is hardenkit's offline vulnerability gate: it matches an SBOM
// against a grype v6 vulnerability database directory the user provides,
// with grype as a library, and decides per match whether the build fails.
//
// Nothing here updates a database or reaches the network: the database is
// opened read-only from the directory (grype's distribution client and
// curator, which download, re-hydrate and write, are not used), and the
// matchers run with every external lookup (Maven Central) off. A database
// is usable when its vulnerability.db is a v6 database whose checksum
// matches its import.json (as `grype db import` or `grype db update` leave
// it) and, when the policy sets a maximum age, it was built recently
// enough. Without a usable database the gate either fails closed
// (RequireDB) or records the scan as not-evaluated with a warning.
//
// The policy decides: matches at or above FailOn fail the build unless an
// approved exception waives them (the Waive callback); OpenVEX statements
// marking a product not_affected or fixed take matches out of the gate
// altogether; the rest is reported below the threshold. grype's own
// severity threshold and ignore rules are not used, so that every decision
// is recorded with its reason.
//
// grype links github.com/glebarez/go-sqlite, which registers the "sqlite"
// database/sql driver; the sbom package links the same one.
package vuln

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anchore/grype/grype"
	"github.com/anchore/grype/grype/distro"
	"github.com/anchore/grype/grype/match"
	"github.com/anchore/grype/grype/matcher"
	"github.com/anchore/grype/grype/matcher/dpkg"
	"github.com/anchore/grype/grype/matcher/rpm"
	"github.com/anchore/grype/grype/matcher/stock"
	grypepkg "github.com/anchore/grype/grype/pkg"
	"github.com/anchore/grype/grype/version"
	"github.com/anchore/grype/grype/vulnerability"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// ErrDBUnavailable is wrapped by Evaluate's error when the policy requires
// a database and none is usable.
var ErrDBUnavailable = errors.New("no usable vulnerability database")

// Options configure Evaluate. FailOn, RequireDB, MaxDBAge and DBDir come
// from the policy's vulnerabilities control (policy.VulnControl).
type Options struct {
	// DBDir is the database directory: the directory holding
	// vulnerability.db and import.json, or grype's cache root holding
	// them under "6/". Empty means no database.
	DBDir string
	// Now is the time the database's age is measured at; required when
	// MaxDBAge is set. It is a parameter so that the gate never reads the
	// clock itself.
	Now time.Time
	// FailOn is the lowest severity that fails the build.
	FailOn rules.Severity
	// RequireDB makes a missing or unusable database an error.
	RequireDB bool
	// MaxDBAge is the oldest database accepted (Now minus its build
	// time); 0 accepts any age.
	MaxDBAge time.Duration
	// VEX are OpenVEX documents (JSON). Statements with status
	// not_affected or fixed take the matches they cover out of the gate.
	VEX [][]byte
	// Waive reports whether an approved exception covers the
	// vulnerability cve in the package purl, and its id. It is asked for
	// every failing match, with the match's id and then each alias. Nil
	// waives nothing.
	Waive func(purl, cve string) (exceptionID string, ok bool)
}

// Result is the gate's outcome.
type Result struct {
	// Status says whether the SBOM was matched.
	Status compliance.VulnStatus
	// Warning says why it was not (no database, unusable database); empty
	// when evaluated. It is the reason alone: the frontend's message and the
	// compliance statement's status already say "not evaluated", so saying
	// it here too would print it twice.
	Warning string
	// DB describes the database used; nil when not evaluated.
	DB *DBInfo
	// FailOn is the threshold applied.
	FailOn rules.Severity
	// Matches are every match with its decision, sorted by id and
	// package.
	Matches []Match
	// Counts tallies, by severity (compliance.Severities()), the matches
	// that apply to the image: all but not_affected and fixed.
	Counts map[string]int
	// Failed is true when at least one match has result fail.
	Failed bool
}

// DBInfo identifies the database matched against.
type DBInfo struct {
	// Built is the database's build time (UTC).
	Built time.Time
	// Schema is its schema version ("v6.1.10").
	Schema string
	// Checksum is the database file's digest from import.json
	// ("xxh64:…"), verified before use.
	Checksum string
}

// Match is one vulnerability in one package, with the gate's decision.
type Match struct {
	// CVE is the vulnerability id (normalised to its CVE when grype knows
	// one).
	CVE string
	// Aliases are other ids of the same vulnerability.
	Aliases []string
	// Package is the affected package's URL.
	Package string
	// Name and Version of the affected package.
	Name, Version string
	// Severity is one of compliance.Severities().
	Severity string
	// Result is the decision.
	Result compliance.MatchResult
	// FixedIn lists the versions that fix it, when known.
	FixedIn []string
	// Exception is the waiving exception's id when Result is waived.
	Exception string
	// Reason explains not_affected and fixed results.
	Reason string
}

// Summary returns the result as the compliance predicate records it.
func (r Result) Summary() compliance.Vulnerabilities {
	v := compliance.Vulnerabilities{
		Status: r.Status, Reason: r.Warning, FailOn: r.FailOn, Counts: map[string]int{},
		Matches: make([]compliance.VulnMatch, 0, len(r.Matches)),
	}
	for k, n := range r.Counts {
		v.Counts[k] = n
	}
	if r.DB != nil {
		v.DB = &compliance.VulnDB{Built: r.DB.Built, Schema: r.DB.Schema, Checksum: r.DB.Checksum}
	}
	for _, m := range r.Matches {
		v.Matches = append(v.Matches, compliance.VulnMatch{
			CVE: m.CVE, Package: m.Package, Severity: m.Severity, Result: m.Result,
			FixedIn: slices.Clone(m.FixedIn), Exception: m.Exception, Reason: m.Reason,
		})
	}
	return v
}

// ExceptionIDs returns the ids of the exceptions that waived matches,
// sorted and without duplicates.
func (r Result) ExceptionIDs() []string {
	var ids []string
	for _, m := range r.Matches {
		if m.Exception != "" {
			ids = append(ids, m.Exception)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Evaluate matches the packages of sbom — an SBOM document, normally the
// SPDX JSON that sbom.Generate produced (any format syft decodes works) —
// against the database in opt.DBDir and applies the policy. It returns an
// error for invalid input (options, SBOM, VEX), for a failure while
// matching, and — wrapping ErrDBUnavailable — for a missing or unusable
// database when opt.RequireDB is set. Matches failing the gate are not an
// error: see Result.Failed.
func Evaluate(ctx context.Context, sbom []byte, opt Options) (Result, error) {
	res := Result{Status: compliance.VulnNotEvaluated, FailOn: opt.FailOn, Counts: zeroCounts()}
	threshold, err := parseThreshold(opt.FailOn)
	if err != nil {
		return res, err
	}
	if opt.MaxDBAge > 0 && opt.Now.IsZero() {
		return res, errors.New("vulnerability gate: a maximum database age needs Options.Now")
	}
	if err := validateVEX(opt.VEX); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("vulnerability gate: %w", err)
	}
	pkgs, pkgCtx, _, err := grypepkg.ProvideFromReader(bytes.NewReader(sbom), grypepkg.ProviderConfig{
		SynthesisConfig: grypepkg.SynthesisConfig{
			Distro: grypepkg.DistroConfig{FixChannels: distro.DefaultFixChannels()},
		},
	})
	if err != nil {
		return res, fmt.Errorf("vulnerability gate: reading SBOM: %w", err)
	}

	db, err := openDB(opt.DBDir, opt.Now, opt.MaxDBAge)
	if err != nil {
		if opt.RequireDB {
			return res, fmt.Errorf("vulnerability gate: %w: %w", ErrDBUnavailable, err)
		}
		res.Warning = err.Error()
		return res, nil
	}
	defer db.provider.Close()

	vexFiles, cleanup, err := writeVEX(opt.VEX)
	if err != nil {
		return res, err
	}
	defer cleanup()
	m := grype.VulnerabilityMatcher{
		VulnerabilityProvider: db.provider,
		Matchers:              matcher.NewDefaultMatchers(matcherConfig()),
		NormalizeByCVE:        true,
	}
	if len(vexFiles) > 0 {
		m.VexProcessor, err = vexProcessor(vexFiles)
		if err != nil {
			return res, err
		}
	}
	remaining, ignored, err := m.FindMatchesContext(ctx, pkgs, pkgCtx)
	if err != nil {
		return res, fmt.Errorf("vulnerability gate: matching: %w", err)
	}

	var out []Match
	for _, gm := range remaining.Sorted() {
		out = append(out, decide(db.provider, gm, threshold, opt.Waive))
	}
	for _, im := range ignored {
		rule, isVEX := vexRule(im.AppliedIgnoreRules)
		if !isVEX {
			// Only VEX ignores anything here (no ignore rules are
			// configured); anything else is gated like any match rather
			// than dropped.
			out = append(out, decide(db.provider, im.Match, threshold, opt.Waive))
			continue
		}
		vm := newMatch(db.provider, im.Match)
		vm.Result = compliance.MatchNotAffected
		if rule.VexStatus == "fixed" {
			vm.Result = compliance.MatchFixed
		}
		vm.Reason = "openvex " + rule.VexStatus
		if rule.VexJustification != "" {
			vm.Reason += ": " + rule.VexJustification
		}
		out = append(out, vm)
	}

	res.Status = compliance.VulnEvaluated
	res.DB = &db.info
	res.Matches = dedupe(out)
	for _, vm := range res.Matches {
		if vm.Result == compliance.MatchFail {
			res.Failed = true
		}
		if vm.Result != compliance.MatchNotAffected && vm.Result != compliance.MatchFixed {
			res.Counts[vm.Severity]++
		}
	}
	return res, nil
}

// matcherConfig is grype's CLI default matcher configuration: CPE matching
// only in the stock matcher, no external (Maven Central) searches.
func matcherConfig() matcher.Config {
	return matcher.Config{
		Stock: stock.MatcherConfig{UseCPEs: true},
		Dpkg:  dpkg.MatcherConfig{MissingEpochStrategy: version.MissingEpochStrategyZero},
		Rpm:   rpm.MatcherConfig{MissingEpochStrategy: version.MissingEpochStrategyZero},
	}
}

func parseThreshold(s rules.Severity) (vulnerability.Severity, error) {
	switch s {
	case rules.SeverityLow, rules.SeverityMedium, rules.SeverityHigh, rules.SeverityCritical:
		return vulnerability.ParseSeverity(string(s)), nil
	}
	return vulnerability.UnknownSeverity, fmt.Errorf("vulnerability gate: failOn %q is not low, medium, high or critical", s)
}

// decide applies the threshold and the exceptions to a match grype kept.
// Unknown severity never reaches a threshold, as in grype's --fail-on.
func decide(p vulnerability.Provider, gm match.Match, threshold vulnerability.Severity, waive func(string, string) (string, bool)) Match {
	m := newMatch(p, gm)
	if vulnerability.ParseSeverity(m.Severity) < threshold {
		m.Result = compliance.MatchBelowThreshold
		return m
	}
	m.Result = compliance.MatchFail
	if waive == nil {
		return m
	}
	for _, id := range append([]string{m.CVE}, m.Aliases...) {
		if ex, ok := waive(m.Package, id); ok {
			m.Result, m.Exception = compliance.MatchWaived, ex
			break
		}
	}
	return m
}

func newMatch(p vulnerability.Provider, gm match.Match) Match {
	m := Match{
		CVE:      gm.Vulnerability.ID,
		Package:  gm.Package.PURL,
		Name:     gm.Package.Name,
		Version:  gm.Package.Version,
		Severity: severityOf(p, gm),
		FixedIn:  slices.Clone(gm.Vulnerability.Fix.Versions),
	}
	for _, r := range gm.Vulnerability.RelatedVulnerabilities {
		if r.ID != "" && !strings.EqualFold(r.ID, m.CVE) && !slices.Contains(m.Aliases, r.ID) {
			m.Aliases = append(m.Aliases, r.ID)
		}
	}
	slices.Sort(m.Aliases)
	slices.Sort(m.FixedIn)
	return m
}

// severityOf reads a match's severity the way grype's --fail-on does (the
// metadata of the match's own record), falling back to the metadata
// attached to the match.
func severityOf(p vulnerability.Provider, gm match.Match) string {
	meta, err := p.VulnerabilityMetadata(gm.Vulnerability.Reference) //nolint:staticcheck // grype's threshold check reads severity this way
	if err != nil || meta == nil {
		meta = gm.Vulnerability.Metadata
	}
	if meta == nil {
		return vulnerability.UnknownSeverity.String()
	}
	return vulnerability.ParseSeverity(meta.Severity).String()
}

// vexRule returns the VEX rule among the rules that made grype ignore a
// match.
func vexRule(rs []match.IgnoreRule) (match.IgnoreRule, bool) {
	for _, r := range rs {
		if r.Namespace == "vex" && (r.VexStatus == "not_affected" || r.VexStatus == "fixed") {
			return r, true
		}
	}
	return match.IgnoreRule{}, false
}

// dedupe merges matches of the same vulnerability in the same package
// (grype can find one through several namespaces): the more severe
// decision and severity win, fix versions are merged.
func dedupe(ms []Match) []Match {
	slices.SortStableFunc(ms, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.CVE, b.CVE), cmp.Compare(a.Package, b.Package))
	})
	var out []Match
	for _, m := range ms {
		if n := len(out); n > 0 && out[n-1].CVE == m.CVE && out[n-1].Package == m.Package {
			prev := &out[n-1]
			if resultRank(m.Result) > resultRank(prev.Result) {
				prev.Result, prev.Exception, prev.Reason = m.Result, m.Exception, m.Reason
			}
			if vulnerability.ParseSeverity(m.Severity) > vulnerability.ParseSeverity(prev.Severity) {
				prev.Severity = m.Severity
			}
			prev.FixedIn = mergeSorted(prev.FixedIn, m.FixedIn)
			prev.Aliases = mergeSorted(prev.Aliases, m.Aliases)
			continue
		}
		out = append(out, m)
	}
	return out
}

// resultRank orders decisions from the most to the least lenient, so that
// a duplicate never hides a failure.
func resultRank(r compliance.MatchResult) int {
	return slices.Index([]compliance.MatchResult{
		compliance.MatchFixed, compliance.MatchNotAffected, compliance.MatchBelowThreshold,
		compliance.MatchWaived, compliance.MatchFail,
	}, r)
}

func mergeSorted(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

func zeroCounts() map[string]int {
	c := make(map[string]int, len(compliance.Severities()))
	for _, s := range compliance.Severities() {
		c[s] = 0
	}
	return c
}
