package vuln

// The vulnerability gate's rules.
//
//	HK4001 VulnerablePackage  CIS 4.4 — a shipped package has a known
//	                          vulnerability at or above controls.vulnerabilities.failOn.
//
// Without a usable database (hardenkit-vulndb named context) the scan is
// recorded as not-evaluated with a warning, or fails the build when the
// policy sets controls.vulnerabilities.requireDB.
// CVE exceptions name HK4001 with a package or cve scope.

import "github.com/hardenkit/hardenkit/pkg/rules"

var (
	// RuleVulnerablePackage is the rule failing matches are reported under.
	RuleVulnerablePackage = rules.Rule{
		ID: "HK4001", Name: "VulnerablePackage", Title: "Shipped package has a known vulnerability above the policy's threshold",
		Family: rules.FamilySupplyChain, Severity: rules.SeverityHigh, Stage: rules.StageEvidence, CIS: []string{"4.4"},
		Rationale:   "An image is released only when what it ships has no known vulnerability at or above the threshold, or each one is explicitly waived or shown not to apply (VEX).",
		Remediation: "Rebuild on a patched base or upgrade the package; or record an approved, expiring exception (rule HK4001, scope cve/package), or a VEX not_affected statement.",
		HelpURI:     rules.HelpURI("HK4001"),
	}
)

// Rules returns the gate's rules.
func Rules() []rules.Rule { return []rules.Rule{RuleVulnerablePackage} }
