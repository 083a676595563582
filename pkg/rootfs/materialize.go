package rootfs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Materialize writes t's directories, regular files and symlinks below dir,
// reading contents from src, so tools that need a real directory (an SBOM
// cataloger) can read the filesystem. Ownership is not reproduced (it would
// need root); modes are, without setuid/setgid/sticky bits. Device nodes,
// fifos and sockets are skipped: they carry no content. A hard link is
// written as a copy of its target.
func Materialize(ctx context.Context, t *Tree, src Source, dir string) error {
	root, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	local := func(p string) (string, error) {
		l := filepath.Join(root, filepath.FromSlash(Clean(p)))
		if l != root && !strings.HasPrefix(l, root+string(filepath.Separator)) {
			return "", fmt.Errorf("path %s escapes %s", p, root)
		}
		return l, nil
	}
	// Directories and symlinks first, in path order, so parents exist.
	var files []Entry
	for _, e := range t.Entries() {
		if e.Path == "/" {
			continue
		}
		l, err := local(e.Path)
		if err != nil {
			return err
		}
		switch {
		case e.IsDir():
			if err := os.MkdirAll(l, 0o755); err != nil {
				return fmt.Errorf("materializing %s: %w", e.Path, err)
			}
		case e.IsSymlink():
			if err := os.MkdirAll(filepath.Dir(l), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(e.Linkname, l); err != nil {
				return fmt.Errorf("materializing symlink %s: %w", e.Path, err)
			}
		case e.IsRegular():
			files = append(files, e)
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(LoadParallelism)
	for _, e := range files {
		g.Go(func() error {
			l, err := local(e.Path)
			if err != nil {
				return err
			}
			from := e.Path
			if e.IsHardlink() {
				from = e.Linkname
			}
			f, err := os.OpenFile(l, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, e.Mode.Perm()|0o200)
			if err != nil {
				return fmt.Errorf("materializing %s: %w", e.Path, err)
			}
			if _, err := io.Copy(f, NewReader(ctx, src, from)); err != nil {
				f.Close()
				return fmt.Errorf("materializing %s: %w", e.Path, err)
			}
			return f.Close()
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// Directory modes last: a read-only directory could not be filled.
	for _, e := range t.Entries() {
		if e.IsDir() && e.Path != "/" {
			l, _ := local(e.Path)
			if err := os.Chmod(l, e.Mode.Perm()|0o700); err != nil {
				return fmt.Errorf("materializing %s: %w", e.Path, err)
			}
		}
	}
	return nil
}
