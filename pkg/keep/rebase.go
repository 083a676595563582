// Package keep decides which files of a final stage ship in a rebased,
// distroless image: what the stage itself added, what that and the
// entrypoint need at run time, and the support files programs read
// implicitly, minus the tooling hardenkit removes. The result is a list of
// paths for the LLB copy plus rewritten package metadata, with a reason
// for every path to put in the evidence.
package keep

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/elfdeps"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// parallelism bounds the files probed at once when looking for ELF files.
const parallelism = 8

// ErrEntrypointNotFound is returned when the entrypoint executable is not
// in the final image.
var ErrEntrypointNotFound = errors.New("entrypoint is not an executable file in the final image")

// EntrypointError says the entrypoint is, or needs, a tool that hardening
// removes, so the hardened image could not start.
type EntrypointError struct {
	// Entrypoint is the executable as configured.
	Entrypoint string
	// Needs is the removed tree path it is or depends on.
	Needs string
	// Direct says Needs is the entrypoint itself (or a symlink on the way
	// to it), not something it depends on.
	Direct bool
	// Match is the tooling match for Needs.
	Match tooling.Match
	// Position is the command-line element's index: 0 is the program the
	// container starts, a later one what a wrapper or script runs.
	Position int
}

// Error says what the entrypoint is or needs and that it is removed.
func (e *EntrypointError) Error() string {
	if e.Direct {
		return fmt.Sprintf("entrypoint %s is a %s (%s) that hardenkit removes", e.Entrypoint, e.Match.Category, e.Match.Tool)
	}
	return fmt.Sprintf("entrypoint %s needs %s, a %s (%s) that hardenkit removes", e.Entrypoint, e.Needs, e.Match.Category, e.Match.Tool)
}

// RebaseInput is what Rebase decides from.
type RebaseInput struct {
	// Base is the final stage's base image filesystem; nil for scratch.
	Base *rootfs.Tree
	// Final is the final stage's filesystem.
	Final *rootfs.Tree
	// Src reads Final's files.
	Src rootfs.Source
	// Entrypoint is the image config's Entrypoint followed by Cmd; its
	// first word is the program the container runs. Empty when the image
	// runs nothing by default.
	Entrypoint []string
	// Path is the image's PATH; empty means elfdeps.DefaultPath.
	Path string
	// WorkingDir is the image's working directory, against which a
	// relative entrypoint such as "./server" is found; empty means "/".
	WorkingDir string
	// LibraryPath is the image's LD_LIBRARY_PATH, if any.
	LibraryPath string
	// Healthcheck is the exec-form health-check command, if any: its
	// program and closure are allowed to execute like the entrypoint's.
	Healthcheck []string
	// Keep are policy paths (rootfs.Match patterns) that always ship, with
	// everything below them, even when a tooling list names them; their
	// content is still checked (a kept path that is a shell fails).
	Keep []string
	// Tooling is what to remove.
	Tooling tooling.Lists
}

// KeepSet is what ships.
type KeepSet struct {
	// Paths are the tree paths to copy, sorted: every kept file, every
	// directory above one, and every symlink crossed when resolving one.
	// "/" is implicit.
	Paths []string
	// Generated maps paths to the content to write instead of Final's
	// (the rewritten package databases). Each is also in Paths.
	Generated map[string][]byte
	// Removed are the tooling matches left out, sorted by path. A match
	// on a directory stands for its subtree.
	Removed []tooling.Match
	// Reasons says why each path in Paths is kept.
	Reasons map[string]string
	// Unresolved maps libraries and interpreters that kept files need but
	// the image lacks to the sorted paths needing them.
	Unresolved map[string][]string
	// Packages is what the rewritten package databases say.
	Packages Metadata
	// RuntimePackages are the dpkg packages in the runtime closure, with
	// why each is in it.
	RuntimePackages map[string]string
	// NotAllowed are the paths the allowlist left out, and the files a
	// kept program could load that are not in the closure of what the
	// image runs (Dropped.Loadable, at most MaxLoadableListed; removed.go),
	// sorted by path.
	NotAllowed []Dropped
	// LeftOut summarises the rest of what does not ship: per package, or
	// per directory for files no package owns.
	LeftOut LeftOut
	// Executables are the executables that ship and why each was
	// allowed, sorted by path.
	Executables []Allowed
	// Notes are warnings for the user: an entrypoint interpreter whose
	// runtime files hardenkit cannot know.
	Notes []string
	// StateDirs are the shipped directories a non-root image user must own
	// (see statedirs.go), sorted, none below another.
	StateDirs []string
}

