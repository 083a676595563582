package catalog

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

// WriteMarkdown renders the rule reference (docs/rules.md): a summary
// table, the CIS Docker Benchmark §4 coverage, and one section per rule
// whose anchor is the lower-case id, which rules' HelpURI points at.
func WriteMarkdown(w io.Writer, rs []rules.Rule) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("# hardenkit rules\n\n")
	p("<!-- Generated from the rule catalog (frontend/catalog) by `go generate ./frontend/catalog`. Do not edit. -->\n\n")
	p("Every check hardenkit runs has a stable id, listed here. Whether a rule fails the build (`enforce`), only warns (`warn`) or is `off` is up to the policy (see [policy.md](policy.md)); `hardenkit rules` prints the same catalog.\n\n")
	p("| ID | Name | Title | Family | Severity | Stage | CIS |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		p("| [%s](#%s) | %s | %s | %s | %s | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Name, cell(r.Title), r.Family, r.Severity, r.Stage, cisList(r.CIS))
	}

	p("\n## CIS Docker Benchmark §4 coverage\n\n")
	p("| Item | Recommendation | Scoring | Rules |\n|---|---|---|---|\n")
	for _, item := range CISItems() {
		var ids []string
		for _, r := range rs {
			if slices.Contains(r.CIS, item.ID) {
				ids = append(ids, fmt.Sprintf("[%s](#%s)", r.ID, strings.ToLower(r.ID)))
			}
		}
		scoring := "Manual"
		if item.Automated {
			scoring = "Automated"
		}
		covered := strings.Join(ids, ", ")
		if covered == "" {
			covered = "not covered by a rule in this catalog"
		}
		p("| %s | %s | %s | %s |\n", item.ID, cell(item.Title), scoring, covered)
	}

	p("\n## Rules\n")
	for _, r := range rs {
		p("\n<a id=\"%s\"></a>\n\n### %s %s\n\n", strings.ToLower(r.ID), r.ID, r.Name)
		p("**%s**\n\n", r.Title)
		p("- Family: `%s`\n- Severity: `%s`\n- Stage: `%s`\n- CIS Docker Benchmark: %s\n\n", r.Family, r.Severity, r.Stage, cisList(r.CIS))
		p("**Why.** %s\n\n", r.Rationale)
		p("**Fix.** %s\n", r.Remediation)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing rules markdown: %w", err)
	}
	return nil
}

// cisList renders CIS items for a table cell.
func cisList(items []string) string {
	if len(items) == 0 {
		return "—"
	}
	return strings.Join(items, ", ")
}

// cell escapes text for a markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
