package evidencereport

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

func loadFixture(t *testing.T, now time.Time) *Report {
	t.Helper()
	hardened, plain := debianApp(t)
	st, err := store.OpenArchive(releasetest.ArchiveFile(t, hardened))
	if err != nil {
		t.Fatal(err)
	}
	pst, err := store.OpenLayout(plain)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Load(t.Context(), st, LoadOptions{Plain: pst, Now: now})
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	return r
}

// TestFormatsStateTheSameFacts: what a reader must find on the page, in
// every format.
func TestFormatsStateTheSameFacts(t *testing.T) {
	r := loadFixture(t, fixtureNow)
	want := []string{
		"Verdict: PASS", "Rules: ", " pass, 1 waived, 1 warn", // the pass count grows with the catalog
		// CIS §4 table: an item, its scoring, a mapped rule with its result.
		"CIS Docker Benchmark §4", "Ensure that a user for the container has been created", "Automated", "HK1050 pass",
		"4.12", "Ensure all signed artifacts are validated",
		// Families.
		"non-root", "supply-chain",
		// Exceptions: id, owner, approver, expiry.
		"EX-2026-014", "alice@example.com", "bob@example.com", "2027-02-15", "EX-2026-020", "2027-01-31",
		// Vulnerabilities with VEX and exception decisions.
		"critical 0, high 1, medium 2", "CVE-2025-0001", "not_affected", "vulnerable_code_not_present", "CVE-2025-0002",
		// Sizes before and after, what was removed.
		"Before hardening: 30.0 MiB", "After hardening: 2.0 MiB", "Tools removed: network-tool 1, package-manager 1, shell 1",
		"perl-base", "/usr/local/bin/app",
		// SBOM.
		"3 packages", "MPL-2.0", "NOASSERTION",
		// Rebuild.
		"SOURCE_DATE_EPOCH=1764547200", "--build-arg VERSION=1.2", "--target app", "https://git.example.com/team/app.git", "0123456789abcdef",
		// Signatures.
		"Sigstore signature bundles referring to the image index: 0", "Release gate: not run",
	}
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, r, format); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			if format == "markdown" {
				page = strings.ReplaceAll(page, `\_`, "_")
			}
			for _, w := range want {
				if !strings.Contains(page, w) {
					t.Errorf("%s report lacks %q", format, w)
				}
			}
		})
	}
}

// TestHTMLIsSelfContained: no script and nothing fetched, a viewport for
// phones, print styles, and the chart drawn inline.
func TestHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, loadFixture(t, fixtureNow), "html"); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script`), regexp.MustCompile(`(?i)<link`), regexp.MustCompile(`(?i)\bsrc=`),
		regexp.MustCompile(`(?i)url\(`), regexp.MustCompile(`(?i)@import`), regexp.MustCompile(`(?i)href="https?:`),
	} {
		if loc := bad.FindStringIndex(page); loc != nil {
			t.Errorf("HTML loads from elsewhere: %q", page[loc[0]:min(loc[1]+40, len(page))])
		}
	}
	for _, w := range []string{`name="viewport"`, "@media print", "<svg", `aria-label="image size before 30.0 MiB, after 2.0 MiB"`, `class="verdict pass"`} {
		if !strings.Contains(page, w) {
			t.Errorf("HTML lacks %q", w)
		}
	}
}

func TestVerdictFailsClosed(t *testing.T) {
	// An exception expired at report time fails the page.
	r := loadFixture(t, time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	if r.Verdict != VerdictFail || !strings.Contains(strings.Join(r.Why, "\n"), "exception EX-2026-020 expired on 2027-01-31") {
		t.Errorf("verdict = %s %q, want FAIL for the expired exception", r.Verdict, r.Why)
	}

	// An image without evidence has no verdict but NO EVIDENCE.
	st, err := store.OpenLayout(releasetest.LayoutDir(t, fixtureIndex(t, 1024, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r, err = Load(t.Context(), st, LoadOptions{Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, r, "text"); err != nil {
		t.Fatal(err)
	}
	if r.Verdict != VerdictNoEvidence || !strings.Contains(b.String(), "No hardenkit compliance statement is attached") {
		t.Errorf("report of an image without evidence:\n%s", b.String())
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Write(&bytes.Buffer{}, &Report{}, "pdf"); err == nil || !strings.Contains(err.Error(), "want text, markdown or html") {
		t.Errorf("Write(pdf) = %v", err)
	}
}

// TestMarkdownEscapesImageText: a path or message from the image cannot
// turn into markup or break a table.
func TestMarkdownEscapesImageText(t *testing.T) {
	var b bytes.Buffer
	ss := []section{{Title: "t", Level: 3, Table: &table{Header: []string{"a"}, Rows: [][]string{{"x|<img src=x>"}}, Status: -1}}}
	if err := writeMarkdown(&b, ss); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); strings.Contains(got, "<img") || !strings.Contains(got, `x\|&lt;img src=x&gt;`) {
		t.Errorf("markdown = %q", got)
	}
}

// TestVulnerabilitiesNotEvaluatedSaidOnce: the reason is shown once, also
// from evidence written when the gate's warning carried the prefix.
func TestVulnerabilitiesNotEvaluatedSaidOnce(t *testing.T) {
	for _, reason := range []string{"no vulnerability database configured", "vulnerabilities not evaluated: no vulnerability database configured"} {
		s := vulnSection(compliance.Vulnerabilities{Status: compliance.VulnNotEvaluated, Reason: reason})
		if got := strings.Join(s.Lines, "\n"); strings.Count(got, "ot evaluated") != 1 || !strings.Contains(got, "Not evaluated: no vulnerability database configured.") {
			t.Errorf("reason %q shows as %q", reason, got)
		}
	}
}

// TestRealDebianAppEvidence reads the evidence of a real build of
// examples/debian-app (testdata/debian-app) and checks what its page says.
func TestRealDebianAppEvidence(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "debian-app", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	idx := fixtureIndex(t, 5<<20, map[string][]byte{compliance.PredicateType: read("compliance.json"), intoto.PredicateSPDX: read("spdx-packages.json")})
	st, err := store.OpenLayout(releasetest.LayoutDir(t, idx))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Load(t.Context(), st, LoadOptions{Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, r, "text"); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, w := range []string{
		"Verdict: PASS", "Rules: 55 pass, 2 warn, 1 not-evaluated.",
		"HK1050 pass", "HK1001 warn", "HK4001 not-evaluated",
		"No exception waived anything in this build.",
		"Not evaluated: no vulnerability database configured.",
		"Tools removed: network-tool 4, package-manager 41, shell 4.", "/usr/local/bin/app",
		"8 packages", "Frontend: hardenkit b20469a in-process (hardenkit build).", "SOURCE_DATE_EPOCH=1796631705",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q:\n%s", w, page)
		}
	}
}
