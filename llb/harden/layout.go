package harden

// The filesystem layout programs expect.
//
//	HK2030 RunsAsRoot  CIS 4.1 — part of the non-root control (nonroot.go):
//	                   the user the image runs as has a home that exists
//	                   and is its own, as distroless' nonroot has.
//
// A rebased image keeps what the application needs, but programs also
// expect the directories every Debian system has (base-files): /tmp mode
// 1777, /run, /run/lock 1777, /var/run → /run and /var/lock → /run/lock
// (postgres creates its lock through /var/run/postgresql), and the
// process user's home (Caddy creates ~/.config and ~/.local/share). The
// hardened layer gets them with that metadata: a directory that ships
// keeps its mode and contents and only gets the owner the rule gives it;
// /tmp and /run/lock get 1777 whatever the build left; a /var/run or
// /var/lock that ships as a directory is left alone.
//
// Homes: the injected user's passwd entry names /home/nonroot, which is
// created 0700 and owned by it. A user the Dockerfile names keeps its
// passwd entry; a home below /home is created if missing, and a home that
// ships outside system directories is given to it (the directory alone).
// Homes elsewhere (/nonexistent, /usr/sbin) are left as they are: a
// system account's "home" is a convention, not a place it writes.

import (
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/users"
)

// LayoutEntry is a directory or symbolic link the hardened image has with
// exactly this metadata.
type LayoutEntry struct {
	// Path is the absolute path.
	Path string `json:"path"`
	// Link is the target of a symbolic link; empty for a directory.
	Link string `json:"link,omitempty"`
	// Mode is a directory's mode in chmod's octal form (01777).
	Mode uint32 `json:"mode,omitempty"`
	// UID and GID own the entry.
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
	// Why says what hardening changed, when the entry changes a shipped
	// directory's mode (worldwritable.go); empty for the layout itself.
	Why string `json:"why,omitempty"`
}

// layoutInput is what the layout is decided from.
type layoutInput struct {
	final   *rootfs.Tree
	shipped map[string]bool
	// owned are the directories handed over with their subtrees.
	owned []string
	// owner is the image's non-root user; nil when it runs as root.
	owner  *owner
	passwd []byte
	// sticky gives world-writable directories the sticky bit
	// (worldwritable.go).
	sticky bool
}

// layoutDirs are the directories every image gets, with their modes when
// they are created or must be exact (0: keep a shipped directory's mode,
// 0755 when created).
var layoutDirs = []struct {
	path  string
	mode  uint32
	exact bool
}{
	{"/tmp", 0o1777, true},
	{"/run", 0o755, false},
	{"/run/lock", 0o1777, true},
}

// layoutLinks are base-files' compatibility links.
var layoutLinks = []struct{ path, target string }{
	{"/var/run", "/run"},
	{"/var/lock", "/run/lock"},
}

