package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/evidence/vuln/vulndbtest"
	hkexceptions "github.com/hardenkit/hardenkit/frontend/exceptions"
)

// fixtureCVE affects bookworm's libc6, which ships in debian-app.
const fixtureCVE = "CVE-2099-1001"

// TestVulnerabilityGate builds debian-app against a real grype v6 database
// (written with grype's own writer) holding a high CVE in glibc: the build
// fails; an approved exception or a VEX not_affected statement lets it
// through, recorded in the compliance statement; without a database the
// default policy warns and records not-evaluated, and a policy that
// requires one fails closed.
func TestVulnerabilityGate(t *testing.T) {
	ctx := context.Background()
	db := t.TempDir()
	if err := vulndbtest.Write(db, vulndbtest.Vulnerability{
		ID: fixtureCVE, Severity: "high", Distro: "debian", DistroVersion: "12",
		Package: "libc6", Ecosystem: "deb", FixedIn: "2.36-9+deb12u99", Description: "integration fixture",
	}); err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs(filepath.Join("..", "examples", "debian-app"))
	if err != nil {
		t.Fatal(err)
	}
	build := func(t *testing.T, args ...string) (string, string, error) {
		t.Helper()
		dest := filepath.Join(t.TempDir(), "image.tar")
		all := append([]string{"build", "--addr", env.BuildkitAddr, "--progress", "plain", "--output", "type=oci,dest=" + dest}, args...)
		out, err := run(ctx, t, nil, binaries.hardenkit, append(all, dir)...)
		return dest, out, err
	}
	compliance := func(t *testing.T, dest string) (vulns struct {
		Status  string
		Matches []struct{ CVE, Package, Result, Exception, Reason string }
	}, exceptions []string) {
		t.Helper()
		img := readImage(t, dest)
		atts := readAttestations(t, dest, img)
		var st struct {
			Predicate struct {
				Vulnerabilities struct {
					Status  string
					Matches []struct{ CVE, Package, Result, Exception, Reason string }
				} `json:"vulnerabilities"`
				Exceptions []struct{ ID string } `json:"exceptions"`
			} `json:"predicate"`
		}
		if err := json.Unmarshal(atts["https://hardenkit.dev/attestations/compliance/v1"][0], &st); err != nil {
			t.Fatal(err)
		}
		for _, e := range st.Predicate.Exceptions {
			exceptions = append(exceptions, e.ID)
		}
		return st.Predicate.Vulnerabilities, exceptions
	}

	// No database: the default policy warns and records not-evaluated.
	dest, out, err := build(t)
	if err != nil {
		t.Fatalf("build without a database: %v\n%s", err, out)
	}
	if !strings.Contains(out, "vulnerabilities not evaluated") {
		t.Errorf("no not-evaluated warning in the output:\n%s", out)
	}
	if v, _ := compliance(t, dest); v.Status != "not-evaluated" {
		t.Errorf("vulnerability status = %q, want not-evaluated", v.Status)
	}
	libc := libcPURL(t, dest)

	// A database with the CVE: the build fails and names it.
	if _, out, err := build(t, "--build-context", "hardenkit-vulndb="+db); err == nil || !strings.Contains(out, fixtureCVE) || !strings.Contains(out, "HK4001") {
		t.Fatalf("build with a vulnerable package: err=%v, want HK4001 %s:\n%s", err, fixtureCVE, out)
	}

	// An approved exception waives it, and the evidence says so.
	now := time.Now().UTC()
	// The built-in baselines accept signed exceptions only: CI's policy
	// names the approver key.
	a := newApprover(t)
	ciPolicyFile := filepath.Join(t.TempDir(), "policy.yaml")
	ciPol := "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: vuln-ci\nbaseline: strict\nrules:\n  HK1001: warn\n  HK1030: warn\n" +
		"controls:\n  exceptions:\n    approverKeys:\n      - |\n" + indentLines(a.pem, "        ")
	if err := os.WriteFile(ciPolicyFile, []byte(ciPol), 0o644); err != nil {
		t.Fatal(err)
	}
	exFile := filepath.Join(t.TempDir(), "exceptions.yaml")
	ex := exceptionsYAML(t, &a, hkexceptions.Exception{
		ID: "EX-CVE-1", Rule: "HK4001", Scope: hkexceptions.Scope{CVE: fixtureCVE},
		Justification: "glibc is patched by the platform team's next base image; tracked in SEC-1.",
		Owner:         "dev@example.com", ApprovedBy: "security@example.com",
		Created: now.AddDate(0, 0, -1).Truncate(24 * time.Hour), Expires: now.AddDate(0, 0, 20).Truncate(24 * time.Hour),
	})
	if err := os.WriteFile(exFile, []byte(ex), 0o644); err != nil {
		t.Fatal(err)
	}
	dest, out, err = build(t, "--build-context", "hardenkit-vulndb="+db, "--policy", ciPolicyFile, "--exceptions", exFile)
	if err != nil {
		t.Fatalf("build with an approved exception: %v\n%s", err, out)
	}
	v, applied := compliance(t, dest)
	if v.Status != "evaluated" || !hasMatch(v.Matches, fixtureCVE, "waived") || !contains(applied, "EX-CVE-1") {
		t.Errorf("with exception: status %q matches %+v exceptions %v", v.Status, v.Matches, applied)
	}

	// A VEX not_affected statement takes it out of the gate.
	vexDir := t.TempDir()
	vex := fmt.Sprintf(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/glibc-1",
  "author": "security@example.com", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
  "statements": [{"vulnerability": {"name": %q}, "products": [{"@id": %q}],
    "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}`, fixtureCVE, libc)
	if err := os.WriteFile(filepath.Join(vexDir, "glibc.json"), []byte(vex), 0o644); err != nil {
		t.Fatal(err)
	}
	dest, out, err = build(t, "--build-context", "hardenkit-vulndb="+db, "--build-context", "hardenkit-vex="+vexDir)
	if err != nil {
		t.Fatalf("build with a VEX statement: %v\n%s", err, out)
	}
	if v, _ := compliance(t, dest); !hasMatch(v.Matches, fixtureCVE, "not_affected") {
		t.Errorf("with VEX: matches %+v", v.Matches)
	}

	// A policy that requires a database fails closed without one.
	polFile := filepath.Join(t.TempDir(), "policy.yaml")
	pol := "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: requires-db\nbaseline: strict\nrules:\n  HK1001: warn\n  HK1030: warn\ncontrols:\n  vulnerabilities:\n    requireDB: true\n"
	if err := os.WriteFile(polFile, []byte(pol), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, out, err := build(t, "--policy", polFile); err == nil || !strings.Contains(out, "hardenkit-vulndb") {
		t.Fatalf("build requiring a database without one: err=%v\n%s", err, out)
	}
}

// libcPURL returns libc6's package URL from the image's SPDX SBOM, as a VEX
// product names it.
func libcPURL(t *testing.T, dest string) string {
	t.Helper()
	img := readImage(t, dest)
	var st struct {
		Predicate struct {
			Packages []struct {
				Name         string `json:"name"`
				ExternalRefs []struct {
					ReferenceType    string `json:"referenceType"`
					ReferenceLocator string `json:"referenceLocator"`
				} `json:"externalRefs"`
			} `json:"packages"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(readAttestations(t, dest, img)["https://spdx.dev/Document"][0], &st); err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Predicate.Packages {
		if p.Name != "libc6" {
			continue
		}
		for _, r := range p.ExternalRefs {
			if r.ReferenceType == "purl" {
				return r.ReferenceLocator
			}
		}
	}
	t.Fatal("the SBOM has no libc6 purl")
	return ""
}

func hasMatch(ms []struct{ CVE, Package, Result, Exception, Reason string }, cve, result string) bool {
	for _, m := range ms {
		if m.CVE == cve && m.Result == result {
			return true
		}
	}
	return false
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
