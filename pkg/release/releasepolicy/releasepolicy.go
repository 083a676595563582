// Package releasepolicy is the release policy `hardenkit verify` and
// `hardenkit promote` check a signed image against: which build policies
// (by digest) a release accepts, which rule results short of pass/waived
// it tolerates, and what the provenance must say. It is YAML (or JSON),
// parsed strictly like the build policy (frontend/policy/strictyaml), with
// the JSON schema docs/release-policy.schema.json.
package releasepolicy

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/hardenkit/hardenkit/frontend/policy"
	sy "github.com/hardenkit/hardenkit/frontend/policy/strictyaml"
)

// APIVersion and Kind identify a release policy document.
const (
	APIVersion = "hardenkit.dev/v1alpha1"
	Kind       = "ReleasePolicy"
)

// Any in an allow list stands for every rule.
const Any = "*"

// Policy is a parsed release policy.
type Policy struct {
	// APIVersion must be APIVersion.
	APIVersion string `yaml:"apiVersion"`
	// Kind must be Kind.
	Kind string `yaml:"kind"`
	// PolicyDigests are the build-policy digests ("sha256:<hex>") the
	// compliance statement may name; empty accepts any.
	PolicyDigests []string `yaml:"policyDigests"`
	// Allow lists the results short of pass/waived that are tolerated.
	Allow Allow `yaml:"allow"`
	// Provenance constrains the SLSA provenance.
	Provenance Provenance `yaml:"provenance"`
	// VerificationSummary, when set, requires a passing SLSA verification
	// summary from an earlier gate (promotion chains: staging before prod).
	VerificationSummary *VerificationSummary `yaml:"verificationSummary"`
}

// VerificationSummary says which earlier verification summary (VSA v1,
// signed by the trusted key, about the image digest) an image must carry.
type VerificationSummary struct {
	// VerifierID is the summary's verifier.id; empty accepts any.
	VerifierID string `yaml:"verifierId"`
	// PolicyDigests are the release-policy digests the earlier gate may
	// have applied ("sha256:<hex>"); empty accepts any.
	PolicyDigests []string `yaml:"policyDigests"`
}

// Allow lists tolerated results.
type Allow struct {
	// Warn: rule ids (or "*") whose result may be warn.
	Warn []string `yaml:"warn"`
	// NotEvaluated: rule ids (or "*") whose result may be not-evaluated.
	NotEvaluated []string `yaml:"notEvaluated"`
	// VulnerabilitiesNotEvaluated tolerates a build that matched no
	// vulnerability database.
	VulnerabilitiesNotEvaluated bool `yaml:"vulnerabilitiesNotEvaluated"`
}

// Provenance constrains the SLSA provenance; empty fields are unchecked.
type Provenance struct {
	// BuilderID must equal the provenance's builder id.
	BuilderID string `yaml:"builderId"`
	// SourceRepository must equal the build's config source URI.
	SourceRepository string `yaml:"sourceRepository"`
	// SourceRevision must equal the config source's commit (sha1).
	SourceRevision string `yaml:"sourceRevision"`
	// FrontendDigest must equal the frontend image digest the compliance
	// statement records (builds through # syntax=).
	FrontendDigest string `yaml:"frontendDigest"`
	// MaxAge bounds the time since the build finished ("720h", "30d").
	MaxAge string `yaml:"maxAge"`
}

var (
	digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	ruleRe   = regexp.MustCompile(`^(HK[0-9]{4}|\*)$`)
)

// Default is the policy without --policy: any build policy, nothing
// short of pass or waived, no provenance constraint.
func Default() *Policy {
	return &Policy{APIVersion: APIVersion, Kind: Kind}
}

// Load reads and parses a release policy file.
func Load(file string) (*Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("release policy: %w", err)
	}
	return Parse(file, data)
}

// Parse parses a release policy; every problem is reported with its line.
func Parse(file string, data []byte) (*Policy, error) {
	var p Policy
	if err := sy.Decode(file, data, &p); err != nil {
		return nil, err
	}
	c := sy.NewCollector(file)
	if p.APIVersion != APIVersion {
		c.Addf(0, "apiVersion %q, want %q", p.APIVersion, APIVersion)
	}
	if p.Kind != Kind {
		c.Addf(0, "kind %q, want %q", p.Kind, Kind)
	}
	for _, d := range p.PolicyDigests {
		if !digestRe.MatchString(d) {
			c.Addf(0, "policyDigests: %q is not sha256:<64 hex>", d)
		}
	}
	for _, l := range [][]string{p.Allow.Warn, p.Allow.NotEvaluated} {
		for _, r := range l {
			if !ruleRe.MatchString(r) {
				c.Addf(0, "allow: %q is not a rule id (HKnnnn) or \"*\"", r)
			}
		}
	}
	if d := p.Provenance.FrontendDigest; d != "" && !digestRe.MatchString(d) {
		c.Addf(0, "provenance.frontendDigest: %q is not sha256:<64 hex>", d)
	}
	if p.Provenance.MaxAge != "" {
		if d, err := policy.ParseDuration(p.Provenance.MaxAge); err != nil || d <= 0 {
			c.Addf(0, "provenance.maxAge: %q is not a positive duration (e.g. 720h, 30d)", p.Provenance.MaxAge)
		}
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return &p, nil
}

// MaxAge is the provenance age bound, 0 when unset.
func (p *Policy) MaxAge() time.Duration {
	d, _ := policy.ParseDuration(p.Provenance.MaxAge)
	return d
}

// AcceptsPolicy reports whether a build-policy digest is accepted.
func (p *Policy) AcceptsPolicy(digest string) bool {
	return len(p.PolicyDigests) == 0 || slices.Contains(p.PolicyDigests, digest)
}

// AllowsWarn reports whether rule may be warn.
func (p *Policy) AllowsWarn(rule string) bool {
	return slices.Contains(p.Allow.Warn, rule) || slices.Contains(p.Allow.Warn, Any)
}

// AllowsNotEvaluated reports whether rule may be not-evaluated.
func (p *Policy) AllowsNotEvaluated(rule string) bool {
	return slices.Contains(p.Allow.NotEvaluated, rule) || slices.Contains(p.Allow.NotEvaluated, Any)
}
