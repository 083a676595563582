package secrets

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// chunkOverlap is how far each piece of a file read in pieces reaches
// into the previous one: more than the longest secret any detector
// finds (a private key body is capped at maxKeyBody), so that a secret
// cut by one boundary is whole in the next piece.
const chunkOverlap = 2 * maxKeyBody

// TreeResult is what a tree scan found and what it did.
type TreeResult struct {
	// Findings are sorted by place.
	Findings []Finding
	// Unscanned are files that could not be scanned whole, by path: a
	// scan reads every file, in pieces when it is large, and fails on a
	// read error, so these are the files whose decoding budget ran out
	// (budget.go) before everything encoded or compressed in them was
	// opened. The inspection reports HK3052 not-evaluated for them.
	Unscanned []string
	// Stats count what was scanned and how.
	Stats TreeStats
}

// TreeStats count what a tree scan read and which detectors it ran, so
// that a reviewer can audit what the scanner trusted.
type TreeStats struct {
	// Files are the regular files scanned (hard links once).
	Files int `json:"files"`
	// Bytes is their total size.
	Bytes int64 `json:"bytes"`
	// Binary are the files scanned as binaries: their printable strings,
	// with the high-confidence detectors only.
	Binary int `json:"binary"`
	// PackageVerified are the files whose bytes match the digest a
	// package database recorded for them (dpkg md5sums, Python RECORD):
	// public distribution content, scanned with the high-confidence
	// detectors only.
	PackageVerified int `json:"packageVerified"`
	// Chunked are the files larger than the read size, scanned in
	// overlapping pieces.
	Chunked int `json:"chunked"`
	// Names are the entries (files, directories, symlinks) whose name
	// and symlink target were scanned as text.
	Names int `json:"names"`
	// AllowListed are the entries the policy's allowPaths exclude.
	AllowListed int `json:"allowListed"`
	// Decoded counts, per decoder ("base64", "gzip", "zip", …), the
	// payloads opened: segments that decoded to text, streams that
	// decompressed, archives that listed.
	Decoded map[string]int `json:"decoded,omitempty"`
	// BudgetExhausted are the files whose decoding budget ran out: they
	// are in Unscanned.
	BudgetExhausted int `json:"budgetExhausted,omitempty"`
}

// ScanTree scans an image's root filesystem t, reading contents through
// src, with at most Options.Parallelism files in flight: the content of
// every regular file, every entry's name and symlink target, and the
// structure of git object stores (RuleGitStore). Findings are at
// "file:PATH", sorted by path. Files larger than the read size
// (Options.MaxFileSize) are read in overlapping pieces; allow-listed
// paths are neither scanned nor counted as findings. A hard link is
// scanned once, under the first name the tree records for it.
//
// Any read error fails the whole scan: a file that could not be read is
// not a file without secrets.
func (s *Scanner) ScanTree(ctx context.Context, t *rootfs.Tree, src rootfs.Source) (TreeResult, error) {
	res, err := s.scanTree(ctx, t, src, func(p string) string { return WhereFile + p })
	if err != nil {
		return TreeResult{}, err
	}
	for _, st := range gitStores(t) {
		if !s.pathAllowed(st) {
			res.Findings = append(res.Findings, s.findings(WhereFile+st, []hit{{rule: RuleGitStore, fingerprint: Fingerprint(st)}})...)
		}
	}
	sortFindings(res.Findings)
	return res, nil
}

// ScanContext is ScanTree for a build context loaded as a tree: the files
// COPY, ADD and RUN bind mounts can bring in, so that a key that only a
// builder stage uses is still reported. Findings are at "context:REL",
// REL being the path relative to the context root; unscanned paths are
// relative too. A git store in the context is not a finding: most
// contexts are repositories, and the image check catches one that ships.
func (s *Scanner) ScanContext(ctx context.Context, t *rootfs.Tree, src rootfs.Source) (TreeResult, error) {
	rel := func(p string) string { return strings.TrimPrefix(p, "/") }
	res, err := s.scanTree(ctx, t, src, func(p string) string { return WhereContext + rel(p) })
	for i := range res.Unscanned {
		res.Unscanned[i] = rel(res.Unscanned[i])
	}
	return res, err
}

