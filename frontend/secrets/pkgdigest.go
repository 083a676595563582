package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Package databases that record a digest of every file they install. A
// file whose bytes still match is public distribution content — Node's
// V8 headers, Python's setuptools, Java's java.security, Ruby's
// uri/generic.rb — and gitleaks' low-confidence rules, which see a key in
// every "key = <random-looking word>", are not run on it. A modified
// package file, or one no package owns, is scanned in full. The database
// could be forged by whoever writes the image; that only takes the
// low-confidence rules off the forged files, never the high-confidence
// ones (fixed prefixes, checksummed formats, private keys).
const (
	dpkgInfoDir    = "/var/lib/dpkg/info"
	dpkgStatusDDir = "/var/lib/dpkg/status.d"
	dpkgStatusFile = "/var/lib/dpkg/status"
	// maxDatabaseFile bounds one md5sums or RECORD file read whole.
	maxDatabaseFile = 64 << 20
)

// packageDigests returns, per regular file of t (by its path in the
// tree, symlinks of the recorded path resolved), the digest a package
// database recorded: dpkg's info/*.md5sums (and distroless'
// status.d/*.md5sums), the Conffiles of dpkg's status (configuration
// files, which md5sums leaves out) and Python's *.dist-info/RECORD.
func packageDigests(ctx context.Context, t *rootfs.Tree, src rootfs.Source) (map[string]*pkgDigest, error) {
	out := map[string]*pkgDigest{}
	add := func(recorded string, d *pkgDigest) {
		p, ok := t.Resolve(rootfs.Clean(recorded))
		if !ok {
			return
		}
		if e, ok := t.Lookup(p); ok && e.IsRegular() {
			out[p] = d
		}
	}
	for _, dir := range []string{dpkgInfoDir, dpkgStatusDDir} {
		for _, e := range t.Children(dir) {
			if !e.IsRegular() || !strings.HasSuffix(e.Path, ".md5sums") {
				continue
			}
			dt, err := readDatabase(ctx, src, e)
			if err != nil {
				return nil, err
			}
			for _, line := range strings.Split(string(dt), "\n") {
				sum, p, ok := strings.Cut(line, "  ")
				if !ok || len(sum) != 32 {
					continue
				}
				b, err := hex.DecodeString(sum)
				if err != nil {
					continue
				}
				add("/"+p, &pkgDigest{md5: true, sum: b, source: e.Path})
			}
		}
	}
	// Configuration files are not in md5sums: dpkg records their digests
	// in the status database's Conffiles fields (" /etc/x <md5>").
	if e, ok := t.Lookup(dpkgStatusFile); ok && e.IsRegular() {
		dt, err := readDatabase(ctx, src, e)
		if err != nil {
			return nil, err
		}
		in := false
		for _, line := range strings.Split(string(dt), "\n") {
			switch {
			case strings.HasPrefix(line, "Conffiles:"):
				in = true
			case in && strings.HasPrefix(line, " "):
				f := strings.Fields(line)
				if len(f) >= 2 && len(f[1]) == 32 {
					if b, err := hex.DecodeString(f[1]); err == nil {
						add(f[0], &pkgDigest{md5: true, sum: b, source: e.Path})
					}
				}
			default:
				in = false
			}
		}
	}
	for _, e := range t.Entries() {
		if !e.IsRegular() || path.Base(e.Path) != "RECORD" || !strings.HasSuffix(path.Dir(e.Path), ".dist-info") {
			continue
		}
		dt, err := readDatabase(ctx, src, e)
		if err != nil {
			return nil, err
		}
		base := path.Dir(path.Dir(e.Path))
		for rel, sum := range recordDigests(dt) {
			add(path.Join(base, rel), &pkgDigest{sum: sum, source: e.Path})
		}
	}
	return out, nil
}

// recordDigests parses a Python RECORD (PEP 376/627: CSV of path,
// sha256=<urlsafe base64>, size): the SHA-256 of each path it lists,
// relative to the directory holding the .dist-info. A malformed RECORD
// vouches for nothing past its first bad line.
func recordDigests(dt []byte) map[string][]byte {
	out := map[string][]byte{}
	r := csv.NewReader(bytes.NewReader(dt))
	r.FieldsPerRecord = -1
	for {
		rec, err := r.Read()
		if err != nil {
			return out
		}
		if len(rec) < 2 {
			continue
		}
		sum, ok := strings.CutPrefix(rec[1], "sha256=")
		if !ok {
			continue
		}
		if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(sum, "=")); err == nil && len(b) == 32 {
			out[rec[0]] = b
		}
	}
}

// readDatabase reads a package database file whole.
func readDatabase(ctx context.Context, src rootfs.Source, e rootfs.Entry) ([]byte, error) {
	if e.Size > maxDatabaseFile {
		return nil, fmt.Errorf("%s: %d bytes, more than a package database file holds", e.Path, e.Size)
	}
	dt, err := src.ReadFile(ctx, e.Path, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", e.Path, err)
	}
	return dt, nil
}
