package evidencereport

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// The three formats render one list of sections, so that each states the
// same facts: a fact added here shows in text, markdown and HTML alike.

// section is one heading of the page with its paragraphs, table, chart
// and code block (each optional).
type section struct {
	Title string
	// Level is 1 for the page title, 2 for a platform, 3 for a section.
	Level int
	Lines []string
	Table *table
	Chart *chart
	Code  string
}

// table is a titled grid; Status names the column whose cells are
// results (the HTML colours them).
type table struct {
	Header []string
	Rows   [][]string
	Status int
}

// chart is the before/after bar chart of the image size.
type chart struct {
	Before, After int64
}

// listCap bounds the long lists (vulnerability decisions, executables,
// licenses), so that the page stays one page; the rest is counted.
const listCap = 40

func (r *Report) sections() []section {
	head := section{Title: "hardenkit evidence report", Level: 1, Lines: []string{
		"Image: " + r.Image,
		"Digest: " + r.Digest,
		"Verdict: " + string(r.Verdict),
	}}
	for _, w := range r.Why {
		head.Lines = append(head.Lines, "  - "+w)
	}
	if c := r.resultCounts(); len(r.Why) == 0 && c != "" {
		head.Lines = append(head.Lines, "Rules: "+c+".")
	}
	head.Lines = append(head.Lines, "Report made: "+r.Now.Format("2006-01-02 15:04 MST"))
	out := []section{head}
	for _, p := range r.Platforms {
		if len(r.Platforms) > 1 {
			out = append(out, section{Title: "Platform " + cmp.Or(p.Platform, "(none)"), Level: 2, Lines: []string{"Image manifest: " + p.Digest}})
		}
		out = append(out, p.sections(r)...)
	}
	return append(out, r.signatureSection())
}

// resultCounts counts the rule results over every platform.
func (r *Report) resultCounts() string {
	n := map[compliance.Result]int{}
	for _, p := range r.Platforms {
		if p.Compliance != nil {
			for _, rule := range p.Compliance.Rules {
				n[rule.Result]++
			}
		}
	}
	var out []string
	for _, res := range Results() {
		if n[res] > 0 {
			out = append(out, fmt.Sprintf("%d %s", n[res], res))
		}
	}
	return strings.Join(out, ", ")
}

func (p Platform) sections(r *Report) []section {
	c := p.Compliance
	if c == nil {
		return []section{{Title: "Evidence", Level: 3, Lines: []string{"No hardenkit compliance statement is attached to " + p.Digest + ": nothing below can be shown."}}}
	}
	return []section{
		{Title: "Policy", Level: 3, Lines: []string{
			fmt.Sprintf("Policy %s (baseline %s), digest %s; mode %s; hardenkit %s.", c.Policy.Name, c.Policy.Baseline, c.Policy.Digest, c.Mode, c.Hardenkit.Version),
		}},
		p.familySection(),
		p.cisSection(),
		exceptionSection(c.Exceptions, r),
		vulnSection(c.Vulnerabilities),
		p.sizeSection(),
		p.sbomSection(),
		p.rebuildSection(),
	}
}

func (p Platform) familySection() section {
	t := &table{Header: []string{"Control family"}, Status: -1}
	for _, res := range Results() {
		t.Header = append(t.Header, string(res))
	}
	for _, f := range p.Families {
		row := []string{f.Family}
		for _, res := range Results() {
			row = append(row, strconv.Itoa(f.Counts[res]))
		}
		t.Rows = append(t.Rows, row)
	}
	return section{Title: "Controls by family", Level: 3, Table: t}
}

func (p Platform) cisSection() section {
	t := &table{Header: []string{"CIS", "Recommendation", "Scoring", "Status", "hardenkit rules"}, Status: 3}
	for _, row := range p.CIS {
		scoring := "Manual"
		if row.Automated {
			scoring = "Automated"
		}
		var rs []string
		for _, rule := range row.Rules {
			rs = append(rs, rule.ID+" "+string(rule.Result))
		}
		t.Rows = append(t.Rows, []string{row.ID, row.Title, scoring, row.Status, strings.Join(rs, ", ")})
	}
	return section{Title: "CIS Docker Benchmark §4", Level: 3, Table: t}
}

