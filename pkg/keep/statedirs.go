package keep

// Runtime state directories.
//
// A program that ran as root in the plain image wrote its pid file to /run
// and its temporary and state files to the directories its package made
// under /var/lib, /var/cache, /var/log and /var/spool (nginx's
// /var/lib/nginx/body, PHP's session directory). Once hardening makes the
// image run as a non-root user, those writes fail with "permission
// denied" unless the directories belong to that user. Which directories
// they are is read from the dpkg database: the directories a package of
// the runtime closure lists below those FHS roots. Directories only some
// other package owns are not handed over.

import (
	"sort"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// stateRoots are the FHS hierarchies that hold a package's variable data;
// a package's own directory below one of them is its state.
var stateRoots = []string{"/var/lib", "/var/cache", "/var/log", "/var/spool"}

// runtimeDir holds pid files and sockets of the running container.
const runtimeDir = "/run"

// stateDirs returns the shipped directories the image's user must own to
// run what ships: /run, and the topmost directories below stateRoots that
// a runtime-closure package owns. Symlinks are never handed over.
func (r *rebaser) stateDirs(shipped []string) []string {
	isDir := func(p string) bool {
		e, ok := r.t.Lookup(p)
		return ok && e.IsDir()
	}
	var dirs []string
	for _, p := range shipped {
		if p == runtimeDir {
			if isDir(p) {
				dirs = append(dirs, p)
			}
			continue
		}
		if !isDir(p) || !belowStateRoot(p) || !r.ownedByClosure(p) {
			continue
		}
		dirs = append(dirs, p)
	}
	sort.Strings(dirs)
	// Ownership is handed over with the subtree: a directory below one
	// already listed adds nothing.
	var top []string
	for _, d := range dirs {
		if len(top) > 0 && rootfs.IsUnder(d, top[len(top)-1]) {
			continue
		}
		top = append(top, d)
	}
	return top
}

// belowStateRoot reports whether p is strictly below one of stateRoots.
func belowStateRoot(p string) bool {
	for _, root := range stateRoots {
		if p != root && rootfs.IsUnder(p, root) {
			return true
		}
	}
	return false
}

// ownedByClosure reports whether a package of the runtime closure lists p.
func (r *rebaser) ownedByClosure(p string) bool {
	if r.db == nil {
		return false
	}
	for _, pkg := range r.db.owned(p) {
		if _, ok := r.pkgs[pkg]; ok {
			return true
		}
	}
	return false
}
