package vuln

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v6 "github.com/anchore/grype/grype/db/v6"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/evidence/internal/evidencetest"
	"github.com/hardenkit/hardenkit/frontend/evidence/sbom"
	"github.com/hardenkit/hardenkit/frontend/evidence/vuln/vulndbtest"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// The fixture advisories, for the packages of evidencetest.DebianRootfs.
var fixtureVulns = []vulndbtest.Vulnerability{
	// apt 2.6.1 is installed: affected.
	{ID: "CVE-2099-0001", Severity: "high", Distro: "debian", DistroVersion: "12", Package: "apt", Ecosystem: "deb", FixedIn: "2.6.2", Description: "fixture: apt"},
	// libc6 is built from glibc: matched through its source package.
	{ID: "CVE-2099-0002", Severity: "low", Distro: "debian", DistroVersion: "12", Package: "glibc", Ecosystem: "deb", FixedIn: "2.36-9+deb12u15", Description: "fixture: glibc"},
	// base-files 12.4+deb12u15 already has the fix.
	{ID: "CVE-2099-0003", Severity: "critical", Distro: "debian", DistroVersion: "12", Package: "base-files", Ecosystem: "deb", FixedIn: "12.4+deb12u10", Description: "fixture: fixed"},
	// another release's advisory must not match bookworm.
	{ID: "CVE-2099-0004", Severity: "critical", Distro: "debian", DistroVersion: "11", Package: "apt", Ecosystem: "deb", FixedIn: "9.0", Description: "fixture: bullseye"},
}

// fixture builds the SBOM and the database once: cataloging and writing a
// database take seconds, and every test only reads them.
var fixture = sync.OnceValues(func() (fixtureData, error) {
	dir, err := os.MkdirTemp("", "hardenkit-vuln-test-")
	if err != nil {
		return fixtureData{}, err
	}
	f := fixtureData{dir: dir, db: filepath.Join(dir, "db")}
	if err := vulndbtest.Write(f.db, fixtureVulns...); err != nil {
		return f, err
	}
	desc, err := v6.ReadDescription(filepath.Join(f.db, v6.VulnerabilityDBFileName))
	if err != nil {
		return f, err
	}
	f.built = desc.Built.UTC()

	root := filepath.Join(dir, "rootfs")
	if err := os.Mkdir(root, 0o755); err != nil {
		return f, err
	}
	if err := evidencetest.WriteDebianRootfs(root); err != nil {
		return f, err
	}
	res, err := sbom.Generate(context.Background(), root, sbom.Options{Epoch: time.Unix(1714564800, 0), Name: "registry.example/app:1"})
	if err != nil {
		return f, err
	}
	f.spdx = res.SPDX
	return f, nil
})

// fixtureData is the shared, read-only fixture.
type fixtureData struct {
	dir, db string
	// spdx is the SBOM hardenkit generates for evidencetest's rootfs.
	spdx  []byte
	built time.Time
}

func setup(t *testing.T) fixtureData {
	t.Helper()
	t.Parallel()
	f, err := fixture()
	if err != nil {
		t.Fatalf("building fixture: %v", err)
	}
	return f
}

func TestMain(m *testing.M) {
	code := m.Run()
	if f, err := fixture(); err == nil {
		_ = os.RemoveAll(f.dir)
	}
	os.Exit(code)
}

func find(t *testing.T, r Result, cve string) Match {
	t.Helper()
	for _, m := range r.Matches {
		if m.CVE == cve {
			return m
		}
	}
	t.Fatalf("no match for %s in %+v", cve, r.Matches)
	return Match{}
}