func exceptionSection(es []compliance.Exception, r *Report) section {
	s := section{Title: "Exceptions", Level: 3}
	if len(es) == 0 {
		s.Lines = []string{"No exception waived anything in this build."}
		return s
	}
	t := &table{Header: []string{"Exception", "Rule", "Owner", "Approver", "Expires", "Signed"}, Status: -1}
	for _, e := range es {
		exp := e.Expires.Format("2006-01-02")
		if !e.Expires.After(r.Now) {
			exp += " (expired)"
		}
		signed := "no"
		if e.SignerKeyID != "" {
			signed = "yes (" + shortDigest(e.SignerKeyID) + ")"
		}
		t.Rows = append(t.Rows, []string{e.ID, e.Rule, cmp.Or(e.Owner, "—"), e.ApprovedBy, exp, signed})
	}
	s.Table = t
	return s
}

func vulnSection(v compliance.Vulnerabilities) section {
	s := section{Title: "Vulnerabilities", Level: 3}
	if v.Status != compliance.VulnEvaluated {
		// Builds before the gate's warning became the reason alone recorded
		// it with the prefix; do not say it twice.
		reason := strings.TrimPrefix(v.Reason, "vulnerabilities not evaluated: ")
		s.Lines = []string{"Not evaluated: " + cmp.Or(reason, "no reason recorded") + ". Pass a grype database as the hardenkit-vulndb build context."}
		return s
	}
	s.Lines = []string{fmt.Sprintf("Evaluated against a grype database (schema %s) built %s; a match at %s or above fails unless an exception or VEX statement covers it.", v.DB.Schema, v.DB.Built.Format("2006-01-02"), v.FailOn)}
	sev := compliance.Severities()
	slices.Reverse(sev)
	counts := []string{}
	for _, k := range sev {
		counts = append(counts, fmt.Sprintf("%s %d", k, v.Counts[k]))
	}
	s.Lines = append(s.Lines, "Applicable matches by severity: "+strings.Join(counts, ", ")+".")
	t := &table{Header: []string{"Vulnerability", "Package", "Severity", "Decision", "Why"}, Status: 3}
	listed := 0
	for _, m := range v.Matches {
		if m.Result == compliance.MatchBelowThreshold {
			continue
		}
		if listed++; listed > listCap {
			continue
		}
		t.Rows = append(t.Rows, []string{m.CVE, m.Package, m.Severity, string(m.Result), cmp.Or(m.Reason, m.Exception)})
	}
	if len(t.Rows) > 0 {
		s.Table = t
	}
	if listed > listCap {
		s.Lines = append(s.Lines, fmt.Sprintf("%d more decisions are in the compliance statement.", listed-listCap))
	}
	return s
}

func (p Platform) sizeSection() section {
	s := section{Title: "Removed and shipped", Level: 3}
	if p.PlainSize > 0 {
		s.Lines = append(s.Lines, fmt.Sprintf("Before hardening: %s. After hardening: %s (%s smaller).", humanSize(p.PlainSize), humanSize(p.Size), percentLess(p.PlainSize, p.Size)))
		s.Chart = &chart{Before: p.PlainSize, After: p.Size}
	} else {
		s.Lines = append(s.Lines, fmt.Sprintf("After hardening: %s. Before hardening: not known (the evidence does not record it; give the plain build with --plain to compare).", humanSize(p.Size)))
	}
	rm := p.Removed
	if !rm.Rebased {
		s.Lines = append(s.Lines, "The distroless control did not rebase this image: nothing was removed.")
		return s
	}
	s.Lines = append(s.Lines, fmt.Sprintf("Removed: %d files in %d records; %d runtime packages ship.", rm.Files, rm.Entries, rm.RuntimePackages))
	if len(rm.Tools) > 0 {
		var tools []string
		for _, k := range slices.Sorted(maps.Keys(rm.Tools)) {
			tools = append(tools, fmt.Sprintf("%s %d", k, rm.Tools[k]))
		}
		s.Lines = append(s.Lines, "Tools removed: "+strings.Join(tools, ", ")+".")
	}
	if len(rm.Packages) > 0 {
		s.Lines = append(s.Lines, "Packages removed whole: "+capList(rm.Packages)+".")
	}
	t := &table{Header: []string{"Executable that ships", "Why it may run"}, Status: -1}
	for i, e := range rm.Executables {
		if i < listCap {
			t.Rows = append(t.Rows, []string{e.Path, e.Reason})
		}
	}
	if len(t.Rows) > 0 {
		s.Table = t
	}
	return s
}

