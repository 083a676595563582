package rootfs

import (
	"context"
	"fmt"
	"path"

	"golang.org/x/sync/errgroup"
)

// LoadParallelism is how many directories Load lists at once. It bounds
// the number of concurrent gateway ReadDir calls a build makes.
const LoadParallelism = 8

// Source gives access to a root filesystem. Implementations must be safe
// for concurrent use.
type Source interface {
	// ReadDir returns the entries directly inside dir (one level, like
	// BuildKit's gateway ReadDir), with absolute Paths. dir is an absolute
	// path inside the root filesystem.
	ReadDir(ctx context.Context, dir string) ([]Entry, error)
	// ReadFile returns up to length bytes of p starting at offset; with
	// length <= 0 it returns the rest of the file. A read that starts at or
	// past the end returns no bytes and no error. Symlinks in p are
	// resolved within the root filesystem.
	ReadFile(ctx context.Context, p string, offset, length int64) ([]byte, error)
}

// Load lists the whole root filesystem of src, directory by directory,
// with up to LoadParallelism listings in flight. Symlinks to directories
// are recorded, not descended into, so the result has one entry per
// filesystem object and does not depend on the order listings complete.
func Load(ctx context.Context, src Source) (*Tree, error) {
	var all []Entry
	level := []string{"/"}
	for len(level) > 0 {
		results := make([][]Entry, len(level))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(LoadParallelism)
		for i, dir := range level {
			g.Go(func() error {
				entries, err := src.ReadDir(gctx, dir)
				if err != nil {
					return fmt.Errorf("listing %s: %w", dir, err)
				}
				for j := range entries {
					e := &entries[j]
					e.Path = Clean(e.Path)
					// A source that reports anything but direct children
					// would make the tree lie about where files are.
					if e.Path == dir || path.Dir(e.Path) != dir {
						return fmt.Errorf("listing %s: entry %q is not a direct child", dir, e.Path)
					}
				}
				results[i] = entries
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		var next []string
		for _, entries := range results {
			for _, e := range entries {
				all = append(all, e)
				if e.IsDir() {
					next = append(next, e.Path)
				}
			}
		}
		level = next
	}
	return NewTree(all), nil
}
