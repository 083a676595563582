// Package compliance is hardenkit's compliance attestation: the predicate of
// an in-toto statement (type PredicateType, documented in
// docs/compliance-predicate.md with the JSON schema docs/compliance.schema.json)
// that records every control decision of one build for one platform — the
// effective policy, the mode, SOURCE_DATE_EPOCH, the base images, every rule
// with its result and redacted findings, the exceptions applied, the
// vulnerability gate's outcome and the digest of the SBOM shipped beside it.
//
// The predicate is a value built by the frontend; Marshal validates it and
// writes deterministic JSON (keys and lists sorted, nothing taken from the
// clock), so that two builds with the same inputs attach identical
// attestations. BuildKit wraps the bytes in the statement and fills in the
// subject.
package compliance

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	intoto "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/policy/canonjson"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// PredicateType is the in-toto predicate type of the compliance attestation.
const PredicateType = "https://hardenkit.dev/attestations/compliance/v1"

// Result is the outcome of one rule.
type Result string

// The rule results.
const (
	// ResultPass: the rule ran and found nothing.
	ResultPass Result = "pass"
	// ResultFail: at least one enforced finding.
	ResultFail Result = "fail"
	// ResultWaived: every enforced or warned finding was waived by an
	// approved exception (or inline suppression).
	ResultWaived Result = "waived"
	// ResultWarn: findings reported as warnings, none enforced.
	ResultWarn Result = "warn"
	// ResultNotEvaluated: the rule is off, or its stage did not run.
	ResultNotEvaluated Result = "not-evaluated"
)

// VulnStatus says whether the vulnerability gate ran.
type VulnStatus string

// The vulnerability statuses.
const (
	// VulnEvaluated: the SBOM was matched against a usable database.
	VulnEvaluated VulnStatus = "evaluated"
	// VulnNotEvaluated: no usable database (missing, unreadable, too
	// old), and the policy does not require one.
	VulnNotEvaluated VulnStatus = "not-evaluated"
)

// MatchResult is what the gate decided about one vulnerability match.
type MatchResult string

// The match results.
const (
	// MatchFail: at or above the policy's failOn severity, not waived.
	MatchFail MatchResult = "fail"
	// MatchWaived: at or above failOn, covered by an approved exception.
	MatchWaived MatchResult = "waived"
	// MatchNotAffected: a VEX statement says the product is not affected.
	MatchNotAffected MatchResult = "not_affected"
	// MatchFixed: a VEX statement says the product contains the fix.
	MatchFixed MatchResult = "fixed"
	// MatchBelowThreshold: below failOn; reported, not failing.
	MatchBelowThreshold MatchResult = "below-threshold"
)

// Severities returns the vulnerability severities counted, lowest first.
// They are grype's; the policy's failOn uses the top four.
func Severities() []string {
	return []string{"unknown", "negligible", "low", "medium", "high", "critical"}
}

// Predicate is the compliance predicate.
type Predicate struct {
	// Hardenkit identifies the frontend that built the image.
	Hardenkit Tool `json:"hardenkit"`
	// Policy is the effective policy.
	Policy Policy `json:"policy"`
	// Mode is the HARDENKIT_MODE of the build: enforce or off.
	Mode options.Mode `json:"mode"`
	// SourceDateEpoch is the build's SOURCE_DATE_EPOCH, in Unix seconds.
	SourceDateEpoch int64 `json:"sourceDateEpoch"`
	// BaseImages are the images the shipped stage was built on.
	BaseImages []BaseImage `json:"baseImages"`
	// Rules lists every rule of the catalog with its result.
	Rules []Rule `json:"rules"`
	// Exceptions are the exceptions that waived at least one finding or
	// vulnerability match.
	Exceptions []Exception `json:"exceptions"`
	// Vulnerabilities is the vulnerability gate's outcome.
	Vulnerabilities Vulnerabilities `json:"vulnerabilities"`
	// SBOM identifies the SPDX SBOM attested beside this predicate.
	SBOM SBOM `json:"sbom"`
	// Inspection says how the final image was inspected (the image-stage
	// rules' results are in Rules); nil when no inspection ran.
	Inspection *Inspection `json:"inspection,omitempty"`
	// Distroless is what the distroless control removed and which
	// executables ship, each with why; nil when it did not rebase.
	Distroless *Distroless `json:"distroless,omitempty"`
	// Smoke is the in-build smoke test's outcome; nil when the build ran
	// none (HARDENKIT_MODE=off).
	Smoke *Smoke `json:"smoke,omitempty"`
	// Timings are how long hardenkit's steps took in this build, wall
	// clock, cache hits included. The one field that differs between two
	// builds of the same source: compare statements without it.
	Timings []Timing `json:"timings,omitempty"`
	// Reproducibility says what was checked about reproducibility:
	// timestamps and ordering normalised (HK2001), and that the content
	// was not verified by a rebuild. Marshal derives it from Rules.
	Reproducibility *Reproducibility `json:"reproducibility,omitempty"`
	// Rebuild is what a verifier needs to rebuild the image from its
	// own evidence (`hardenkit rebuild`); nil from older builds.
	Rebuild *Rebuild `json:"rebuild,omitempty"`
}