func (p Platform) sbomSection() section {
	s := section{Title: "SBOM", Level: 3}
	if !p.SBOM.Present {
		s.Lines = []string{"No SPDX SBOM is attached."}
		return s
	}
	s.Lines = []string{fmt.Sprintf("%d packages (SPDX, digest %s).", p.SBOM.Packages, shortDigest(p.SBOM.Digest))}
	t := &table{Header: []string{"License", "Packages"}, Status: -1}
	for i, l := range p.SBOM.LicenseList() {
		if i < listCap {
			t.Rows = append(t.Rows, []string{l, strconv.Itoa(p.SBOM.Licenses[l])})
		}
	}
	if len(t.Rows) > 0 {
		s.Table = t
	}
	return s
}

func (p Platform) rebuildSection() section {
	rb := p.Rebuild
	s := section{Title: "How to rebuild", Level: 3}
	if rb.Source != "" {
		s.Lines = append(s.Lines, "Source: "+rb.Source+" at "+cmp.Or(rb.Revision, "an unrecorded revision")+".")
	}
	if rb.Frontend != "" {
		s.Lines = append(s.Lines, "Frontend: "+rb.Frontend+".")
	}
	for _, b := range rb.BaseImages {
		s.Lines = append(s.Lines, "Base image: "+b.Name+" "+cmp.Or(b.Digest, "(scratch)"))
	}
	s.Lines = append(s.Lines, "Same source, same policy ("+rb.Policy+" "+shortDigest(rb.PolicyDigest)+") and the same SOURCE_DATE_EPOCH give the same image digest "+p.Digest+".")
	cmd := []string{"hardenkit build", "--build-arg SOURCE_DATE_EPOCH=" + strconv.FormatInt(rb.SourceDateEpoch, 10)}
	for _, a := range rb.Args {
		switch {
		case strings.HasPrefix(a[0], "build-arg:") && a[0] != "build-arg:SOURCE_DATE_EPOCH":
			cmd = append(cmd, "--build-arg "+shellQuote(strings.TrimPrefix(a[0], "build-arg:")+"="+a[1]))
		case a[0] == "target":
			cmd = append(cmd, "--target "+shellQuote(a[1]))
		case a[0] == "filename":
			cmd = append(cmd, "-f "+shellQuote(a[1]))
		}
	}
	if p.Platform != "" {
		cmd = append(cmd, "--platform "+p.Platform)
	}
	cmd = append(cmd, "--output type=oci,dest=rebuild.tar .")
	// The image manifest, not the index: the index also holds the
	// attestations, whose step timings differ from build to build.
	s.Code = strings.Join(cmd, " \\\n    ") + "\nhardenkit report rebuild.tar   # its image manifest must be " + p.Digest
	return s
}

func (r *Report) signatureSection() section {
	s := section{Title: "Signatures and release gate", Level: 3}
	s.Lines = []string{fmt.Sprintf("Sigstore signature bundles referring to the image index: %d.", r.Signatures)}
	if r.Release == nil {
		s.Lines = append(s.Lines, "Release gate: not run (give --key, and --policy, to verify the signatures and the release policy).")
		return s
	}
	v := "refused"
	if r.Release.Compliant {
		v = "accepted"
	}
	s.Lines = append(s.Lines, "Release gate: "+v+".")
	t := &table{Header: []string{"Platform", "Check", "Result", "Detail"}, Status: 2}
	add := func(platform string, cs []verifyCheck) {
		for _, c := range cs {
			res, detail := "pass", c.Detail
			if !c.OK {
				res, detail = "fail", strings.Join(c.Reasons, "; ")
			}
			t.Rows = append(t.Rows, []string{platform, c.Name, res, detail})
		}
	}
	add("index", r.Release.Checks)
	for _, p := range r.Release.Platforms {
		add(cmp.Or(p.Platform, "image"), p.Checks)
	}
	s.Table = t
	return s
}

// humanSize writes n bytes in binary units.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func percentLess(before, after int64) string {
	if before <= 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(before-after)/float64(before))
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

func capList(s []string) string {
	if len(s) <= listCap {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:listCap], ", ") + fmt.Sprintf(" and %d more", len(s)-listCap)
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// verifyCheck is one check of the release gate's report.
type verifyCheck = verify.Check
