// Package rules holds the types every check shares: a Rule (stable id,
// family, severity, CIS Docker Benchmark §4 mapping) and the Finding a rule
// reports. Each area that runs checks — the static Dockerfile rules, the LLB
// controls, the image inspections, the evidence steps — declares its own
// rules with these types; frontend/catalog gathers them into one list.
package rules

// Family groups rules by the property they protect. The values are part of
// the JSON report contract.
type Family string

// The rule families.
const (
	FamilyReproducibility         Family = "reproducibility"
	FamilyMinimalImage            Family = "minimal-image"
	FamilyTooling                 Family = "tooling"
	FamilyNonRoot                 Family = "non-root"
	FamilySecrets                 Family = "secrets"
	FamilyDeterministicDockerfile Family = "deterministic-dockerfile"
	FamilyHardening               Family = "hardening"
	FamilySupplyChain             Family = "supply-chain"
)

// Severity ranks how bad a violation is.
type Severity string

// The severities, lowest first.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Level is what a policy does with a rule's violations, and what a finding
// ended up as.
type Level string

// The levels. Waived is never configured: it is what an enforce or warn
// finding becomes when an approved exception covers it.
const (
	LevelEnforce Level = "enforce"
	LevelWarn    Level = "warn"
	LevelOff     Level = "off"
	LevelWaived  Level = "waived"
)

// Stage says where in the pipeline a rule is evaluated.
type Stage string

// The pipeline stages that evaluate rules.
const (
	StageStatic   Stage = "static"   // on the Dockerfile AST, before conversion
	StageLLB      Stage = "llb"      // while hardening the converted LLB
	StageImage    Stage = "image"    // on the final filesystem and config
	StageEvidence Stage = "evidence" // on SBOM, vulnerabilities, attestations
)

// Rule is one catalog entry.
type Rule struct {
	// ID is stable forever ("HK1001"); never reuse a retired id.
	ID string `json:"id"`
	// Name is a short CamelCase name, usable in `# check=skip=` style lists.
	Name string `json:"name"`
	// Title is one line for humans.
	Title string `json:"title"`
	// Family groups the rule.
	Family Family `json:"family"`
	// Severity of a violation.
	Severity Severity `json:"severity"`
	// Stage where the rule runs.
	Stage Stage `json:"stage"`
	// CIS lists CIS Docker Benchmark items ("4.1"), empty when none applies.
	CIS []string `json:"cis,omitempty"`
	// Rationale says why the rule exists.
	Rationale string `json:"rationale"`
	// Remediation says how to fix a violation.
	Remediation string `json:"remediation"`
	// HelpURI points at the rule's documentation.
	HelpURI string `json:"helpUri"`
}

// Finding is one rule violation at one place. It never carries secret
// bytes: secrets are identified by rule, location and Fingerprint only.
type Finding struct {
	// Rule is the catalog id.
	Rule string `json:"rule"`
	// Level is enforce, warn or waived.
	Level Level `json:"level"`
	// File is the Dockerfile name (static findings) or the path in the
	// image (image findings).
	File string `json:"file,omitempty"`
	// Line and EndLine are 1-based; 0 when the finding has no line.
	Line    int `json:"line,omitempty"`
	EndLine int `json:"endLine,omitempty"`
	// Message explains this violation.
	Message string `json:"message"`
	// Fingerprint identifies a secret finding without revealing it.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Stage is the Dockerfile stage name or index the finding is about.
	StageName string `json:"stage,omitempty"`
	// Waiver is the exception id that waived the finding.
	Waiver string `json:"waiver,omitempty"`
}
