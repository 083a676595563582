package secrets

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/hardenkit/hardenkit/llb/rootfs"
)

// ScanTree scans every regular file of an image's root filesystem t,
// reading contents through src, with at most Options.Parallelism files in
// flight. Findings are at "file:PATH", sorted by path. Files larger than
// the size limit are not read and are returned in unscanned, by path;
// allow-listed paths are neither scanned nor listed. Symlinks, devices
// and other special files have no content to scan; a hard link is scanned
// once, under the first name the tree records for it.
//
// Any read error fails the whole scan: a file that could not be read is
// not a file without secrets.
func (s *Scanner) ScanTree(ctx context.Context, t *rootfs.Tree, src rootfs.Source) (findings []Finding, unscanned []string, err error) {
	return s.scanTree(ctx, t, src, func(p string) string { return WhereFile + p })
}

// ScanContext is ScanTree for a build context loaded as a tree: the files
// COPY and ADD can bring in, so that a key that only a builder stage
// copies is still reported. Findings are at "context:REL", REL being the
// path relative to the context root; unscanned paths are relative too.
func (s *Scanner) ScanContext(ctx context.Context, t *rootfs.Tree, src rootfs.Source) (findings []Finding, unscanned []string, err error) {
	rel := func(p string) string { return strings.TrimPrefix(p, "/") }
	f, u, err := s.scanTree(ctx, t, src, func(p string) string { return WhereContext + rel(p) })
	for i := range u {
		u[i] = rel(u[i])
	}
	return f, u, err
}

func (s *Scanner) scanTree(ctx context.Context, t *rootfs.Tree, src rootfs.Source, where func(string) string) ([]Finding, []string, error) {
	var files []rootfs.Entry
	var unscanned []string
	for _, e := range t.Entries() {
		if !e.IsRegular() || e.Size == 0 || s.pathAllowed(e.Path) {
			continue
		}
		if e.IsHardlink() && !s.pathAllowed(e.Linkname) {
			continue
		}
		if e.Size > s.maxFileSize {
			unscanned = append(unscanned, e.Path)
			continue
		}
		files = append(files, e)
	}
	results := make([][]Finding, len(files))
	tooBig := make([]bool, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.parallelism)
	for i, e := range files {
		g.Go(func() error {
			// One byte more than the limit tells a file that grew since
			// it was listed from one that is exactly at the limit.
			dt, err := src.ReadFile(gctx, e.Path, 0, s.maxFileSize+1)
			if err != nil {
				return fmt.Errorf("reading %s: %w", e.Path, err)
			}
			if int64(len(dt)) > s.maxFileSize {
				tooBig[i] = true
				return nil
			}
			results[i] = s.scan(gctx, where(e.Path), dt)
			// gitleaks stops early and quietly when its context ends: a
			// partial result must not pass for a complete one.
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, fmt.Errorf("scanning for secrets: %w", err)
	}
	var out []Finding
	for i, r := range results {
		out = append(out, r...)
		if tooBig[i] {
			unscanned = append(unscanned, files[i].Path)
		}
	}
	slices.Sort(unscanned)
	return out, unscanned, nil
}
