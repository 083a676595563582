package vuln

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/afero"

	v6 "github.com/anchore/grype/grype/db/v6"
	"github.com/anchore/grype/grype/vulnerability"
)

// openedDB is a database opened for matching.
type openedDB struct {
	provider vulnerability.Provider
	info     DBInfo
}

// openDB opens the database in dir read-only after checking that it is
// usable: present, a v6 database, intact (its checksum matches
// import.json) and no older than maxAge at now. The error says why a
// database is not usable.
//
// grype's installation.curator is deliberately not used: its Reader
// re-hydrates (writes to) a database imported by an older client, and its
// age check reads the wall clock.
func openDB(dir string, now time.Time, maxAge time.Duration) (*openedDB, error) {
	if dir == "" {
		return nil, errors.New("no vulnerability database configured")
	}
	dbDir, err := locateDB(dir)
	if err != nil {
		return nil, err
	}
	dbFile := filepath.Join(dbDir, v6.VulnerabilityDBFileName)
	desc, err := v6.ReadDescription(dbFile)
	if err != nil {
		return nil, fmt.Errorf("reading vulnerability database %s: %w", dbFile, err)
	}
	if desc.SchemaVersion.Model != v6.ModelVersion {
		return nil, fmt.Errorf("vulnerability database %s has schema %s, want v%d", dbFile, desc.SchemaVersion, v6.ModelVersion)
	}

	fs := afero.NewOsFs()
	meta, err := v6.ReadImportMetadata(fs, dbDir)
	if err != nil {
		return nil, fmt.Errorf("vulnerability database %s has no valid import metadata (import it with `grype db import`): %w", dbDir, err)
	}
	sum, err := v6.CalculateDBDigest(fs, dbFile)
	if err != nil {
		return nil, fmt.Errorf("checking vulnerability database %s: %w", dbFile, err)
	}
	if sum != meta.Digest {
		return nil, fmt.Errorf("vulnerability database %s is corrupt: checksum %s, import.json says %s", dbFile, sum, meta.Digest)
	}

	built := desc.Built.UTC()
	if maxAge > 0 {
		if age := now.Sub(built); age > maxAge {
			return nil, fmt.Errorf("vulnerability database built %s is %s old, older than the policy's maximum of %s",
				built.Format(time.RFC3339), age.Round(time.Minute), maxAge)
		}
	}

	rdr, err := v6.NewReader(v6.Config{DBDirPath: dbDir})
	if err != nil {
		return nil, fmt.Errorf("opening vulnerability database %s: %w", dbFile, err)
	}
	return &openedDB{
		provider: v6.NewVulnerabilityProvider(rdr),
		info:     DBInfo{Built: built, Schema: desc.SchemaVersion.String(), Checksum: meta.Digest},
	}, nil
}

// locateDB returns the directory holding vulnerability.db: dir itself, or
// dir/6 when dir is grype's cache root ($XDG_CACHE_HOME/grype/db).
func locateDB(dir string) (string, error) {
	for _, d := range []string{dir, filepath.Join(dir, strconv.Itoa(v6.ModelVersion))} {
		fi, err := os.Stat(filepath.Join(d, v6.VulnerabilityDBFileName))
		if err == nil && fi.Mode().IsRegular() {
			return d, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("vulnerability database: %w", err)
		}
	}
	return "", fmt.Errorf("no %s in %s", v6.VulnerabilityDBFileName, dir)
}
