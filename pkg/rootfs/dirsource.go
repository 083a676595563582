package rootfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// DirSource returns a Source for the root filesystem in the local
// directory root: a test fixture, or the candidate rootfs mounted into the
// in-build scanner. Metadata is read with lstat and reported the way
// BuildKit's fsutil reports it, so a tree loaded from a directory equals
// one loaded over the gateway from the same files.
func DirSource(root string) Source {
	return dirSource{root: filepath.Clean(root)}
}

type dirSource struct {
	root string
}

func (d dirSource) host(p string) string {
	return filepath.Join(d.root, filepath.FromSlash(p))
}

// resolve confines p to the root the way a chroot would, so a symlink in
// the image can never make the scanner read the host's files.
func (d dirSource) resolve(p string, followLast bool) (string, error) {
	var lerr error
	res, ok := resolve(p, followLast, func(q string) (Entry, bool) {
		fi, err := os.Lstat(d.host(q))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				lerr = err
			}
			return Entry{}, false
		}
		e := Entry{Path: q, Mode: fi.Mode()}
		if e.IsSymlink() {
			if e.Linkname, err = os.Readlink(d.host(q)); err != nil {
				lerr = err
				return Entry{}, false
			}
		}
		return e, true
	})
	if lerr != nil {
		return "", lerr
	}
	if !ok {
		return "", &fs.PathError{Op: "resolve", Path: p, Err: fs.ErrNotExist}
	}
	return res.Path, nil
}

func (d dirSource) ReadDir(ctx context.Context, dir string) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	phys, err := d.resolve(dir, true)
	if err != nil {
		return nil, err
	}
	des, err := os.ReadDir(d.host(phys))
	if err != nil {
		return nil, err
	}
	// fsutil names the first directory entry of an inode as the hard-link
	// target of the later ones; os.ReadDir sorts by name as its walk does.
	firstByInode := map[uint64]string{}
	out := make([]Entry, 0, len(des))
	for _, de := range des {
		p := path.Join(dir, de.Name())
		hp := d.host(path.Join(phys, de.Name()))
		fi, err := os.Lstat(hp)
		if err != nil {
			return nil, err
		}
		e := Entry{
			Path:    p,
			Mode:    fi.Mode() &^ fs.ModeSocket,
			ModTime: fi.ModTime().UnixNano(),
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			e.UID, e.GID = st.Uid, st.Gid
			if fi.Mode().IsRegular() && st.Nlink > 1 {
				if first, seen := firstByInode[st.Ino]; seen {
					e.Linkname = first
				} else {
					firstByInode[st.Ino] = p
				}
			}
		}
		if !fi.IsDir() {
			e.Size = fi.Size()
		}
		if e.IsSymlink() {
			if e.Linkname, err = os.Readlink(hp); err != nil {
				return nil, err
			}
		}
		if e.Xattrs, err = readXattrs(hp); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (d dirSource) ReadFile(ctx context.Context, p string, offset, length int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("reading %s: negative offset %d", p, offset)
	}
	phys, err := d.resolve(p, true)
	if err != nil {
		return nil, err
	}
	// O_NONBLOCK keeps a fifo planted in the image from hanging the open;
	// the regular-file check below then refuses it.
	f, err := os.OpenFile(d.host(phys), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("not a regular file")}
	}
	if offset >= fi.Size() {
		return []byte{}, nil
	}
	n := fi.Size() - offset
	if length > 0 && length < n {
		n = length
	}
	buf := make([]byte, n)
	m, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:m], nil
}

// readXattrs reads the extended attributes of hp without following a
// symlink. Filesystems without xattr support report none.
func readXattrs(hp string) (map[string][]byte, error) {
	sz, err := unix.Llistxattr(hp, nil)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing xattrs of %s: %w", hp, err)
	}
	if sz == 0 {
		return nil, nil
	}
	buf := make([]byte, sz)
	sz, err = unix.Llistxattr(hp, buf)
	if err != nil {
		return nil, fmt.Errorf("listing xattrs of %s: %w", hp, err)
	}
	var out map[string][]byte
	for _, name := range bytes.Split(buf[:sz], []byte{0}) {
		if len(name) == 0 {
			continue
		}
		key := string(name)
		vsz, err := unix.Lgetxattr(hp, key, nil)
		if err != nil {
			// The attribute may vanish or be unreadable (ENODATA); fsutil
			// skips those as well.
			continue
		}
		val := make([]byte, vsz)
		vsz, err = unix.Lgetxattr(hp, key, val)
		if err != nil {
			continue
		}
		if out == nil {
			out = map[string][]byte{}
		}
		out[key] = val[:vsz]
	}
	return out, nil
}