// Timing is how long one step of hardenkit's pipeline took.
type Timing struct {
	// Step names the step: policy, static-checks, convert, decide,
	// verify, inspect, sbom, vulnerability-gate.
	Step string `json:"step"`
	// Milliseconds is its wall-clock time.
	Milliseconds int64 `json:"milliseconds"`
}

// Inspection is how the final image and the build context were inspected.
type Inspection struct {
	// Scanner is "in-build" (the frontend image's scanner ran as a build
	// step over the mounted filesystem) or "gateway" (the frontend read
	// the files over the gateway API).
	Scanner string `json:"scanner"`
	// Unscanned are the files larger than controls.secrets.maxFileSize
	// that the secret scan did not read: image paths, and build context
	// paths prefixed "context:". Never skipped silently.
	Unscanned []string `json:"unscanned"`
	// Secrets say, per place, how much the secret scan read and what it
	// trusted, so that a reviewer can audit it.
	Secrets []SecretScan `json:"secrets,omitempty"`
}

// SecretScan is what the secret scan read at one place.
type SecretScan struct {
	// Place is "image-files", "context-files", "env", "labels",
	// "history" or "build-args".
	Place string `json:"place"`
	// Scanned is how many files or values were scanned.
	Scanned int `json:"scanned"`
	// Bytes is the size of the files scanned.
	Bytes int64 `json:"bytes,omitempty"`
	// Names are the entries whose names and symlink targets were scanned.
	Names int `json:"names,omitempty"`
	// Binary are files scanned as binaries: their printable strings,
	// with the high-confidence detectors only (fixed prefixes,
	// checksummed formats, private keys).
	Binary int `json:"binary,omitempty"`
	// PackageVerified are files whose bytes match the digest their
	// package database recorded (dpkg md5sums, Python RECORD): public
	// distribution content, scanned with the high-confidence detectors
	// only.
	PackageVerified int `json:"packageVerified,omitempty"`
	// Chunked are files larger than controls.secrets.maxFileSize, read
	// and scanned in overlapping pieces.
	Chunked int `json:"chunked,omitempty"`
	// AllowListed are entries controls.secrets.allowPaths excludes.
	AllowListed int `json:"allowListed,omitempty"`
	// Decoded counts, per decoder ("base64", "gzip", "zip", …), the
	// encoded segments, streams and archives the scan opened.
	Decoded map[string]int `json:"decoded,omitempty"`
}

// Tool identifies hardenkit.
type Tool struct {
	// Version is hardenkit's version (frontend.Version).
	Version string `json:"version"`
	// FrontendDigest is the digest of the frontend image, when the build
	// ran it from one ("sha256:…"); empty for an in-process frontend.
	FrontendDigest string `json:"frontendDigest,omitempty"`
	// FrontendImage is the frontend image the build ran, by digest
	// ("docker.io/hardenkit/frontend@sha256:…"), when it ran from one.
	FrontendImage string `json:"frontendImage,omitempty"`
	// InProcess is true when the frontend ran inside the client
	// (`hardenkit build`): there is no frontend image to pin, and a
	// rebuild runs the same hardenkit version in process.
	InProcess bool `json:"inProcess,omitempty"`
}