func TestEvaluateFindsFixtureCVE(t *testing.T) {
	f := setup(t)
	res, err := Evaluate(t.Context(), f.spdx, Options{DBDir: f.db, Now: f.built.Add(time.Hour), FailOn: rules.SeverityHigh, RequireDB: true, MaxDBAge: 24 * time.Hour})
	if err != nil {
		t.Fatalf("Evaluate() = %v", err)
	}
	if res.Status != compliance.VulnEvaluated || !res.Failed || res.Warning != "" {
		t.Errorf("Evaluate() status %q failed %v warning %q", res.Status, res.Failed, res.Warning)
	}
	apt := find(t, res, "CVE-2099-0001")
	want := Match{CVE: "CVE-2099-0001", Package: evidencetest.AptPURL, Name: "apt", Version: "2.6.1", Severity: "high", Result: compliance.MatchFail, FixedIn: []string{"2.6.2"}}
	if !matchEqual(apt, want) {
		t.Errorf("apt match = %+v, want %+v", apt, want)
	}
	libc := find(t, res, "CVE-2099-0002")
	if libc.Package != evidencetest.LibcPURL || libc.Result != compliance.MatchBelowThreshold || libc.Severity != "low" {
		t.Errorf("glibc match = %+v", libc)
	}
	if len(res.Matches) != 2 {
		t.Errorf("matches = %+v, want only the apt and glibc advisories", res.Matches)
	}
	if res.Counts["high"] != 1 || res.Counts["low"] != 1 || res.Counts["critical"] != 0 || len(res.Counts) != len(compliance.Severities()) {
		t.Errorf("counts = %v", res.Counts)
	}
	if res.DB == nil || !res.DB.Built.Equal(f.built) || !strings.HasPrefix(res.DB.Schema, "v6.") || !strings.HasPrefix(res.DB.Checksum, "xxh64:") {
		t.Errorf("db = %+v", res.DB)
	}
}

func TestEvaluateThreshold(t *testing.T) {
	f := setup(t)
	for _, tc := range []struct {
		failOn rules.Severity
		failed bool
		apt    compliance.MatchResult
		glibc  compliance.MatchResult
	}{
		{rules.SeverityLow, true, compliance.MatchFail, compliance.MatchFail},
		{rules.SeverityMedium, true, compliance.MatchFail, compliance.MatchBelowThreshold},
		{rules.SeverityHigh, true, compliance.MatchFail, compliance.MatchBelowThreshold},
		{rules.SeverityCritical, false, compliance.MatchBelowThreshold, compliance.MatchBelowThreshold},
	} {
		t.Run(string(tc.failOn), func(t *testing.T) {
			res, err := Evaluate(t.Context(), f.spdx, Options{DBDir: f.db, FailOn: tc.failOn})
			if err != nil {
				t.Fatal(err)
			}
			if res.Failed != tc.failed || find(t, res, "CVE-2099-0001").Result != tc.apt || find(t, res, "CVE-2099-0002").Result != tc.glibc {
				t.Errorf("failOn %s: failed %v, matches %+v", tc.failOn, res.Failed, res.Matches)
			}
		})
	}
	if _, err := Evaluate(t.Context(), f.spdx, Options{DBDir: f.db, FailOn: "negligible"}); err == nil {
		t.Error("Evaluate(failOn negligible) = nil error")
	}
}

// TestEvaluateWaivedByException binds Waive to a real exceptions set, as
// the frontend does.
func TestEvaluateWaivedByException(t *testing.T) {
	f := setup(t)
	const rule = "HK9001"
	now := f.built
	set := &exceptions.Set{Source: "exceptions.yaml", Exceptions: []exceptions.Exception{
		{ID: "EX-other", Rule: rule, Scope: exceptions.Scope{Package: "pkg:deb/debian/curl", CVE: "CVE-2099-0001"}, Justification: "j", Owner: "o@example.com", ApprovedBy: "a@example.com", Created: now.Add(-time.Hour), Expires: now.Add(30 * 24 * time.Hour)},
		{ID: "EX-apt", Rule: rule, Scope: exceptions.Scope{Package: "pkg:deb/debian/apt", CVE: "cve-2099-0001"}, Justification: "mitigated by seccomp profile", Owner: "dev@example.com", ApprovedBy: "security@example.com", Created: now.Add(-time.Hour), Expires: now.Add(30 * 24 * time.Hour)},
	}}
	if err := set.Validate(now, exceptions.ValidationPolicy{}); err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(t.Context(), f.spdx, Options{DBDir: f.db, FailOn: rules.SeverityHigh, Waive: ExceptionWaiver(set, rule, "registry.example/app:1")})
	if err != nil {
		t.Fatal(err)
	}
	apt := find(t, res, "CVE-2099-0001")
	if res.Failed || apt.Result != compliance.MatchWaived || apt.Exception != "EX-apt" {
		t.Errorf("failed %v, apt %+v", res.Failed, apt)
	}
	if ids := res.ExceptionIDs(); !slices.Equal(ids, []string{"EX-apt"}) {
		t.Errorf("ExceptionIDs() = %v", ids)
	}
	// A waived vulnerability is still present: it is counted.
	if res.Counts["high"] != 1 {
		t.Errorf("counts = %v", res.Counts)
	}

	// The summary is a valid part of the compliance predicate.
	p := compliance.Predicate{
		Hardenkit: compliance.Tool{Version: "test"},
		Policy:    compliance.Policy{Name: "p", Digest: "sha256:" + strings.Repeat("0", 64), Baseline: "strict"},
		Mode:      options.ModeEnforce, Vulnerabilities: res.Summary(), SBOM: compliance.SBOMOf(f.spdx),
		Exceptions: compliance.AppliedExceptions(set.Exceptions, res.ExceptionIDs()),
	}
	if _, err := p.Marshal(); err != nil {
		t.Errorf("compliance predicate with the gate's summary: %v", err)
	}
}

