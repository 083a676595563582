// Package vulndbtest writes small, real grype v6 vulnerability databases for
// tests: grype's own store writer creates the SQLite database exactly as its
// DB build does for OS advisories (one vulnerability handle per record, one
// affected-package handle per distro package with a dpkg/rpm/apk version
// range), then the directory is hydrated and given its import metadata as
// `grype db import` leaves it, so that grype — and the vuln package — read
// it like any downloaded database.
//
// It is a library for unit and integration tests and devenv fixtures; the
// frontend never links it.
package vulndbtest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/afero"

	v6 "github.com/anchore/grype/grype/db/v6"
)

// Vulnerability is one advisory for one distro package.
type Vulnerability struct {
	// ID is the advisory id, e.g. "CVE-2099-0001".
	ID string
	// Severity is the distro severity: negligible, low, medium, high or
	// critical.
	Severity string
	// Description is free text.
	Description string
	// Distro is the os-release ID ("debian") and DistroVersion its
	// VERSION_ID ("12").
	Distro, DistroVersion string
	// Package is the binary or source package name ("apt").
	Package string
	// Ecosystem is the package type grype matches on: "deb", "rpm" or
	// "apk".
	Ecosystem string
	// FixedIn is the first fixed version; empty means not fixed, so every
	// version is affected.
	FixedIn string
}

// Write creates a database holding vulns in dir (created if needed):
// dir/vulnerability.db and dir/import.json. The database's build time is
// the wall-clock time of the call, rounded to the second, because grype's
// writer stamps it so; read it back with grype's v6.ReadDescription.
func Write(dir string, vulns ...Vulnerability) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("vulndbtest: %w", err)
	}
	w, err := v6.NewWriter(v6.Config{DBDirPath: dir})
	if err != nil {
		return fmt.Errorf("vulndbtest: creating database: %w", err)
	}
	if err := populate(w, vulns); err != nil {
		return errors.Join(err, w.Close())
	}
	// Close drops the indexes and vacuums, as for a distributed database.
	if err := w.Close(); err != nil {
		return fmt.Errorf("vulndbtest: closing database: %w", err)
	}
	// What `grype db import` does after unpacking: create the indexes the
	// distributed file lacks, then record the file's checksum.
	if err := v6.Hydrater()(dir); err != nil {
		return fmt.Errorf("vulndbtest: hydrating database: %w", err)
	}
	if _, err := v6.WriteImportMetadata(afero.NewOsFs(), dir, "hardenkit vulndbtest"); err != nil {
		return fmt.Errorf("vulndbtest: writing import metadata: %w", err)
	}
	return nil
}

// populate adds one vulnerability handle and one affected-package handle
// per advisory, shaped like grype's OS advisory transformer makes them.
func populate(w v6.ReadWriter, vulns []Vulnerability) error {
	captured := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	providers := map[string]*v6.Provider{}
	for _, v := range vulns {
		p, ok := providers[v.Distro]
		if !ok {
			p = &v6.Provider{ID: v.Distro, Version: "1", Processor: "vunnel", DateCaptured: &captured, InputDigest: "sha256:" + strings.Repeat("0", 64)}
			providers[v.Distro] = p
		}
		vh := &v6.VulnerabilityHandle{
			Name:       v.ID,
			Status:     v6.VulnerabilityActive,
			ProviderID: p.ID,
			Provider:   p,
			BlobValue: &v6.VulnerabilityBlob{
				ID:          v.ID,
				Description: v.Description,
				Severities: []v6.Severity{{
					Scheme: v6.SeveritySchemeCHMLN,
					Value:  strings.ToLower(v.Severity),
					Rank:   1,
				}},
			},
		}
		// The store assigns vh.ID, which the package handle refers to.
		if err := w.AddVulnerabilities(vh); err != nil {
			return fmt.Errorf("vulndbtest: adding %s: %w", v.ID, err)
		}
		fix := &v6.Fix{State: v6.NotFixedStatus}
		constraint := ""
		if v.FixedIn != "" {
			fix = &v6.Fix{Version: v.FixedIn, State: v6.FixedStatus}
			constraint = "< " + v.FixedIn
		}
		aph := &v6.AffectedPackageHandle{
			VulnerabilityID: vh.ID,
			OperatingSystem: &v6.OperatingSystem{Name: v.Distro, ReleaseID: v.Distro, MajorVersion: v.DistroVersion},
			Package:         &v6.Package{Ecosystem: v.Ecosystem, Name: v.Package},
			BlobValue: &v6.PackageBlob{
				CVEs: []string{v.ID},
				Ranges: []v6.Range{{
					Version: v6.Version{Type: versionFormat(v.Ecosystem), Constraint: constraint},
					Fix:     fix,
				}},
			},
		}
		if err := w.AddAffectedPackages(aph); err != nil {
			return fmt.Errorf("vulndbtest: adding %s/%s: %w", v.ID, v.Package, err)
		}
	}
	return nil
}

func versionFormat(ecosystem string) string {
	switch ecosystem {
	case "deb":
		return "dpkg"
	case "rpm":
		return "rpm"
	case "apk":
		return "apk"
	}
	return ecosystem
}
