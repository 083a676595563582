// Package rootfs is a read-only model of a container root filesystem: the
// entries of one snapshot, loaded once through a Source, then queried
// without further I/O. File contents stay behind the Source and are read on
// demand, in ranges, so that analysing a large image does not mean copying
// it.
//
// Paths are absolute and slash-separated, as seen from inside the image.
// Symlinks are resolved within the tree, the way the kernel resolves them
// for a process chrooted into it: an absolute target starts again at the
// tree's root and ".." never climbs above it.
package rootfs

import (
	"io/fs"
	"path"
	"strings"
)

// Entry is one file, directory, symlink or special file of a root
// filesystem, with the metadata BuildKit's fsutil reports for it.
type Entry struct {
	// Path is absolute and cleaned ("/usr/bin/env").
	Path string
	// Mode holds the permission bits and the Go fs.FileMode type and
	// special bits (ModeDir, ModeSymlink, ModeSetuid, ModeSetgid,
	// ModeSticky, ModeDevice, …).
	Mode fs.FileMode
	// UID and GID own the entry.
	UID, GID uint32
	// Size is the file size in bytes; for a hard link it is the size of
	// the shared content, never 0 as fsutil reports it.
	Size int64
	// ModTime is the modification time in Unix nanoseconds.
	ModTime int64
	// Linkname is the target of a symlink as stored in the link. For a
	// regular file it is the absolute path of an earlier entry in the same
	// directory that shares the file's inode: fsutil reports hard links
	// only within one directory listing, so links across directories show
	// up as independent files with equal content.
	Linkname string
	// Xattrs are the extended attributes (security.capability, …).
	Xattrs map[string][]byte
}

// IsDir reports whether e is a directory.
func (e Entry) IsDir() bool { return e.Mode.IsDir() }

// IsSymlink reports whether e is a symbolic link.
func (e Entry) IsSymlink() bool { return e.Mode&fs.ModeSymlink != 0 }

// IsRegular reports whether e is a regular file (hard links included).
func (e Entry) IsRegular() bool { return e.Mode.IsRegular() }

// IsHardlink reports whether e is a regular file that fsutil reported as a
// hard link to Linkname.
func (e Entry) IsHardlink() bool { return e.IsRegular() && e.Linkname != "" }

// IsExecutable reports whether any execute bit is set.
func (e Entry) IsExecutable() bool { return e.Mode.Perm()&0o111 != 0 }

// Clean turns p into the absolute, cleaned form Entry.Path uses. It is
// lexical: callers that must honour symlinks use Tree.Resolve.
func Clean(p string) string {
	return path.Clean("/" + p)
}

// IsUnder reports whether p is dir itself or lies below it. Both must be
// clean absolute paths.
func IsUnder(p, dir string) bool {
	if dir == "/" || p == dir {
		return true
	}
	return strings.HasPrefix(p, dir+"/")
}

// Parents returns the ancestors of the clean absolute path p, nearest the
// root first, without "/" itself.
func Parents(p string) []string {
	var out []string
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		out = append(out, d)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
