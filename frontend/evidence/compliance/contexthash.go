package compliance

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// hashParallelism bounds the files hashed at once: over the gateway each
// is a series of ReadFile calls.
const hashParallelism = 8

// HashContext returns the canonical tree (ContextDigest) of a build
// context: the frontend passes the context as the build used it (after
// .dockerignore), a verifier its checkout with skip answering its
// .dockerignore for a slash-separated relative path. Directories are not
// entries: what a build can copy are files and symlinks.
func HashContext(ctx context.Context, src rootfs.Source, skip func(rel string) bool) (ContextTree, error) {
	tree, err := rootfs.Load(ctx, src)
	if err != nil {
		return ContextTree{}, fmt.Errorf("listing the build context: %w", err)
	}
	var entries []rootfs.Entry
	for _, e := range tree.Entries() {
		rel := strings.TrimPrefix(e.Path, "/")
		if rel == "" || (!e.IsRegular() && !e.IsSymlink()) || (skip != nil && skip(rel)) {
			continue
		}
		entries = append(entries, e)
	}
	files := make([]ContextFile, len(entries))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(hashParallelism)
	for i, e := range entries {
		g.Go(func() error {
			f := ContextFile{Path: strings.TrimPrefix(e.Path, "/"), Mode: ContextMode(e.Mode)}
			if e.IsSymlink() {
				f.Digest = ContentDigest([]byte(e.Linkname))
			} else {
				sum, err := rootfs.SHA256(gctx, src, e.Path)
				if err != nil {
					return fmt.Errorf("build context: %w", err)
				}
				f.Digest = "sha256:" + sum
			}
			files[i] = f
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return ContextTree{}, err
	}
	return ContextDigest(files), nil
}