func (s *Scanner) scanTree(ctx context.Context, t *rootfs.Tree, src rootfs.Source, where func(string) string) (TreeResult, error) {
	var res TreeResult
	digests, err := packageDigests(ctx, t, src)
	if err != nil {
		return TreeResult{}, fmt.Errorf("scanning for secrets: reading the package databases: %w", err)
	}
	var files, named []rootfs.Entry
	for _, e := range t.Entries() {
		if s.pathAllowed(e.Path) {
			res.Stats.AllowListed++
			continue
		}
		named = append(named, e)
		if !e.IsRegular() || e.Size == 0 {
			continue
		}
		if e.IsHardlink() && !s.pathAllowed(e.Linkname) {
			continue
		}
		files = append(files, e)
		res.Stats.Files++
		res.Stats.Bytes += e.Size
	}
	results := make([][]Finding, len(files))
	hows := make([]scanned, len(files))
	var binary, verified, chunked atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.parallelism)
	for i, e := range files {
		g.Go(func() error {
			fs, how, err := s.scanEntry(gctx, e, src, where(e.Path), digests[e.Path])
			if err != nil {
				return err
			}
			results[i], hows[i] = fs, how
			if how.binary {
				binary.Add(1)
			}
			if how.verified {
				verified.Add(1)
			}
			if how.chunked {
				chunked.Add(1)
			}
			// gitleaks stops early and quietly when its context ends: a
			// partial result must not pass for a complete one.
			return gctx.Err()
		})
	}
	g.Go(func() error {
		res.Findings = append(res.Findings, s.scanNames(gctx, named, where)...)
		res.Stats.Names = len(named)
		return gctx.Err()
	})
	if err := g.Wait(); err != nil {
		return TreeResult{}, fmt.Errorf("scanning for secrets: %w", err)
	}
	for _, r := range results {
		res.Findings = append(res.Findings, r...)
	}
	res.Unscanned, res.Stats.Decoded, res.Stats.BudgetExhausted = decodeStats(files, hows)
	res.Stats.Binary, res.Stats.PackageVerified, res.Stats.Chunked = int(binary.Load()), int(verified.Load()), int(chunked.Load())
	sortFindings(res.Findings)
	res.Findings = slices.Compact(res.Findings)
	return res, nil
}

// scanned says how a file was scanned, and what its decoding opened.
type scanned struct {
	binary, verified, chunked, code, exhausted bool
	opened                                     [numDecoders]int
}

// decodeStats sums what the decoding of files opened, by decoder name,
// and lists the files whose budget ran out.
func decodeStats(files []rootfs.Entry, hows []scanned) ([]string, map[string]int, int) {
	var unscanned []string
	var opened map[string]int
	for i, h := range hows {
		if h.exhausted {
			unscanned = append(unscanned, files[i].Path)
		}
		for d, n := range h.opened {
			if n > 0 {
				if opened == nil {
					opened = map[string]int{}
				}
				opened[decoderNames[d]] += n
			}
		}
	}
	slices.Sort(unscanned)
	return unscanned, opened, len(unscanned)
}