// Policy identifies the effective policy.
type Policy struct {
	// Name is the policy's name.
	Name string `json:"name"`
	// Digest is policy.Policy.Digest ("sha256:…").
	Digest string `json:"digest"`
	// Baseline is the built-in baseline the policy extends. It is not a
	// claim of conformance: BelowBaseline lists the rules the policy
	// enforces less than the baseline does.
	Baseline string `json:"baseline"`
	// Sources are the policy sources the build consulted, highest rank
	// first, each with the digest of its bytes.
	Sources []PolicySource `json:"sources"`
	// DisabledRules are the rules the effective policy switches off: a
	// release gate can refuse a build that disabled any.
	DisabledRules []string `json:"disabledRules"`
	// BelowBaseline are the rules whose effective level is lower than
	// the baseline's level for them.
	BelowBaseline []string `json:"belowBaseline"`
}

// PolicySource is one policy source a build consulted: rank
// (organisation, ci, dockerfile, build-arg or default), name (the file, or
// builtin:<baseline>) and the sha256 of its bytes.
type PolicySource = policy.SourceRef

// BaseImage is one base image.
type BaseImage struct {
	// Name is the image reference as resolved ("docker.io/library/debian:bookworm").
	Name string `json:"name"`
	// Digest is the manifest digest it resolved to; empty for scratch.
	Digest string `json:"digest,omitempty"`
}

// Rule is one rule and its result.
type Rule struct {
	// ID is the catalog id.
	ID string `json:"id"`
	// Family is the catalog family.
	Family rules.Family `json:"family,omitempty"`
	// CIS lists the CIS Docker Benchmark items the rule maps to.
	CIS []string `json:"cis"`
	// Level is the level the effective policy enforces the rule at:
	// enforce, warn or off.
	Level rules.Level `json:"level,omitempty"`
	// Result is the rule's outcome.
	Result Result `json:"result"`
	// Findings are the rule's findings, redacted.
	Findings []Finding `json:"findings"`
}

// Finding is a redacted rules.Finding: only its location, level, message,
// secret fingerprint and waiver — never a secret value.
type Finding struct {
	// Level is enforce, warn or waived.
	Level rules.Level `json:"level"`
	// File is the Dockerfile, or the path in the image.
	File string `json:"file,omitempty"`
	// Line is the 1-based first line; omitted when unknown.
	Line int `json:"line,omitempty"`
	// EndLine is the 1-based last line; omitted when unknown.
	EndLine int `json:"endLine,omitempty"`
	// Message explains the finding.
	Message string `json:"message"`
	// Fingerprint identifies a secret without revealing it.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Stage is the Dockerfile stage.
	Stage string `json:"stage,omitempty"`
	// Waiver is the id of the exception that waived the finding.
	Waiver string `json:"waiver,omitempty"`
}

// Exception is an applied exception.
type Exception struct {
	// ID of the exception record.
	ID string `json:"id"`
	// Rule it waives.
	Rule string `json:"rule"`
	// ApprovedBy is the approver.
	ApprovedBy string `json:"approvedBy"`
	// Expires is when the exception stops applying (UTC).
	Expires time.Time `json:"expires"`
	// Owner is who asked for the exception.
	Owner string `json:"owner,omitempty"`
	// SignerKeyID identifies the approver key whose signature verified
	// ("sha256:<hex>" of its PKIX DER); empty for an unsigned record.
	SignerKeyID string `json:"signerKeyId,omitempty"`
	// JustificationDigest is "sha256:<hex>" of the justification text.
	JustificationDigest string `json:"justificationDigest,omitempty"`
	// Scope is what the exception waives.
	Scope *exceptions.Scope `json:"scope,omitempty"`
}

