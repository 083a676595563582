package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

// JSONReport is the JSON contract (docs/report.md). Fields are only ever
// added, never renamed or removed.
type JSONReport struct {
	// Policy is the effective policy.
	Policy PolicyRef `json:"policy"`
	// Findings, in report order; [] when there are none.
	Findings []JSONFinding `json:"findings"`
	// Errors are what stopped the check; absent when it ran.
	Errors []Error `json:"errors,omitempty"`
}

// JSONFinding is one finding of the JSON contract.
type JSONFinding struct {
	// Rule is the catalog id.
	Rule string `json:"rule"`
	// Family, CIS and Severity come from the catalog.
	Family   rules.Family   `json:"family"`
	CIS      []string       `json:"cis"`
	Severity rules.Severity `json:"severity"`
	// Level is enforce, warn or waived.
	Level rules.Level `json:"level"`
	// File is the Dockerfile (or the path in the image).
	File string `json:"file"`
	// Line and EndLine are 1-based; 0 when the finding has no line.
	Line    int `json:"line"`
	EndLine int `json:"endLine"`
	// Message explains the violation; it never contains a secret.
	Message string `json:"message"`
	// Stage is the Dockerfile stage, when known.
	Stage string `json:"stage,omitempty"`
	// Fingerprint identifies a secret without revealing it.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Waiver is the exception id (or "inline:<line>") that waived it.
	Waiver string `json:"waiver,omitempty"`
}

// ToJSON converts a report to the JSON contract's structure.
func ToJSON(r Report) JSONReport {
	out := JSONReport{Policy: r.Policy, Findings: make([]JSONFinding, 0, len(r.Findings)), Errors: slices.Clone(r.Errors)}
	for _, f := range r.Findings {
		rule := lookup(f.Rule)
		cis := slices.Clone(rule.CIS)
		if cis == nil {
			cis = []string{}
		}
		out.Findings = append(out.Findings, JSONFinding{
			Rule:        f.Rule,
			Family:      rule.Family,
			CIS:         cis,
			Severity:    rule.Severity,
			Level:       f.Level,
			File:        f.File,
			Line:        f.Line,
			EndLine:     f.EndLine,
			Message:     f.Message,
			Stage:       f.StageName,
			Fingerprint: f.Fingerprint,
			Waiver:      f.Waiver,
		})
	}
	return out
}

// JSON writes the report as hardenkit's JSON contract, indented, with a
// trailing newline.
func JSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ToJSON(r)); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}
