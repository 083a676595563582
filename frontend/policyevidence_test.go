package frontend

import (
	"slices"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// TestPolicyEvidence: the statement's policy section says what a policy
// disables and relaxes, whatever its name or baseline claim.
func TestPolicyEvidence(t *testing.T) {
	hdr := "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: strict\nbaseline: strict\n"
	all := len(catalog.All())
	// The baseline's selectors still warn about CIS 4.6 (HK1090) and
	// low-severity minimal-image hygiene when defaults are off.
	baselineWarns := 0
	for _, r := range catalog.All() {
		if slices.Contains(r.CIS, "4.6") || r.Family == rules.FamilyMinimalImage && r.Severity == rules.SeverityLow {
			baselineWarns++
		}
	}
	tests := []struct {
		name          string
		file          string // "" for the strict baseline
		disabled      int
		below         int
		wantDisabled  string
		wantBelowOnly string
	}{
		{name: "strict baseline", disabled: 0, below: 0},
		{name: "everything off under the name strict", file: hdr + "defaults:\n  level: off\n", disabled: all - baselineWarns, below: all - baselineWarns, wantDisabled: "HK1043"},
		{name: "one rule warns", file: hdr + "rules:\n  HK1001: warn\n", disabled: 0, below: 1, wantBelowOnly: "HK1001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := policy.Sources{Ranking: policy.Ranking{Catalog: catalog.All()}}
			if tt.file != "" {
				s.BesideDockerfile = func() ([]byte, bool, error) { return []byte(tt.file), true, nil }
			}
			pol, err := policy.Discover(t.Context(), s, catalog.Known)
			if err != nil {
				t.Fatal(err)
			}
			got, err := policyEvidence(pol)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.DisabledRules) != tt.disabled || len(got.BelowBaseline) != tt.below {
				t.Errorf("disabled %d below %d, want %d %d", len(got.DisabledRules), len(got.BelowBaseline), tt.disabled, tt.below)
			}
			if tt.wantDisabled != "" && !slices.Contains(got.DisabledRules, tt.wantDisabled) {
				t.Errorf("disabledRules lack %s", tt.wantDisabled)
			}
			if tt.wantBelowOnly != "" && !slices.Equal(got.BelowBaseline, []string{tt.wantBelowOnly}) {
				t.Errorf("belowBaseline = %v", got.BelowBaseline)
			}
			if len(got.Sources) != 1 || got.Sources[0].Digest == "" || got.Digest != pol.Digest() {
				t.Errorf("sources %+v digest %s", got.Sources, got.Digest)
			}
		})
	}
}

// TestAnnounceExceptions: an applied exception is announced with what it
// waives and who approved and signed it.
func TestAnnounceExceptions(t *testing.T) {
	var got []string
	announceExceptions(func(m string) { got = append(got, m) }, []compliance.Exception{{
		ID: "EX-1", Rule: "HK1043", Owner: "dev@example.com", ApprovedBy: "sec@example.com", SignerKeyID: "sha256:ab",
		Expires: time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), Scope: &exceptions.Scope{Path: "Dockerfile"},
	}})
	want := "exception EX-1 applied: waives HK1043 (path=Dockerfile), owner dev@example.com, approved by sec@example.com, signed by key sha256:ab, expires 2027-01-02"
	if len(got) != 1 || got[0] != want {
		t.Errorf("announced %q, want %q", got, want)
	}
}