// Vulnerabilities is the vulnerability gate's outcome.
type Vulnerabilities struct {
	// Status says whether the gate ran.
	Status VulnStatus `json:"status"`
	// Reason says why it did not run (the warning shown to the user).
	Reason string `json:"reason,omitempty"`
	// DB describes the database used; nil when none was.
	DB *VulnDB `json:"db,omitempty"`
	// FailOn is the policy's lowest failing severity.
	FailOn rules.Severity `json:"failOn"`
	// Counts tallies, by severity, the matches that apply to the image:
	// every match but those VEX marks not_affected or fixed. Marshal writes
	// every key of Severities().
	Counts map[string]int `json:"counts"`
	// Matches are all matches with the gate's decision.
	Matches []VulnMatch `json:"matches"`
}

// VulnDB identifies a vulnerability database.
type VulnDB struct {
	// Built is when the database was built (UTC).
	Built time.Time `json:"built"`
	// Schema is the database schema version ("v6.1.10").
	Schema string `json:"schema"`
	// Checksum is the database file's digest from its import metadata
	// ("xxh64:…"), when it has one.
	Checksum string `json:"checksum,omitempty"`
}

// VulnMatch is one vulnerability in one package.
type VulnMatch struct {
	// CVE is the vulnerability id (a CVE when grype can normalise to one,
	// else GHSA-…, DSA-…).
	CVE string `json:"cve"`
	// Package is the package URL of the affected package.
	Package string `json:"package"`
	// Severity is one of Severities().
	Severity string `json:"severity"`
	// Result is the gate's decision.
	Result MatchResult `json:"result"`
	// FixedIn lists versions that fix it, when known.
	FixedIn []string `json:"fixedIn,omitempty"`
	// Exception is the id of the exception that waived it.
	Exception string `json:"exception,omitempty"`
	// Reason explains a not_affected or fixed result (VEX status and
	// justification).
	Reason string `json:"reason,omitempty"`
}

// SBOM identifies the SBOM attestation.
type SBOM struct {
	// PredicateType of the SBOM statement.
	PredicateType string `json:"predicateType"`
	// Digest is "sha256:<hex>" of the SBOM predicate bytes.
	Digest string `json:"digest"`
}

// SBOMOf returns the reference to an SPDX document.
func SBOMOf(spdx []byte) SBOM {
	sum := sha256.Sum256(spdx)
	return SBOM{PredicateType: intoto.PredicateSPDX, Digest: "sha256:" + hex.EncodeToString(sum[:])}
}

// Redact converts findings to their attested form.
func Redact(fs []rules.Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		out = append(out, Finding{
			Level: f.Level, File: f.File, Line: f.Line, EndLine: f.EndLine, Message: f.Message,
			Fingerprint: f.Fingerprint, Stage: f.StageName, Waiver: f.Waiver,
		})
	}
	return out
}

// EvaluateRules returns the result of every rule of catalog. level gives a
// rule's effective level (policy.Policy.Level); ran reports whether the
// stage a rule belongs to ran in this build. A rule that is off or whose
// stage did not run is not-evaluated; otherwise its findings decide: any
// enforced one fails it, else any warning warns, else any waived one
// waives it, else it passes. Findings of rules missing from catalog are
// kept, under a rule entry of their own.
func EvaluateRules(catalog []rules.Rule, level func(rules.Rule) rules.Level, ran func(rules.Stage) bool, findings []rules.Finding) []Rule {
	byRule := map[string][]rules.Finding{}
	for _, f := range findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	out := make([]Rule, 0, len(catalog))
	for _, r := range catalog {
		fs := byRule[r.ID]
		delete(byRule, r.ID)
		res := resultOf(fs)
		if len(fs) == 0 && (level(r) == rules.LevelOff || !ran(r.Stage)) {
			res = ResultNotEvaluated
		}
		out = append(out, Rule{ID: r.ID, Family: r.Family, CIS: slices.Clone(r.CIS), Level: level(r), Result: res, Findings: Redact(fs)})
	}
	for id, fs := range byRule {
		out = append(out, Rule{ID: id, Result: resultOf(fs), Findings: Redact(fs)})
	}
	return out
}