// Rebase computes the keep-set of a final stage (see the package comment):
//
//  1. every entry Final adds to or changes from Base (absent from Base, or
//     differing in mode, size, mtime, owner or link target);
//  2. policy Keep paths;
//  3. runtime support files that exist (trust stores, zoneinfo, passwd,
//     group, nsswitch.conf, loader configuration, OS release files, /tmp);
//  4. the entrypoint, its dynamic-link closure and script interpreters, and
//     the standard library of a python, node or java runtime it runs;
//  5. the target of every kept symlink (a symlink kept for itself that
//     leads to a directory brings the directory's content);
//  6. the dynamic-link closure of every kept ELF file, and glibc's NSS
//     modules next to a kept libc;
//
// minus tooling.Detect's matches, except policy Keep paths; then the
// package databases are rewritten for what is left and parent directories
// are added. What does not ship is accounted for (removed.go): what a kept
// program could load is listed, the rest summarised. It fails when the entrypoint is missing or is, or needs, a
// removed tool.
func Rebase(ctx context.Context, in RebaseInput) (KeepSet, error) {
	if in.Final == nil || in.Src == nil {
		return KeepSet{}, errors.New("rebase: no final filesystem")
	}
	for _, k := range in.Keep {
		if err := rootfs.ValidatePattern(k); err != nil {
			return KeepSet{}, fmt.Errorf("rebase: keep pattern %q: %w", k, err)
		}
	}
	base := in.Base
	if base == nil {
		base = rootfs.NewTree(nil)
	}
	env := closureEnv{pathEnv: in.Path, unresolved: map[string]map[string]bool{}}
	if env.pathEnv == "" {
		env.pathEnv = elfdeps.DefaultPath
	}
	t := in.Final
	r := &rebaser{in: in, t: t, kept: newSet(t), explicit: map[string]bool{}, policy: map[string]bool{},
		trusted: map[string]bool{}, allowed: map[string]bool{}, allowReason: map[string]string{}, entry: map[string]string{}, entryExes: map[string]bool{}, jvmHomes: map[string]bool{}, refused: map[string]bool{},
		hdr: map[string]header{}, contentChecked: map[string]bool{}}

	matches, err := tooling.Detect(ctx, t, in.Src, in.Tooling)
	if err != nil {
		return KeepSet{}, fmt.Errorf("rebase: detecting tooling: %w", err)
	}
	pkgTools, notes, err := packageToolMatches(ctx, in)
	if err != nil {
		return KeepSet{}, fmt.Errorf("rebase: tool packages: %w", err)
	}
	pyTools, pyNotes, err := pythonToolMatches(ctx, t, in.Src, in.Tooling)
	if err != nil {
		return KeepSet{}, fmt.Errorf("rebase: Python tool distributions: %w", err)
	}
	matches = dedupeMatches(append(append(matches, pkgTools...), pyTools...))
	r.notes = append(append(r.notes, notes...), pyNotes...)
	r.policyKeep()
	removed, removedMatch := r.removals(matches)
	env.removed = removedMatch
	if err := r.gather(ctx, base, env); err != nil {
		return KeepSet{}, err
	}
	var removedPaths []string
	for _, m := range removed {
		removedPaths = append(removedPaths, m.Path)
	}
	if err := r.admit(ctx, removedPaths, env); err != nil {
		return KeepSet{}, err
	}
	removed = append(removed, r.contentRemoved...)
	sort.Slice(removed, func(i, j int) bool { return removed[i].Path < removed[j].Path })
	if err := r.checkArchives(ctx, matches); err != nil {
		return KeepSet{}, err
	}
	meta, err := r.packageMetadata(ctx)
	if err != nil {
		return KeepSet{}, err
	}
	leftOut, err := r.leftOut(ctx, removed)
	if err != nil {
		return KeepSet{}, err
	}
	ks := r.keepSet(meta, removed, env.unresolved)
	ks.LeftOut = leftOut
	return ks, nil
}

