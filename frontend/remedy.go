package frontend

import (
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// remedies is the "to fix" block of a build error: each failing rule's
// remediation from the catalog, once per rule, in the order the rules
// first fail, with where the rule is documented. A failure must say what
// to do, not only what is wrong.
func remedies(ids []string) string {
	var seen []string
	var b strings.Builder
	for _, id := range ids {
		if slices.Contains(seen, id) {
			continue
		}
		seen = append(seen, id)
		r, ok := catalog.Lookup(id)
		if !ok || r.Remediation == "" {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\nto fix:")
		}
		b.WriteString("\n  " + r.ID + " " + r.Name + ": " + r.Remediation)
		if r.HelpURI != "" {
			b.WriteString(" (" + r.HelpURI + ")")
		}
	}
	return b.String()
}

// findingRules are the rule ids of fs, in order.
func findingRules(fs []rules.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Rule
	}
	return out
}
