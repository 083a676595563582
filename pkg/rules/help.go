package rules

import "strings"

// HelpURI is a rule's documentation anchor in docs/rules.md, which is
// generated from the catalog.
func HelpURI(id string) string {
	return "https://github.com/hardenkit/hardenkit/blob/main/docs/rules.md#" + strings.ToLower(id)
}
