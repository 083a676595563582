package catalog

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

func TestCatalogIsWellFormed(t *testing.T) {
	all := All()
	if len(all) == 0 {
		t.Fatal("All() is empty")
	}
	idRe := regexp.MustCompile(`^HK\d{4}$`)
	nameRe := regexp.MustCompile(`^[A-Z][A-Za-z0-9]+$`)
	cis := map[string]bool{}
	for _, item := range CISItems() {
		cis[item.ID] = true
	}
	families := []rules.Family{rules.FamilyReproducibility, rules.FamilyMinimalImage, rules.FamilyTooling, rules.FamilyNonRoot,
		rules.FamilySecrets, rules.FamilyDeterministicDockerfile, rules.FamilyHardening, rules.FamilySupplyChain}
	severities := []rules.Severity{rules.SeverityLow, rules.SeverityMedium, rules.SeverityHigh, rules.SeverityCritical}
	stages := []rules.Stage{rules.StageStatic, rules.StageLLB, rules.StageImage, rules.StageEvidence}
	ids, names := map[string]bool{}, map[string]bool{}
	for i, r := range all {
		if !idRe.MatchString(r.ID) {
			t.Errorf("%q: id is not HK followed by four digits", r.ID)
		}
		if ids[r.ID] {
			t.Errorf("%s: duplicate id", r.ID)
		}
		ids[r.ID] = true
		if names[r.Name] || !nameRe.MatchString(r.Name) {
			t.Errorf("%s: name %q is duplicate or not CamelCase", r.ID, r.Name)
		}
		names[r.Name] = true
		if i > 0 && all[i-1].ID > r.ID {
			t.Errorf("All() not sorted at %s", r.ID)
		}
		if r.Title == "" || r.Rationale == "" || r.Remediation == "" {
			t.Errorf("%s: title, rationale and remediation are required", r.ID)
		}
		if !slices.Contains(families, r.Family) || !slices.Contains(severities, r.Severity) || !slices.Contains(stages, r.Stage) {
			t.Errorf("%s: family %q, severity %q or stage %q is not one of the defined values", r.ID, r.Family, r.Severity, r.Stage)
		}
		for _, c := range r.CIS {
			if !cis[c] {
				t.Errorf("%s: CIS %q is not an item of 4.1-4.12", r.ID, c)
			}
		}
		if !strings.HasSuffix(r.HelpURI, "docs/rules.md#"+strings.ToLower(r.ID)) {
			t.Errorf("%s: HelpURI %q does not point at its docs/rules.md anchor", r.ID, r.HelpURI)
		}
	}
}

func TestLookupAndKnown(t *testing.T) {
	r, ok := Lookup("HK1001")
	if !ok || r.ID != "HK1001" {
		t.Fatalf("Lookup(HK1001) = %+v, %v", r, ok)
	}
	if _, ok := Lookup("HK9999"); ok {
		t.Error("Lookup(HK9999) found a rule")
	}
	if !Known("HK1050") || Known("") || Known("hk1050") {
		t.Error("Known() disagrees with the catalog")
	}
	all := All()
	all[0].Title = "mutated"
	if r, _ := Lookup(all[0].ID); r.Title == "mutated" {
		t.Error("All() returns shared rules")
	}
}

func TestCISItems(t *testing.T) {
	items := CISItems()
	if len(items) != 12 || items[0].ID != "4.1" || items[11].ID != "4.12" {
		t.Fatalf("CISItems() = %+v, want 4.1 … 4.12", items)
	}
}

// TestRulesDocUpToDate keeps docs/rules.md generated from the catalog.
func TestRulesDocUpToDate(t *testing.T) {
	var want bytes.Buffer
	if err := WriteMarkdown(&want, All()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatalf("reading docs/rules.md: %v (run: go generate ./frontend/catalog)", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("docs/rules.md is stale; regenerate it with: go generate ./frontend/catalog")
	}
	for _, r := range All() {
		if !strings.Contains(want.String(), `<a id="`+strings.ToLower(r.ID)+`"></a>`) {
			t.Errorf("docs/rules.md has no anchor for %s", r.ID)
		}
	}
}
