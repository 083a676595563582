package rootfs

import (
	"io/fs"
	"path"
	"sort"
	"strings"
)

// MaxSymlinkHops is how many symlinks one resolution may follow, the
// kernel's MAXSYMLINKS: more than that is treated as a loop.
const MaxSymlinkHops = 40

// Tree is an immutable snapshot of a root filesystem's entries. It is safe
// for concurrent use.
type Tree struct {
	entries  map[string]Entry
	paths    []string            // sorted, "/" included
	children map[string][]string // directory → sorted child paths
}

// NewTree builds a tree from entries. Paths are cleaned; when two entries
// share a path the later one wins, as a later layer would. "/" is added as
// a 0755 directory when missing, because Load never reports the root
// itself. Entries are copied, so the caller may reuse the slice.
func NewTree(entries []Entry) *Tree {
	t := &Tree{
		entries:  make(map[string]Entry, len(entries)+1),
		children: map[string][]string{},
	}
	for _, e := range entries {
		e.Path = Clean(e.Path)
		t.entries[e.Path] = e
	}
	if _, ok := t.entries["/"]; !ok {
		t.entries["/"] = Entry{Path: "/", Mode: fs.ModeDir | 0o755}
	}
	t.paths = make([]string, 0, len(t.entries))
	for p := range t.entries {
		t.paths = append(t.paths, p)
	}
	sort.Strings(t.paths)
	for _, p := range t.paths {
		if p == "/" {
			continue
		}
		d := path.Dir(p)
		t.children[d] = append(t.children[d], p)
	}
	return t
}

// Len is the number of entries, "/" included.
func (t *Tree) Len() int { return len(t.paths) }

// Lookup returns the entry at p without following a final symlink (like
// lstat). p is cleaned lexically; intermediate symlinks are not followed,
// use Resolve for that.
func (t *Tree) Lookup(p string) (Entry, bool) {
	e, ok := t.entries[Clean(p)]
	return e, ok
}

// Paths returns every path in the tree, sorted, "/" first.
func (t *Tree) Paths() []string {
	return append([]string(nil), t.paths...)
}

// Entries returns every entry, sorted by path.
func (t *Tree) Entries() []Entry {
	out := make([]Entry, len(t.paths))
	for i, p := range t.paths {
		out[i] = t.entries[p]
	}
	return out
}

// Children returns the entries directly inside dir, sorted by path. dir is
// not resolved: a symlink to a directory has no children.
func (t *Tree) Children(dir string) []Entry {
	ps := t.children[Clean(dir)]
	out := make([]Entry, len(ps))
	for i, p := range ps {
		out[i] = t.entries[p]
	}
	return out
}

// Below returns every path strictly below dir, sorted. Paths sharing a
// prefix are contiguous in sorted order, so this is a binary search, not a
// scan.
func (t *Tree) Below(dir string) []string {
	dir = Clean(dir)
	prefix := dir + "/"
	if dir == "/" {
		prefix = "/"
	}
	i := sort.SearchStrings(t.paths, prefix)
	j := i
	for j < len(t.paths) && strings.HasPrefix(t.paths[j], prefix) {
		j++
	}
	return append([]string(nil), t.paths[i:j]...)
}

// Resolve follows symlinks in every component of p, the final one
// included, and returns the path of the entry reached. It fails when a
// component is missing, a non-final component is not a directory, or more
// than MaxSymlinkHops links are crossed.
func (t *Tree) Resolve(p string) (string, bool) {
	r, ok := t.ResolveLinks(p, true)
	return r.Path, ok
}

// Resolution is the outcome of resolving a path.
type Resolution struct {
	// Path is where resolution ended: an entry that exists in the tree.
	Path string
	// Links are the symlinks crossed, as tree paths, in the order they
	// were followed. Keeping a file reachable at the resolved path means
	// keeping every one of them too.
	Links []string
}

// ResolveLinks resolves p like Resolve and also reports the symlinks it
// crossed. With followLast false a final symlink is returned itself, as
// lstat would, while links in earlier components are still followed.
func (t *Tree) ResolveLinks(p string, followLast bool) (Resolution, bool) {
	return resolve(p, followLast, func(q string) (Entry, bool) {
		e, ok := t.entries[q]
		return e, ok
	})
}

// resolve walks p component by component from "/", the way the kernel
// resolves a path in a chroot: ".." is applied to the physical directory
// reached so far, so "/lib/../etc" through a "/lib → usr/lib" link ends in
// "/usr/etc". lookup returns the entry at a clean physical path.
func resolve(p string, followLast bool, lookup func(string) (Entry, bool)) (Resolution, bool) {
	var res Resolution
	rest := splitPath(p)
	cur := "/"
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		if c == ".." {
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		e, ok := lookup(next)
		if !ok {
			return res, false
		}
		if e.IsSymlink() && (len(rest) > 0 || followLast) {
			hops++
			if hops > MaxSymlinkHops {
				return res, false
			}
			res.Links = append(res.Links, next)
			target := e.Linkname
			if strings.HasPrefix(target, "/") {
				cur = "/"
			}
			rest = append(splitPath(target), rest...)
			continue
		}
		if len(rest) > 0 && !e.IsDir() {
			return res, false
		}
		cur = next
	}
	res.Path = cur
	return res, true
}

// splitPath splits p into components, dropping empty and "." ones but
// keeping ".." for resolve to apply physically.
func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}