// decideLayout returns the layout entries (parents first) and the homes it
// hands over.
func decideLayout(li layoutInput) ([]LayoutEntry, []Handover) {
	want := map[string]LayoutEntry{}
	var handed []Handover
	for _, d := range layoutDirs {
		li.addDir(want, d.path, d.mode, d.exact, nil)
	}
	if home, name, ok := li.home(); ok {
		li.addDir(want, home, 0o700, false, li.owner)
		handed = append(handed, Handover{Path: home, Why: fmt.Sprintf(whyHomeOfFmt, name)})
	}
	li.addSticky(want)
	for _, l := range layoutLinks {
		if _, ok := li.final.Lookup(l.path); ok && li.shipped[l.path] {
			continue
		}
		if li.blocked(l.path) {
			continue
		}
		for _, p := range rootfs.Parents(l.path) {
			li.addDir(want, p, 0o755, false, nil)
		}
		want[l.path] = LayoutEntry{Path: l.path, Link: l.target}
	}
	out := make([]LayoutEntry, 0, len(want))
	for _, e := range want {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, handed
}

// blocked reports whether p or one of its parents ships as something
// other than a directory (a symlink /home → /var/home): the layout does
// not write through or over it.
func (li layoutInput) blocked(p string) bool {
	for _, q := range append(rootfs.Parents(p), p) {
		if e, ok := li.final.Lookup(q); ok && li.shipped[q] && !e.IsDir() {
			return true
		}
	}
	return false
}

// addDir adds p and its parents to want. A directory that ships keeps its
// mode (unless exact) and owner; one that does not is created with mode.
// Inside a handed-over directory, or when own is set, the owner is the
// image's user.
func (li layoutInput) addDir(want map[string]LayoutEntry, p string, mode uint32, exact bool, own *owner) {
	if li.blocked(p) {
		return
	}
	for _, q := range rootfs.Parents(p) {
		if _, ok := want[q]; !ok {
			want[q] = li.dirEntry(q, 0o755, false, nil)
		}
	}
	want[p] = li.dirEntry(p, mode, exact, own)
}

func (li layoutInput) dirEntry(p string, mode uint32, exact bool, own *owner) LayoutEntry {
	e := LayoutEntry{Path: p, Mode: mode}
	if fe, ok := li.final.Lookup(p); ok && li.shipped[p] && fe.IsDir() {
		e.UID, e.GID = fe.UID, fe.GID
		if !exact {
			e.Mode = rootfs.UnixPerm(fe.Mode &^ (fs.ModeSetuid | fs.ModeSetgid))
		}
	}
	if exact {
		e.UID, e.GID = 0, 0
	}
	if own == nil && li.owner != nil && !exact {
		for _, d := range li.owned {
			if rootfs.IsUnder(p, d) {
				own = li.owner
				break
			}
		}
	}
	if own != nil {
		e.UID, e.GID = own.uid, own.gid
	}
	return e
}

// home returns the home of the image's user that must exist and be its
// own, and the user's name: one below /home, or one that ships outside
// system directories.
func (li layoutInput) home() (string, string, bool) {
	if li.owner == nil {
		return "", "", false
	}
	entries, _ := users.ParsePasswd(li.passwd)
	for _, u := range entries {
		if u.UID != li.owner.uid || u.Home == "" {
			continue
		}
		h := rootfs.Clean(u.Home)
		if h != "/home" && rootfs.IsUnder(h, "/home") {
			return h, u.Name, true
		}
		if e, ok := li.final.Lookup(h); ok && e.IsDir() && li.shipped[h] && !users.IsSystemPath(h) {
			return h, u.Name, true
		}
		return "", "", false
	}
	return "", "", false
}

// layoutState is a filesystem holding exactly the layout entries. Copied
// over the shipped files (contents only), it gives every directory it
// holds its metadata (fsutil overwrites an existing directory's owner and
// mode below the copy's root) and adds what is missing; modes go through
// the copy's chmod because mkdir drops the sticky bit and applies a umask.
func layoutState(entries []LayoutEntry, p ocispecs.Platform, opts []llb.ConstraintsOpt) llb.State {
	dir := llb.Scratch().Platform(p).File(llb.Mkdir("/d", 0o755), opts...)
	st := llb.Scratch().Platform(p)
	for _, e := range entries {
		chown := llb.WithUIDGID(int(e.UID), int(e.GID))
		if e.Link != "" {
			st = st.File(llb.Symlink(e.Link, e.Path, chown), opts...)
			continue
		}
		st = st.File(llb.Copy(dir, "/d", e.Path, &llb.CopyInfo{
			Mode:     &llb.ChmodOpt{Mode: os.FileMode(e.Mode)},
			ChownOpt: &llb.ChownOpt{User: &llb.UserOpt{UID: int(e.UID)}, Group: &llb.UserOpt{UID: int(e.GID)}},
		}), opts...)
	}
	return st
}

// layoutSummary names the entries for the progress output.
func layoutSummary(entries []LayoutEntry) string {
	var parts []string
	for _, e := range entries {
		if e.Link != "" {
			parts = append(parts, e.Path+" → "+e.Link)
			continue
		}
		part := fmt.Sprintf("%s %04o %d:%d", e.Path, e.Mode, e.UID, e.GID)
		if e.Why != "" {
			part += " (" + e.Why + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}