// closureEnv is what the phases of one Rebase call that follow programs'
// dependencies share: the PATH programs are looked up on, how to tell a
// removed tool, and the libraries and interpreters found missing so far.
type closureEnv struct {
	pathEnv    string
	removed    func(string) (tooling.Match, bool)
	unresolved map[string]map[string]bool
}

// gather keeps what the image is made of and runs (steps 1 and 3 to 5
// of Rebase): the entries Final changes from base, runtime support files,
// the entrypoint's and health check's closures and the targets of kept
// symlinks, removing tooling before and after following those symlinks.
func (r *rebaser) gather(ctx context.Context, base *rootfs.Tree, env closureEnv) error {
	r.diff(base)
	r.runtimeSupport()
	if err := r.entrypoint(ctx, env); err != nil {
		return err
	}
	if err := r.healthcheck(ctx, env); err != nil {
		return err
	}
	r.dropJVMKits()
	// Tooling goes before the closures so that libraries only a removed
	// tool needs are not pulled in, and again after, in case a kept
	// script's interpreter is one.
	r.removeTooling(env.removed)
	r.symlinkTargets()
	r.removeTooling(env.removed)
	return nil
}

// admit narrows what gather kept to what may ship and completes it: the
// allowlist, the content check of kept executables, the ELF closure of
// what is left (step 6 of Rebase), then tooling and content again, since
// the closure can bring in new files, and symlinks left dangling.
func (r *rebaser) admit(ctx context.Context, removedPaths []string, env closureEnv) error {
	if err := r.allowlist(ctx, removedPaths); err != nil {
		return err
	}
	if err := r.checkContent(ctx); err != nil {
		return err
	}
	if err := r.elfClosure(ctx, env.pathEnv, env.unresolved); err != nil {
		return err
	}
	r.removeTooling(env.removed)
	if err := r.checkContent(ctx); err != nil {
		return err
	}
	r.dropDangling()
	return nil
}

// packageMetadata rewrites the package databases for the kept set and
// completes the set to match: paths under a directory the databases
// manage give way to the rewritten ones (unless policy keeps them), the
// rewritten files are kept, and so is every parent directory.
func (r *rebaser) packageMetadata(ctx context.Context) (Metadata, error) {
	meta, err := PackageMetadata(ctx, r.t, r.in.Src, r.kept.has)
	if err != nil {
		return Metadata{}, fmt.Errorf("rebase: package metadata: %w", err)
	}
	for _, p := range r.kept.sorted() {
		for _, d := range meta.ManagedDirs {
			if rootfs.IsUnder(p, d) && p != d && !r.policy[p] {
				r.kept.remove(p)
			}
		}
	}
	for _, p := range meta.Paths {
		r.kept.add(p, "package metadata")
	}
	for _, p := range r.kept.sorted() {
		for _, d := range rootfs.Parents(p) {
			r.kept.add(d, "parent directory")
		}
	}
	return meta, nil
}

