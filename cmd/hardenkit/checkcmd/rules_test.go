package checkcmd

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

func TestRulesText(t *testing.T) {
	r := execute(t, NewRulesCommand(), "")
	wantCode(t, r, ExitClean)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(catalog.All())+1 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("stdout has %d lines, want a header and %d rules:\n%s", len(lines), len(catalog.All()), r.stdout)
	}
	if !strings.Contains(r.stdout, "HK1050") || !strings.Contains(r.stdout, "non-root") {
		t.Errorf("stdout = %s", r.stdout)
	}
}

func TestRulesJSONWithPolicy(t *testing.T) {
	r := execute(t, NewRulesCommand(), "", "--format", "json", "--policy", "strict")
	wantCode(t, r, ExitClean)
	var doc struct {
		Policy struct{ Name string } `json:"policy"`
		Rules  []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
			Level string `json:"level"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Policy.Name != "strict" || len(doc.Rules) != len(catalog.All()) {
		t.Fatalf("listing = %+v", doc)
	}
	for _, rule := range doc.Rules {
		// The strict baseline warns on CIS 4.6 (HEALTHCHECK) and on
		// low-severity minimal-image hygiene; everything else is enforced.
		want := "enforce"
		if strictWarns(rule.ID) {
			want = "warn"
		}
		if rule.Level != want || rule.Title == "" {
			t.Errorf("%s level = %q, want %q under strict", rule.ID, rule.Level, want)
		}
	}
}

func TestRulesUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--format", "yaml"}, {"extra"}, {"--policy", "builtin:nope"}, {"--nope"}} {
		r := execute(t, NewRulesCommand(), "", args...)
		if r.code == ExitClean {
			t.Errorf("rules %v succeeded, want an error", args)
		}
	}
	r := execute(t, NewRulesCommand(), "", "--format", "yaml")
	wantCode(t, r, ExitUsage)
}

// strictWarns reports whether the strict baseline's selectors set the rule
// to warn: CIS 4.6, or minimal-image hygiene of low severity.
func strictWarns(id string) bool {
	r, ok := catalog.Lookup(id)
	if !ok {
		return false
	}
	return slices.Contains(r.CIS, "4.6") || r.Family == rules.FamilyMinimalImage && r.Severity == rules.SeverityLow
}