func resultOf(fs []rules.Finding) Result {
	res := ResultPass
	for _, f := range fs {
		switch {
		case f.Level == rules.LevelEnforce:
			return ResultFail
		case f.Level == rules.LevelWarn:
			res = ResultWarn
		case f.Level == rules.LevelWaived && res == ResultPass:
			res = ResultWaived
		}
	}
	return res
}

// AppliedExceptions returns the records of all whose id is in used (the
// Waiver of waived findings, the exception of waived matches).
func AppliedExceptions(all []exceptions.Exception, used []string) []Exception {
	var out []Exception
	for _, e := range all {
		if slices.Contains(used, e.ID) {
			scope := e.Scope
			jd := sha256.Sum256([]byte(e.Justification))
			out = append(out, Exception{ID: e.ID, Rule: e.Rule, ApprovedBy: e.ApprovedBy, Expires: e.Expires,
				Owner: e.Owner, SignerKeyID: e.SignerKeyID, JustificationDigest: "sha256:" + hex.EncodeToString(jd[:]), Scope: &scope})
		}
	}
	return out
}

var (
	digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	ruleIDRe = regexp.MustCompile(`^HK[0-9]+$`)
)

// Validate reports the ways p breaks the documented contract: missing
// required values, values outside their enums, malformed digests.
func (p Predicate) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.Hardenkit.Version == "" {
		bad("hardenkit.version is empty")
	}
	if d := p.Hardenkit.FrontendDigest; d != "" && !digestRe.MatchString(d) {
		bad("hardenkit.frontendDigest %q is not sha256:<hex>", d)
	}
	if p.Policy.Name == "" || p.Policy.Baseline == "" {
		bad("policy name and baseline are required")
	}
	if !digestRe.MatchString(p.Policy.Digest) {
		bad("policy.digest %q is not sha256:<hex>", p.Policy.Digest)
	}
	for _, s := range p.Policy.Sources {
		if s.Rank == "" || s.Name == "" || !digestRe.MatchString(s.Digest) {
			bad("policy source %q: rank, name and sha256 digest are required", s.Name)
		}
	}
	if p.Mode != options.ModeEnforce && p.Mode != options.ModeOff {
		bad("mode %q is not enforce or off", p.Mode)
	}
	if p.SourceDateEpoch < 0 {
		bad("sourceDateEpoch %d is negative", p.SourceDateEpoch)
	}
	for _, b := range p.BaseImages {
		if b.Name == "" {
			bad("base image without a name")
		}
		if b.Digest != "" && !digestRe.MatchString(b.Digest) {
			bad("base image %s: digest %q is not sha256:<hex>", b.Name, b.Digest)
		}
	}
	for _, r := range p.Rules {
		if !ruleIDRe.MatchString(r.ID) {
			bad("rule id %q", r.ID)
		}
		if r.Level != "" && r.Level != rules.LevelEnforce && r.Level != rules.LevelWarn && r.Level != rules.LevelOff {
			bad("rule %s: level %q", r.ID, r.Level)
		}
		if !slices.Contains([]Result{ResultPass, ResultFail, ResultWaived, ResultWarn, ResultNotEvaluated}, r.Result) {
			bad("rule %s: result %q", r.ID, r.Result)
		}
		for _, f := range r.Findings {
			if f.Level != rules.LevelEnforce && f.Level != rules.LevelWarn && f.Level != rules.LevelWaived {
				bad("rule %s: finding level %q", r.ID, f.Level)
			}
		}
	}
	for _, e := range p.Exceptions {
		if e.ID == "" || e.Rule == "" || e.ApprovedBy == "" || e.Expires.IsZero() {
			bad("exception %q: id, rule, approvedBy and expires are required", e.ID)
		}
	}
	v := p.Vulnerabilities
	if v.Status != VulnEvaluated && v.Status != VulnNotEvaluated {
		bad("vulnerabilities.status %q", v.Status)
	}
	if v.Status == VulnEvaluated && v.DB == nil {
		bad("vulnerabilities evaluated without a db")
	}
	if !slices.Contains([]rules.Severity{rules.SeverityLow, rules.SeverityMedium, rules.SeverityHigh, rules.SeverityCritical}, v.FailOn) {
		bad("vulnerabilities.failOn %q", v.FailOn)
	}
	for k := range v.Counts {
		if !slices.Contains(Severities(), k) {
			bad("vulnerabilities.counts: unknown severity %q", k)
		}
	}
	for _, m := range v.Matches {
		if m.CVE == "" || !slices.Contains(Severities(), m.Severity) {
			bad("vulnerability match %q: id and severity required", m.CVE)
		}
		if !slices.Contains([]MatchResult{MatchFail, MatchWaived, MatchNotAffected, MatchFixed, MatchBelowThreshold}, m.Result) {
			bad("vulnerability match %s: result %q", m.CVE, m.Result)
		}
		if m.Result == MatchWaived && m.Exception == "" {
			bad("vulnerability match %s: waived without an exception", m.CVE)
		}
	}
	errs = append(errs, p.Rebuild.validate()...)
	if p.SBOM.PredicateType == "" || !digestRe.MatchString(p.SBOM.Digest) {
		bad("sbom: predicateType and sha256 digest are required")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid compliance predicate: %w", err)
	}
	return nil
}

