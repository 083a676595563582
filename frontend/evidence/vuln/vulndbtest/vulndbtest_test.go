package vulndbtest_test

import (
	"path/filepath"
	"testing"

	"github.com/anchore/grype/grype"
	v6 "github.com/anchore/grype/grype/db/v6"
	"github.com/anchore/grype/grype/db/v6/distribution"
	"github.com/anchore/grype/grype/db/v6/installation"
	"github.com/anchore/grype/grype/distro"
	"github.com/anchore/grype/grype/search"

	"github.com/hardenkit/hardenkit/frontend/evidence/vuln/vulndbtest"
)

// TestGrypeLoadsDatabase opens a written database the way the grype CLI
// does (its curator, with checksum validation, without updating) and
// searches it.
func TestGrypeLoadsDatabase(t *testing.T) {
	root := t.TempDir()
	err := vulndbtest.Write(filepath.Join(root, "6"), vulndbtest.Vulnerability{
		ID: "CVE-2099-0001", Severity: "high", Distro: "debian", DistroVersion: "12", Package: "apt", Ecosystem: "deb", FixedIn: "2.6.2",
	})
	if err != nil {
		t.Fatalf("Write() = %v", err)
	}
	provider, status, err := grype.LoadVulnerabilityDB(distribution.DefaultConfig(),
		installation.Config{DBRootDir: root, ValidateChecksum: true}, false)
	if err != nil {
		t.Fatalf("LoadVulnerabilityDB() = %v", err)
	}
	defer provider.Close()
	if status.Error != nil || status.SchemaVersion != "v6.1.10" {
		t.Errorf("status = %+v, want schema v%d.%d.%d", status, v6.ModelVersion, v6.Revision, v6.Addition)
	}
	vulns, err := provider.FindVulnerabilities(search.ByPackageName("apt"), search.ByDistro(*distro.New(distro.Debian, "12.12", "")))
	if err != nil {
		t.Fatal(err)
	}
	if len(vulns) != 1 {
		t.Fatalf("FindVulnerabilities(apt, debian 12) = %+v", vulns)
	}
	if vulns[0].ID != "CVE-2099-0001" || vulns[0].Fix.Versions[0] != "2.6.2" || vulns[0].Constraint.String() != "< 2.6.2 (deb)" {
		t.Errorf("FindVulnerabilities(apt) = %+v", vulns)
	}
	meta, err := provider.VulnerabilityMetadata(vulns[0].Reference) //nolint:staticcheck // the severity grype's --fail-on reads
	if err != nil || meta.Severity != "High" {
		t.Errorf("metadata = %+v, %v", meta, err)
	}
}