const vexNotAffected = `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/apt-1",
  "author": "security@example.com",
  "timestamp": "2024-05-01T00:00:00Z",
  "version": 1,
  "statements": [{
    "vulnerability": {"name": "CVE-2099-0001"},
    "products": [{"@id": "pkg:deb/debian/apt@2.6.1"}],
    "status": "STATUS",
    "justification": "vulnerable_code_not_in_execute_path"
  }]
}`

func TestEvaluateVEX(t *testing.T) {
	f := setup(t)
	for _, tc := range []struct {
		status string
		result compliance.MatchResult
		reason string
	}{
		{"not_affected", compliance.MatchNotAffected, "openvex not_affected: vulnerable_code_not_in_execute_path"},
		{"fixed", compliance.MatchFixed, "openvex fixed"},
	} {
		t.Run(tc.status, func(t *testing.T) {
			doc := strings.Replace(vexNotAffected, "STATUS", tc.status, 1)
			if tc.status == "fixed" {
				doc = strings.Replace(doc, `,
    "justification": "vulnerable_code_not_in_execute_path"`, "", 1)
			}
			res, err := Evaluate(t.Context(), f.spdx, Options{DBDir: f.db, FailOn: rules.SeverityHigh, VEX: [][]byte{[]byte(doc)}})
			if err != nil {
				t.Fatal(err)
			}
			apt := find(t, res, "CVE-2099-0001")
			if res.Failed || apt.Result != tc.result || apt.Reason != tc.reason {
				t.Errorf("failed %v, apt %+v", res.Failed, apt)
			}
			// Not a vulnerability of this image: not counted.
			if res.Counts["high"] != 0 || res.Counts["low"] != 1 {
				t.Errorf("counts = %v", res.Counts)
			}
		})
	}

	// VEX about another version of the package does not apply.
	other := strings.Replace(strings.Replace(vexNotAffected, "STATUS", "not_affected", 1), "apt@2.6.1", "apt@2.6.0", 1)
	res, err := Evaluate(t.Context(), f.spdx, Options{DBDir: f.db, FailOn: rules.SeverityHigh, VEX: [][]byte{[]byte(other)}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed {
		t.Error("a VEX statement for apt 2.6.0 waived apt 2.6.1")
	}

	for name, doc := range map[string]string{
		"no justification": strings.Replace(strings.Replace(vexNotAffected, "STATUS", "not_affected", 1), `"justification": "vulnerable_code_not_in_execute_path"`, `"status_notes": "trust me"`, 1),
		"not openvex":      `{"document": {"category": "csaf_vex"}}`,
		"not json":         `not_affected`,
	} {
		if _, err := Evaluate(t.Context(), f.spdx, Options{DBDir: f.db, FailOn: rules.SeverityHigh, VEX: [][]byte{[]byte(doc)}}); err == nil {
			t.Errorf("%s: Evaluate() = nil error", name)
		}
	}
}

func TestEvaluateWithoutUsableDB(t *testing.T) {
	f := setup(t)
	corrupt := filepath.Join(t.TempDir(), "db")
	copyDir(t, f.db, corrupt)
	if err := os.WriteFile(filepath.Join(corrupt, v6.ImportMetadataFileName), []byte(`{"digest":"xxh64:0000000000000000","client_version":"v6.1.10"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	noImport := filepath.Join(t.TempDir(), "db")
	copyDir(t, f.db, noImport)
	if err := os.Remove(filepath.Join(noImport, v6.ImportMetadataFileName)); err != nil {
		t.Fatal(err)
	}
	notDB := t.TempDir()
	if err := os.WriteFile(filepath.Join(notDB, v6.VulnerabilityDBFileName), []byte("not sqlite"), 0o644); err != nil {
		t.Fatal(err)
	}

	cases := map[string]struct {
		opt  Options
		want string
	}{
		"none configured": {Options{}, "no vulnerability database configured"},
		"missing":         {Options{DBDir: filepath.Join(t.TempDir(), "nope")}, "no vulnerability.db"},
		"not a database":  {Options{DBDir: notDB}, "reading vulnerability database"},
		"corrupt":         {Options{DBDir: corrupt}, "corrupt"},
		"not imported":    {Options{DBDir: noImport}, "import metadata"},
		"too old":         {Options{DBDir: f.db, Now: f.built.Add(6 * 24 * time.Hour), MaxDBAge: 5 * 24 * time.Hour}, "older than the policy's maximum"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			opt := tc.opt
			opt.FailOn = rules.SeverityHigh

			// Default baselines: recorded as not evaluated, with a warning.
			res, err := Evaluate(t.Context(), f.spdx, opt)
			if err != nil {
				t.Fatalf("Evaluate() = %v", err)
			}
			if res.Status != compliance.VulnNotEvaluated || res.Failed || res.DB != nil || len(res.Matches) != 0 || !strings.Contains(res.Warning, tc.want) {
				t.Errorf("Evaluate() = %+v, want not-evaluated warning about %q", res, tc.want)
			}
			if strings.Contains(res.Warning, "not evaluated") {
				t.Errorf("Evaluate() warning %q says \"not evaluated\" itself; its callers say it", res.Warning)
			}
			if sum := res.Summary(); sum.Status != compliance.VulnNotEvaluated || sum.Reason != res.Warning || sum.DB != nil {
				t.Errorf("Summary() = %+v", sum)
			}

			// A policy that requires a database fails closed.
			opt.RequireDB = true
			if _, err := Evaluate(t.Context(), f.spdx, opt); !errors.Is(err, ErrDBUnavailable) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Evaluate(RequireDB) = %v, want ErrDBUnavailable about %q", err, tc.want)
			}
		})
	}

	if _, err := Evaluate(t.Context(), f.spdx, Options{DBDir: f.db, FailOn: rules.SeverityHigh, MaxDBAge: time.Hour}); err == nil {
		t.Error("Evaluate(MaxDBAge without Now) = nil error")
	}
}

// TestEvaluateGrypeCacheLayout accepts grype's cache root, which holds the
// database under "6/".
func TestEvaluateGrypeCacheLayout(t *testing.T) {
	f := setup(t)
	root := t.TempDir()
	copyDir(t, f.db, filepath.Join(root, "6"))
	res, err := Evaluate(t.Context(), f.spdx, Options{DBDir: root, FailOn: rules.SeverityHigh, RequireDB: true})
	if err != nil || res.Status != compliance.VulnEvaluated || !res.Failed {
		t.Errorf("Evaluate(cache root) = %+v, %v", res, err)
	}
}

// TestEvaluateLeavesDBUntouched checks that matching never writes to the
// user's database directory.
func TestEvaluateLeavesDBUntouched(t *testing.T) {
	f := setup(t)
	dir := filepath.Join(t.TempDir(), "db")
	copyDir(t, f.db, dir)
	before := snapshot(t, dir)
	if _, err := Evaluate(t.Context(), f.spdx, Options{DBDir: dir, FailOn: rules.SeverityHigh}); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, dir); !slices.Equal(before, after) {
		t.Errorf("database directory changed:\n%v\n%v", before, after)
	}
}

func TestEvaluateRejectsBadSBOM(t *testing.T) {
	f := setup(t)
	if _, err := Evaluate(t.Context(), []byte(`{"hello": "world"}`), Options{DBDir: f.db, FailOn: rules.SeverityHigh}); err == nil {
		t.Error("Evaluate(not an SBOM) = nil error")
	}
}

func matchEqual(a, b Match) bool {
	return a.CVE == b.CVE && a.Package == b.Package && a.Name == b.Name && a.Version == b.Version &&
		a.Severity == b.Severity && a.Result == b.Result && slices.Equal(a.FixedIn, b.FixedIn) &&
		a.Exception == b.Exception && a.Reason == b.Reason
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// snapshot lists the files of dir with their sha256.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		out = append(out, e.Name()+" "+hex.EncodeToString(sum[:]))
	}
	return out
}