// keepSet reports the finished kept set with meta, the sorted removed
// tooling matches and the unresolved dependencies by name and needer.
func (r *rebaser) keepSet(meta Metadata, removed []tooling.Match, unresolved map[string]map[string]bool) KeepSet {
	ks := KeepSet{
		Paths:      r.kept.sorted(),
		Generated:  meta.Generated,
		Removed:    removed,
		Reasons:    r.kept.reasons,
		Unresolved: map[string][]string{},
		Packages:   meta,

		RuntimePackages: r.pkgs,
		NotAllowed:      r.dropped,
		Notes:           r.notes,
	}
	ks.StateDirs = r.stateDirs(ks.Paths)
	sort.Slice(ks.NotAllowed, func(i, j int) bool { return ks.NotAllowed[i].Path < ks.NotAllowed[j].Path })
	for _, p := range ks.Paths {
		if r.executable(p) && !r.library(p) {
			why := r.allowReason[p]
			if why == "" {
				why = r.kept.reasons[p]
			}
			ks.Executables = append(ks.Executables, Allowed{Path: p, Reason: why})
		}
	}
	for name, by := range unresolved {
		for p := range by {
			ks.Unresolved[name] = append(ks.Unresolved[name], p)
		}
		sort.Strings(ks.Unresolved[name])
	}
	return ks
}

// rebaser carries one Rebase call's state.
type rebaser struct {
	in   RebaseInput
	t    *rootfs.Tree
	kept *set
	// explicit are paths kept for themselves, not as a symlink on the way
	// to something else: a symlink among them brings its target's subtree.
	explicit map[string]bool
	// policy are the paths policy Keep covers.
	policy map[string]bool

	// trusted are paths kept for a reason the allowlist does not judge
	// again: runtime support, the closures, interpreters' runtimes, the
	// runtime closure's package files.
	trusted map[string]bool
	// allowed are the executables the image runs: the entrypoint's and
	// health check's programs and closures. They seed the runtime
	// closure of packages.
	allowed     map[string]bool
	allowReason map[string]string
	// entry maps the closure paths of what the entrypoint runs to the
	// command-line element that needs them; entryExes are those elements'
	// own resolved programs.
	entry     map[string]string
	entryExes map[string]bool
	// entryLinks are the symlinks crossed on the way to entryExes
	// (/usr/bin/ruby → ruby3.1): their packages are the runtime's too.
	entryLinks []string

	db      *dpkgDB
	pkgs    map[string]string
	hdr     map[string]header
	dropped []Dropped
	// contentRemoved are kept paths found to be tools by content.
	contentRemoved []tooling.Match
	contentChecked map[string]bool
	// programSet are the image's package commands a copy is compared
	// with (pkgcopy.go), read on first use.
	programSet *tooling.Programs
	notes      []string
	// interps are the entrypoint's programs and script interpreters;
	// programs the resolved programs in its program positions and
	// scriptInterps the "#!" interpreters its runnables reach.
	interps       []string
	programs      []string
	scriptInterps []string
	// jvmHomes are the homes of the JVMs the image runs; refused the
	// paths left out for good (with their subtrees), such as their kits.
	jvmHomes map[string]bool
	refused  map[string]bool
}

func (r *rebaser) keepExplicit(p, reason string) {
	r.kept.add(p, reason)
	if r.kept.has(p) {
		r.explicit[p] = true
	}
}

func (r *rebaser) keepTree(p, reason string) {
	r.keepExplicit(p, reason)
	if e, ok := r.t.Lookup(p); ok && e.IsDir() {
		for _, q := range r.t.Below(p) {
			r.keepExplicit(q, reason)
		}
	}
}

// policyKeep keeps the policy's paths and everything below them.
func (r *rebaser) policyKeep() {
	for _, pat := range r.in.Keep {
		reason := "policy keep " + pat
		if !strings.ContainsAny(pat, "*?[\\") {
			p := rootfs.Clean(pat)
			if _, ok := r.t.Lookup(p); ok {
				r.keepTree(p, reason)
			}
			continue
		}
		for _, p := range r.t.Paths() {
			if p != "/" && rootfs.Match(pat, p) {
				r.keepTree(p, reason)
			}
		}
	}
	for p := range r.kept.reasons {
		r.policy[p] = true
	}
}

