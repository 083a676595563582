package evidencereport

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/options"
)

// notCovered is the CIS status of an item no hardenkit rule maps to.
const notCovered = "not covered"

// Results lists the rule results in the order the page shows them.
func Results() []compliance.Result {
	return []compliance.Result{compliance.ResultPass, compliance.ResultFail, compliance.ResultWaived, compliance.ResultWarn, compliance.ResultNotEvaluated}
}

// severity ranks results for the CIS table: the worst result of an item's
// rules is its status.
func severity(r compliance.Result) int {
	return map[compliance.Result]int{
		compliance.ResultNotEvaluated: 0, compliance.ResultPass: 1, compliance.ResultWaived: 2,
		compliance.ResultWarn: 3, compliance.ResultFail: 4,
	}[r]
}

// families counts rule results per family, families in the order they
// first appear in the catalog (rules the catalog does not know under
// their own family, or "other").
func families(rs []compliance.Rule) []FamilyResult {
	var order []string
	for _, r := range catalog.All() {
		if !slices.Contains(order, string(r.Family)) {
			order = append(order, string(r.Family))
		}
	}
	counts := map[string]map[compliance.Result]int{}
	for _, r := range rs {
		f := string(r.Family)
		if f == "" {
			f = "other"
		}
		if counts[f] == nil {
			counts[f] = map[compliance.Result]int{}
			if !slices.Contains(order, f) {
				order = append(order, f)
			}
		}
		counts[f][r.Result]++
	}
	var out []FamilyResult
	for _, f := range order {
		if c, ok := counts[f]; ok {
			out = append(out, FamilyResult{Family: f, Counts: c})
		}
	}
	return out
}

// cisTable is the CIS §4 table: each item with the rules the statement
// maps to it, and the worst of their results.
func cisTable(rs []compliance.Rule) []CISRow {
	var out []CISRow
	for _, item := range catalog.CISItems() {
		row := CISRow{ID: item.ID, Title: item.Title, Automated: item.Automated, Status: notCovered}
		worst := -1
		for _, r := range rs {
			if !slices.Contains(r.CIS, item.ID) {
				continue
			}
			row.Rules = append(row.Rules, r)
			if s := severity(r.Result); s > worst {
				worst, row.Status = s, string(r.Result)
			}
		}
		out = append(out, row)
	}
	return out
}

// removed summarises the distroless record.
func removed(d *compliance.Distroless) Removed {
	if d == nil {
		return Removed{}
	}
	out := Removed{Rebased: true, Entries: len(d.Removed), Tools: map[string]int{}, Executables: d.Executables, RuntimePackages: len(d.RuntimePackages)}
	for _, r := range d.Removed {
		out.Files += max(r.Files, 1)
		if r.Category != "" {
			out.Tools[r.Category]++
		}
		if r.Package != "" && r.Why == compliance.RemovedByAllowlist {
			out.Packages = append(out.Packages, r.Package)
		}
	}
	slices.Sort(out.Packages)
	out.Packages = slices.Compact(out.Packages)
	return out
}

// summariseSPDX counts an SPDX document's packages and their licenses.
func summariseSPDX(raw json.RawMessage, s *SBOMSummary) error {
	var doc struct {
		Packages []struct {
			LicenseConcluded string `json:"licenseConcluded"`
			LicenseDeclared  string `json:"licenseDeclared"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	s.Present = true
	s.Packages = len(doc.Packages)
	s.Licenses = map[string]int{}
	for _, p := range doc.Packages {
		l := cmp.Or(known(p.LicenseConcluded), known(p.LicenseDeclared), "NOASSERTION")
		s.Licenses[l]++
	}
	return nil
}

// known drops SPDX's "no information" values.
func known(l string) string {
	if l == "NOASSERTION" || l == "NONE" {
		return ""
	}
	return l
}

// LicenseList returns the SBOM's licenses, most packages first.
func (s SBOMSummary) LicenseList() []string {
	out := make([]string, 0, len(s.Licenses))
	for l := range s.Licenses {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		return cmp.Or(cmp.Compare(s.Licenses[out[j]], s.Licenses[out[i]]), cmp.Compare(out[i], out[j])) < 0
	})
	return out
}

// verdict decides the page's answer and its reasons, failing closed: an
// image without a compliance statement has no evidence.
func verdict(r *Report) (Verdict, []string) {
	var why []string
	for _, p := range r.Platforms {
		c := p.Compliance
		if c == nil {
			return VerdictNoEvidence, []string{fmt.Sprintf("%s has no hardenkit compliance statement: it was not built by hardenkit, or the attestations were not exported", cmp.Or(p.Platform, p.Digest))}
		}
		if c.Mode != options.ModeEnforce {
			why = append(why, fmt.Sprintf("built with HARDENKIT_MODE=%s", c.Mode))
		}
		for _, rule := range c.Rules {
			if rule.Result == compliance.ResultFail {
				why = append(why, fmt.Sprintf("rule %s failed", rule.ID))
			}
		}
		for _, m := range c.Vulnerabilities.Matches {
			if m.Result == compliance.MatchFail {
				why = append(why, fmt.Sprintf("%s in %s (%s) fails the vulnerability gate", m.CVE, m.Package, m.Severity))
			}
		}
		for _, e := range c.Exceptions {
			if !e.Expires.After(r.Now) {
				why = append(why, fmt.Sprintf("exception %s expired on %s", e.ID, e.Expires.Format("2006-01-02")))
			}
		}
	}
	if r.Release != nil && !r.Release.Compliant {
		why = append(why, "the release gate refused the image")
	}
	if len(why) > 0 {
		return VerdictFail, slices.Compact(why)
	}
	return VerdictPass, nil
}