// Marshal validates p and returns its canonical JSON: object keys sorted,
// lists in a fixed order, empty lists as [], times in UTC. p is not
// modified.
func (p Predicate) Marshal() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.normalized()
	b, err := canonjson.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding compliance predicate: %w", err)
	}
	return b, nil
}

// normalized returns a deep copy of p with every list sorted and non-nil,
// every count present and every time in UTC.
func (p Predicate) normalized() Predicate {
	// Sources keep their rank order; the rule lists are sets.
	p.Policy.Sources = sorted(p.Policy.Sources, func(PolicySource, PolicySource) int { return 0 })
	p.Policy.DisabledRules = sorted(p.Policy.DisabledRules, cmp.Compare[string])
	p.Policy.BelowBaseline = sorted(p.Policy.BelowBaseline, cmp.Compare[string])
	p.BaseImages = sorted(p.BaseImages, func(a, b BaseImage) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Digest, b.Digest))
	})
	rs := make([]Rule, 0, len(p.Rules))
	for _, r := range p.Rules {
		r.CIS = sorted(r.CIS, cmp.Compare[string])
		r.Findings = sorted(r.Findings, compareFindings)
		rs = append(rs, r)
	}
	p.Rules = sorted(rs, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) })
	es := make([]Exception, 0, len(p.Exceptions))
	for _, e := range p.Exceptions {
		e.Expires = e.Expires.UTC()
		es = append(es, e)
	}
	p.Exceptions = sorted(es, func(a, b Exception) int { return cmp.Compare(a.ID, b.ID) })

	v := p.Vulnerabilities
	if v.DB != nil {
		db := *v.DB
		db.Built = db.Built.UTC()
		v.DB = &db
	}
	counts := map[string]int{}
	for _, s := range Severities() {
		counts[s] = v.Counts[s]
	}
	v.Counts = counts
	ms := make([]VulnMatch, 0, len(v.Matches))
	for _, m := range v.Matches {
		m.FixedIn = slices.Clone(m.FixedIn)
		ms = append(ms, m)
	}
	v.Matches = sorted(ms, func(a, b VulnMatch) int {
		return cmp.Or(cmp.Compare(a.CVE, b.CVE), cmp.Compare(a.Package, b.Package), cmp.Compare(a.Result, b.Result))
	})
	p.Vulnerabilities = v
	p.Distroless = p.Distroless.normalized()
	p.Reproducibility = reproducibilityOf(p.Rules)
	p.Rebuild = p.Rebuild.normalized()
	return p
}

func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.EndLine, b.EndLine),
		cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Level, b.Level), cmp.Compare(a.Message, b.Message),
		cmp.Compare(a.Fingerprint, b.Fingerprint), cmp.Compare(a.Waiver, b.Waiver))
}

// sorted returns a sorted copy of s, never nil.
func sorted[T any](s []T, compare func(a, b T) int) []T {
	out := make([]T, len(s))
	copy(out, s)
	slices.SortStableFunc(out, compare)
	return out
}