// removals turns tooling matches into the removal list, leaving out what
// policy keeps, and returns a lookup of the match covering a path.
func (r *rebaser) removals(matches []tooling.Match) ([]tooling.Match, func(string) (tooling.Match, bool)) {
	var removed []tooling.Match
	byPath := map[string]tooling.Match{}
	for _, m := range matches {
		if r.policy[m.Path] {
			continue
		}
		removed = append(removed, m)
		byPath[m.Path] = m
	}
	lookup := func(p string) (tooling.Match, bool) {
		if m, ok := byPath[p]; ok {
			return m, true
		}
		for _, d := range rootfs.Parents(p) {
			if m, ok := byPath[d]; ok && m.Reason == tooling.ReasonPackageManagerData {
				return m, true
			}
		}
		return tooling.Match{}, false
	}
	return removed, lookup
}

// removeTooling drops kept paths that a removal covers, unless policy
// keeps them.
func (r *rebaser) removeTooling(removed func(string) (tooling.Match, bool)) {
	for _, p := range r.kept.sorted() {
		if _, ok := removed(p); ok && !r.policy[p] {
			r.kept.remove(p)
		}
	}
}

// diff keeps what the final stage added or changed on top of its base.
func (r *rebaser) diff(base *rootfs.Tree) {
	for _, fe := range r.t.Entries() {
		if fe.Path == "/" {
			continue
		}
		be, ok := base.Lookup(fe.Path)
		switch {
		case !ok:
			r.keepExplicit(fe.Path, "added by the final stage")
		case be.Mode != fe.Mode || be.Size != fe.Size || be.ModTime != fe.ModTime ||
			be.UID != fe.UID || be.GID != fe.GID || be.Linkname != fe.Linkname:
			r.keepExplicit(fe.Path, "changed by the final stage")
		}
	}
}

// runtimeSupport keeps the runtime support files that exist.
func (r *rebaser) runtimeSupport() {
	for _, s := range runtimeSupport {
		if _, ok := r.t.Lookup(s.path); !ok {
			continue
		}
		r.keepExplicit(s.path, "runtime support")
		r.trusted[s.path] = true
		if !s.subtree {
			continue
		}
		for _, q := range r.t.Below(s.path) {
			if !isPrivateKeyPath(q) {
				r.keepExplicit(q, "runtime support")
				r.trusted[q] = true
			}
		}
	}
	for _, e := range r.t.Children("/etc") {
		if m, _ := path.Match(muslPathGlob, e.Path); m {
			r.keepExplicit(e.Path, "runtime support")
		}
	}
}

// entrypoint keeps what the entrypoint's command line runs (execchain.go)
// with its closures and interpreters' runtimes, and refuses an entrypoint
// hardening would break.
func (r *rebaser) entrypoint(ctx context.Context, env closureEnv) error {
	if len(r.in.Entrypoint) == 0 || r.in.Entrypoint[0] == "" {
		return nil
	}
	return r.followChain(ctx, chainRole{what: "entrypoint", argv: r.in.Entrypoint, fatal: true}, env)
}

// runtimes keeps the standard library of each recognised interpreter.
func (r *rebaser) runtimes(exes []string) {
	for _, x := range exes {
		kind, dirs := runtimeDirs(r.t, x)
		if h, ok := jvmHome(r.t, x); ok && kind == "java" {
			r.jvmHomes[h] = true
		}
		for _, d := range dirs {
			r.keepTree(d, kind+" runtime of "+x)
			r.trusted[d] = true
			for _, q := range r.t.Below(d) {
				r.trusted[q] = true
			}
		}
	}
}

// healthcheck allows what the exec-form health check runs, with its
// closures. A health check that names a program the image lacks or
// removes is HK2024's business, not a reason to fail here.
func (r *rebaser) healthcheck(ctx context.Context, env closureEnv) error {
	if len(r.in.Healthcheck) == 0 || r.in.Healthcheck[0] == "" {
		return nil
	}
	return r.followChain(ctx, chainRole{what: "health check", argv: r.in.Healthcheck}, env)
}

