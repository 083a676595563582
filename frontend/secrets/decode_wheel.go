package secrets

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"path"
	"strings"
)

// Archives that vouch for their members. A Python wheel (PEP 427) is a
// zip whose NAME-VERSION.dist-info/RECORD lists the SHA-256 of every
// member — the same RECORD pip installs next to the files, which
// package verification (pkgdigest.go) already trusts on disk. A wheel
// cache (pip wheel -w, Debian's /usr/share/python-wheels) is the same
// distribution content as the installed package, so a member whose bytes
// match its RECORD line is scanned as a package-verified file is: with
// the high-confidence detectors only, not decoded further. setuptools'
// wheel holds "RegEnumKey = win32api.RegEnumKey", which gitleaks'
// generic-api-key reads as a key.
//
// What stays found: any token with a fixed prefix, a checksum or a
// structure (private keys) in any member; and everything in a member the
// RECORD does not list or whose bytes differ from it — a secret added to
// a wheel after it was built. As with an installed package, whoever
// builds the wheel writes its RECORD: a secret of the low-confidence
// kind ("password = hunter2…") in the user's own wheel is vouched for by
// that wheel, as it is once pip installs it.

// wheelRecord returns the digests the RECORD of the wheel zr gives its
// members, by member name; nil when zr is not a wheel: one top-level
// *.dist-info directory with a RECORD and a METADATA.
func wheelRecord(zr *zip.Reader) map[string][]byte {
	var record *zip.File
	metadata := false
	for _, f := range zr.File {
		dir, base := path.Split(f.Name)
		if strings.Count(f.Name, "/") != 1 || !strings.HasSuffix(dir, ".dist-info/") {
			continue
		}
		switch base {
		case "RECORD":
			if record != nil {
				return nil
			}
			record = f
		case "METADATA":
			metadata = true
		}
	}
	if record == nil || !metadata || record.UncompressedSize64 > maxDatabaseFile {
		return nil
	}
	rc, err := record.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	dt, err := io.ReadAll(io.LimitReader(rc, maxDatabaseFile))
	if err != nil {
		return nil
	}
	return recordDigests(dt)
}

// scanRecorded scans the member f of a wheel, named name, whose RECORD
// gives it the SHA-256 sum: as package-verified content when its bytes
// match, as any member otherwise.
func (s *Scanner) scanRecorded(ctx context.Context, name string, f *zip.File, sum []byte, o decoding) []hit {
	rc, err := f.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	dt, err := io.ReadAll(io.LimitReader(rc, maxMember))
	if err != nil || !o.st.take(len(dt)) {
		return nil
	}
	if got := sha256.Sum256(dt); bytes.Equal(got[:], sum) {
		o.verified, o.low = true, false
	}
	return s.scanNested(ctx, name, dt, o)
}