// scanEntry reads and scans one file, in pieces of the read size when it
// is larger. A file whose bytes match its package digest is scanned with
// the high-confidence detectors only.
func (s *Scanner) scanEntry(ctx context.Context, e rootfs.Entry, src rootfs.Source, where string, d *pkgDigest) (_ []Finding, how scanned, _ error) {
	var out []Finding
	size := s.maxFileSize
	line := 0
	st := newDecodeState(e.Size)
	// Streams and archives that start in a piece are read to their end
	// through the file; a read error there fails the scan as any other.
	file := &errReaderAt{r: rootfs.ReaderAt(ctx, src, e.Path, e.Size)}
	defer func() { how.exhausted, how.opened = st.exhausted, st.opened }()
	for off := int64(0); ; {
		dt, err := src.ReadFile(ctx, e.Path, off, size)
		if err != nil {
			return nil, how, fmt.Errorf("reading %s: %w", e.Path, err)
		}
		if off == 0 {
			how.binary = isBinary(dt)
			how.chunked = int64(len(dt)) == size
			how.verified = !how.chunked && d.matches(dt)
			how.code = packedLiterals(dt) || e.Mode&0o111 != 0
		}
		fo := fileOpts{binary: how.binary, low: !how.binary && !how.verified, verified: how.verified, code: how.code,
			lineBase: line, dec: st, file: file, size: e.Size, off: off}
		out = append(out, s.findings(where, s.scanFile(ctx, e.Path, dt, fo))...)
		if file.err != nil {
			return nil, how, fmt.Errorf("reading %s: %w", e.Path, file.err)
		}
		if int64(len(dt)) < size {
			return out, how, nil
		}
		next := int64(len(dt)) - chunkOverlap
		if !how.binary {
			line += strings.Count(string(dt[:next]), "\n")
		}
		off += next
	}
}

// errReaderAt keeps the first read error of r other than io.EOF, which
// the decoders would take for a corrupt stream.
type errReaderAt struct {
	r   io.ReaderAt
	err error
}

func (e *errReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.r.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

// scanNames scans the names of entries — base names and symlink targets
// — as text with the high-confidence detectors: a token can be a file
// name. A finding is at the entry whose base name or target holds it,
// with the secret in the path masked by '*'.
func (s *Scanner) scanNames(ctx context.Context, es []rootfs.Entry, where func(string) string) []Finding {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(path.Base(e.Path))
		if e.IsSymlink() {
			b.WriteString(" ")
			b.WriteString(e.Linkname)
		}
		b.WriteByte('\n')
	}
	text := b.String()
	hits := append(s.gitleaks.scan(ctx, "", text, true, nil, false), privateKeys(text, true)...)
	var out []Finding
	for _, h := range hits {
		if h.line < 1 || h.line > len(es) {
			continue
		}
		e := es[h.line-1]
		// The path holds the secret: it is reported with the secret
		// masked, never as it is.
		p := e.Path
		if h.value != "" {
			p = strings.ReplaceAll(p, h.value, strings.Repeat("*", len(h.value)))
		}
		h.line = 0
		out = append(out, s.findings(where(p), []hit{h})...)
	}
	return out
}

// gitStores returns the directories of t that are git object stores by
// structure — a HEAD file, an objects directory and a refs directory —
// whatever their name ("src.git", a bare clone, a renamed .git).
func gitStores(t *rootfs.Tree) []string {
	var out []string
	for _, e := range t.Entries() {
		if !e.IsDir() {
			continue
		}
		head, ok1 := t.Lookup(path.Join(e.Path, "HEAD"))
		objects, ok2 := t.Lookup(path.Join(e.Path, "objects"))
		refs, ok3 := t.Lookup(path.Join(e.Path, "refs"))
		if ok1 && ok2 && ok3 && head.IsRegular() && objects.IsDir() && refs.IsDir() {
			out = append(out, e.Path)
		}
	}
	return out
}

// pkgDigest is the digest a package database recorded for a file.
type pkgDigest struct {
	md5    bool // MD5 (dpkg) rather than SHA-256 (Python RECORD)
	sum    []byte
	source string
}

// matches reports whether dt is the content the database recorded.
func (d *pkgDigest) matches(dt []byte) bool {
	if d == nil {
		return false
	}
	if d.md5 {
		sum := md5.Sum(dt)
		return string(sum[:]) == string(d.sum)
	}
	sum := sha256.Sum256(dt)
	return string(sum[:]) == string(d.sum)
}
