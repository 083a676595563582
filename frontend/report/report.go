// Package report renders hardenkit findings for people and machines: Text
// (one line per finding), JSON (hardenkit's stable, documented contract,
// docs/report.md) and SARIF 2.1.0 (for GitHub code scanning and other
// SARIF consumers). Family, CIS items and severity are joined from the rule
// catalog, so findings stay small.
package report

import (
	"fmt"
	"io"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// PolicyRef identifies the effective policy a report was produced under.
type PolicyRef struct {
	// Name is the policy's name.
	Name string `json:"name"`
	// Digest is the policy's canonical digest (policy.Policy.Digest).
	Digest string `json:"digest"`
}

// Report is what the encoders render.
type Report struct {
	// Policy is the effective policy.
	Policy PolicyRef
	// Findings are rendered in the order given.
	Findings []rules.Finding
	// ToolVersion is hardenkit's version, reported as the SARIF driver
	// version; optional.
	ToolVersion string
	// Errors are what stopped the check (a Dockerfile that does not parse,
	// an invalid policy): a report with errors is still a valid document,
	// so that a CI step uploading it shows the failure instead of an empty
	// file. Findings are then usually empty.
	Errors []Error
}

// Error is a failure of the check itself, not a finding.
type Error struct {
	// Message says what failed; it never contains a secret.
	Message string `json:"message"`
	// File is the file the error is about, when known.
	File string `json:"file,omitempty"`
	// Line is the 1-based line of the error in File; 0 when unknown.
	Line int `json:"line,omitempty"`
}

// Counts tallies findings by level.
type Counts struct {
	// Enforce counts findings that fail the build.
	Enforce int
	// Warn counts findings reported as warnings.
	Warn int
	// Waived counts findings an exception or inline suppression waived.
	Waived int
}

// Count tallies the report's findings by level.
func (r Report) Count() Counts {
	var c Counts
	for _, f := range r.Findings {
		switch f.Level {
		case rules.LevelEnforce:
			c.Enforce++
		case rules.LevelWarn:
			c.Warn++
		case rules.LevelWaived:
			c.Waived++
		}
	}
	return c
}

// Text writes one line per finding:
//
//	Dockerfile:12 HK1003 [enforce] message
//
// A finding without a line shows the file alone, one without a file the
// rule alone. A finding waived by an exception names the exception.
func Text(w io.Writer, r Report) error {
	for _, f := range r.Findings {
		loc := ""
		if f.File != "" {
			loc = f.Where() + " "
		}
		msg := f.Message
		if f.Level == rules.LevelWaived && f.Waiver != "" && !isInlineWaiver(f.Waiver) {
			msg += fmt.Sprintf(" (waived by exception %s)", f.Waiver)
		}
		if _, err := fmt.Fprintf(w, "%s%s [%s] %s\n", loc, f.Rule, f.Level, msg); err != nil {
			return fmt.Errorf("writing text report: %w", err)
		}
	}
	return nil
}

// isInlineWaiver reports whether a waiver is a Dockerfile comment
// (dockerfilecheck writes "inline:<line>") rather than an exception id.
func isInlineWaiver(w string) bool {
	return len(w) > 7 && w[:7] == "inline:"
}

// lookup returns the catalog entry of a finding's rule; a rule the catalog
// does not know yields only its id.
func lookup(id string) rules.Rule {
	if r, ok := catalog.Lookup(id); ok {
		return r
	}
	return rules.Rule{ID: id}
}