func addUnresolved(dst map[string]map[string]bool, res elfdeps.Result) {
	for _, name := range res.Missing {
		if dst[name] == nil {
			dst[name] = map[string]bool{}
		}
		for _, p := range res.NeededBy[name] {
			dst[name][p] = true
		}
	}
}

// symlinkTargets keeps where every kept symlink leads, repeating until
// nothing new is added, since a target may itself bring more links. A
// target that is a directory comes as the directory alone.
func (r *rebaser) symlinkTargets() {
	done := map[string]bool{}
	for {
		added := false
		for _, p := range r.kept.sorted() {
			if done[p] {
				continue
			}
			done[p] = true
			e, _ := r.t.Lookup(p)
			if !e.IsSymlink() {
				continue
			}
			rl, ok := r.t.ResolveLinks(p, true)
			if !ok || r.isRefused(rl.Path) {
				// A link to what is left out for good dangles, and goes.
				continue
			}
			for _, l := range rl.Links {
				added = r.kept.add(l, "symlink on the way from "+p) || added
			}
			// The target is judged on its own: a symlink to a directory
			// brings the directory entry, never what is below it (`ln -s
			// /usr /opt/usr` must not ship /usr).
			added = r.kept.add(rl.Path, "target of symlink "+p) || added
		}
		if !added {
			return
		}
	}
}

// elfClosure adds the dynamic-link closure of every kept ELF file.
func (r *rebaser) elfClosure(ctx context.Context, pathEnv string, unresolved map[string]map[string]bool) error {
	var probe []string
	for _, p := range r.kept.sorted() {
		e, _ := r.t.Lookup(p)
		if !e.IsRegular() || e.Size < 64 || nonELFExt[path.Ext(p)] || r.kept.reasons[p] == "runtime support" {
			continue
		}
		probe = append(probe, p)
	}
	// The allowlist read every kept file's header already; only files
	// it did not see are read here.
	if err := r.headers(ctx, probe); err != nil {
		return fmt.Errorf("rebase: looking for ELF files: %w", err)
	}
	var roots []string
	libcDirs := map[string]bool{}
	for _, p := range probe {
		if r.hdr[p].elf {
			roots = append(roots, p)
		}
	}
	if len(roots) == 0 {
		return nil
	}
	res, err := elfdeps.Closure(ctx, r.t, r.in.Src, roots, elfdeps.WithPath(pathEnv), elfdeps.WithLibraryPath(r.in.LibraryPath))
	if err != nil {
		return fmt.Errorf("rebase: dynamic-link closure: %w", err)
	}
	for _, p := range res.Paths {
		if r.kept.add(p, "dynamic-link closure: "+res.Reasons[p]) {
			r.trusted[p] = true
			r.allow(p, "dynamic-link closure: "+res.Reasons[p])
		}
		if path.Base(p) == "libc.so.6" {
			libcDirs[path.Dir(p)] = true
		}
	}
	addUnresolved(unresolved, res)
	var nss []string
	for d := range libcDirs {
		for _, lib := range glibcNSS {
			if _, ok := r.t.Resolve(path.Join(d, lib)); ok {
				nss = append(nss, path.Join(d, lib))
			}
		}
	}
	if len(nss) == 0 {
		return nil
	}
	sort.Strings(nss)
	nres, err := elfdeps.Closure(ctx, r.t, r.in.Src, nss, elfdeps.WithLibraryPath(r.in.LibraryPath))
	if err != nil {
		return fmt.Errorf("rebase: NSS modules: %w", err)
	}
	for _, p := range nres.Paths {
		if r.kept.add(p, "glibc NSS: "+nres.Reasons[p]) {
			r.trusted[p] = true
			r.allow(p, "glibc NSS: "+nres.Reasons[p])
		}
	}
	addUnresolved(unresolved, nres)
	return nil
}
