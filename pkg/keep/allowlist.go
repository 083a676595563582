package keep

// The allowlist of what may execute. An executable file — any ELF
// executable (ET_EXEC, or ET_DYN with an entry point: PIE programs, the
// loader, libc), any "#!" script, anything with an execute bit, whatever
// its name or mode — ships only when it is:
//
//   - the entrypoint/cmd or health-check program, or in their ELF and
//     interpreter closure (libraries, loader, python3/node/java/perl/…);
//   - in an interpreter's runtime directories (its standard library);
//   - a file the shipped stage added that no package owns (COPY from the
//     context or another stage, a build output) and that is not a tool by
//     name or content;
//   - kept by policy (controls.tooling.keep), still checked by content.
//
// Everything else executable is left out: the shells, SSH, downloaders,
// debuggers and package installers of an `apt-get install` in the shipped
// stage are not shipped because nothing the image runs needs them, not
// because a list names them. Package files — executable or not — ship only
// when their package is in the runtime closure (pkgclosure.go). Name and
// content recognition (pkg/tooling) stays as the second line.

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"path"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// header is what the first bytes of a file say about running it.
type header struct {
	elf bool
	// exec: an ELF executable (ET_EXEC, or ET_DYN with an entry point)
	// or a "#!" script.
	exec bool
}

// headerSize covers the ELF header of both classes.
const headerSize = 64

// parseHeader classifies the first bytes of a file.
func parseHeader(b []byte) header {
	if bytes.HasPrefix(b, []byte("#!")) {
		return header{exec: true}
	}
	if len(b) < 20 || !bytes.Equal(b[:4], []byte(elf.ELFMAG)) {
		return header{}
	}
	h := header{elf: true}
	var order binary.ByteOrder = binary.LittleEndian
	if elf.Data(b[elf.EI_DATA]) == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	typ := elf.Type(order.Uint16(b[16:]))
	var entry uint64
	switch elf.Class(b[elf.EI_CLASS]) {
	case elf.ELFCLASS64:
		if len(b) >= 32 {
			entry = order.Uint64(b[24:])
		}
	case elf.ELFCLASS32:
		if len(b) >= 28 {
			entry = uint64(order.Uint32(b[24:]))
		}
	}
	h.exec = typ == elf.ET_EXEC || (typ == elf.ET_DYN && entry != 0)
	return h
}

// headers reads and caches the headers of the regular files among paths.
func (r *rebaser) headers(ctx context.Context, paths []string) error {
	var todo []string
	for _, p := range paths {
		if _, done := r.hdr[p]; done {
			continue
		}
		if e, ok := r.t.Lookup(p); ok && e.IsRegular() && e.Size >= 2 {
			todo = append(todo, p)
		}
	}
	got := make([]header, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for i, p := range todo {
		g.Go(func() error {
			b, err := r.in.Src.ReadFile(gctx, p, 0, headerSize)
			if err != nil {
				return fmt.Errorf("reading %s: %w", p, err)
			}
			got[i] = parseHeader(b)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, p := range todo {
		r.hdr[p] = got[i]
	}
	return nil
}

// executable reports whether the regular file p can be run: an execute
// bit, an ELF executable header or a "#!" line. headers must have read it.
func (r *rebaser) executable(p string) bool {
	e, ok := r.t.Lookup(p)
	if !ok || !e.IsRegular() {
		return false
	}
	return e.IsExecutable() || r.hdr[p].exec
}

// Dropped is a path left out by the allowlist, with why.
type Dropped struct {
	// Path is the tree path.
	Path string
	// Reason says why: its package is not in the runtime closure, or it
	// is an executable nothing the image runs needs.
	Reason string
	// OutsideClosure names the packages owning the path when it was left
	// out because none of them is in the runtime closure.
	OutsideClosure []string
	// Loadable says the path is not in the closure of what the image runs
	// but a kept program could load it (removed.go): Reason says how.
	Loadable bool `json:",omitempty"`
}

// Allowed is an executable that ships, with why it was allowed.
type Allowed struct {
	// Path is the tree path.
	Path string
	// Reason is the allowlist entry that admits it.
	Reason string
}

// owners returns the packages owning p, or, for a hard link, its first
// name: a hard link to a package's executable is that executable.
func (r *rebaser) owners(p string) []string {
	if o := r.db.owned(p); len(o) > 0 {
		return o
	}
	if e, ok := r.t.Lookup(p); ok && e.IsHardlink() {
		return r.db.owned(e.Linkname)
	}
	return nil
}

// allowlist applies the allowlist to the kept set: package files of
// packages outside the runtime closure and executables no entry admits
// are dropped; the runtime closure's own package files are added.
func (r *rebaser) allowlist(ctx context.Context, removedPaths []string) error {
	db, err := readDpkgDB(ctx, r.t, r.in.Src)
	if err != nil {
		return fmt.Errorf("rebase: reading the dpkg database: %w", err)
	}
	r.db = db
	r.notes = append(r.notes, unknownInterpreters(r.t, r.programs, r.scriptInterps, r.in.Entrypoint,
		func(p string) bool { return len(db.owned(p)) > 0 })...)
	if err := r.runtimeClosure(ctx, removedPaths); err != nil {
		return err
	}
	pkgFiles := r.closureFiles()
	// Only what the allowlist judges is classified: trusted paths (the
	// closures, runtime support, interpreters' runtimes — zoneinfo and a
	// standard library are thousands of files) are kept whatever their
	// header says, so reading them would only cost.
	var classify []string
	for _, p := range append(r.kept.sorted(), pkgFiles...) {
		if !r.trusted[p] {
			classify = append(classify, p)
		}
	}
	if err := r.headers(ctx, classify); err != nil {
		return fmt.Errorf("rebase: classifying files: %w", err)
	}
	r.keepClosureFiles(pkgFiles)
	for _, p := range r.kept.sorted() {
		if r.trusted[p] || r.policy[p] {
			continue
		}
		if err := r.judge(ctx, p); err != nil {
			return err
		}
	}
	r.dropDangling()
	return nil
}

// runtimeClosure sets r.pkgs to the packages the allowed executables
// need, leaving out the packages of removed tools, plus the packages the
// image asks for by name. r.db must be read.
func (r *rebaser) runtimeClosure(ctx context.Context, removedPaths []string) error {
	// Only files seed the closure: a directory or merged-/usr symlink on
	// the way (/lib) is listed by every package that installs below it.
	var seeds []string
	for _, p := range sortedKeys(r.allowed) {
		if e, ok := r.t.Lookup(p); ok && e.IsRegular() {
			seeds = append(seeds, p)
		}
	}
	toolingPkgs := r.db.toolingPackages(removedPaths)
	r.pkgs = r.db.closure(seeds, toolingPkgs)
	if err := r.addRequestedPackages(ctx, toolingPkgs); err != nil {
		return fmt.Errorf("rebase: %w", err)
	}
	return nil
}

// closureFiles lists the runtime closure packages' own files, less
// documentation and private keys: their data (/usr/share, Perl modules,
// /etc configuration) ships wherever it came from.
func (r *rebaser) closureFiles() []string {
	var pkgFiles []string
	for _, name := range sortedKeys(r.pkgs) {
		for _, p := range r.db.pkgs[name].files {
			if !isDoc(p) && !isPrivateKeyPath(p) {
				pkgFiles = append(pkgFiles, p)
			}
		}
	}
	return pkgFiles
}

// keepClosureFiles keeps the runtime closure's package files that exist,
// as trusted, naming the closure package that owns each; an executable
// among them ships only if the image runs it or it is a module an
// interpreter loads (modulepath.go), and is listed as dropped otherwise.
// headers must have read them.
func (r *rebaser) keepClosureFiles(pkgFiles []string) {
	for _, p := range pkgFiles {
		e, ok := r.t.Lookup(p)
		if !ok || e.IsSymlink() && r.kept.has(p) || r.isRefused(p) {
			continue
		}
		why := "file of package "
		if r.executable(p) && !r.allowed[p] {
			if !r.library(p) {
				// Not kept, so judge never sees it: say here that it
				// goes, unless the stage's own copy is judged below.
				if !r.kept.has(p) {
					r.dropped = append(r.dropped, Dropped{Path: p,
						Reason: "executable of " + describe(r.db.owned(p)) + " that the image does not run"})
				}
				continue
			}
			why = "module of package "
		}
		name := ""
		for _, o := range r.db.owned(p) {
			if _, in := r.pkgs[o]; in && name == "" {
				name = o
			}
		}
		if r.kept.add(p, why+name+" (runtime closure: "+r.pkgs[name]+")") {
			r.trusted[p] = true
		}
	}
}

// judge applies the allowlist to the kept path p, which is neither
// trusted nor kept by policy: a file of a package outside the runtime
// closure, or an executable of one inside it that the image does not
// run, is dropped; an executable no package owns ships unless its
// content is a tool.
func (r *rebaser) judge(ctx context.Context, p string) error {
	e, _ := r.t.Lookup(p)
	owners := r.owners(p)
	inClosure := false
	for _, o := range owners {
		_, in := r.pkgs[o]
		inClosure = inClosure || in
	}
	switch {
	case len(owners) > 0 && !inClosure:
		// A directory only such packages own goes too; one that
		// still holds a kept file comes back as its parent.
		r.dropped = append(r.dropped, Dropped{Path: p, OutsideClosure: owners,
			Reason: describe(owners) + " is not in the runtime closure of what the image runs"})
		r.kept.remove(p)
	case !r.executable(p) || r.allowed[p] || r.library(p):
	case len(owners) > 0:
		r.drop(p, "executable of "+describe(owners)+" that the image does not run")
	default:
		m, isTool, err := tooling.ByContent(ctx, r.in.Src, e, r.in.Tooling)
		if err != nil {
			return fmt.Errorf("rebase: checking %s: %w", p, err)
		}
		if isTool {
			r.kept.remove(p)
			r.contentRemoved = append(r.contentRemoved, m)
			return nil
		}
		if orig, isCopy, err := r.packageCopy(ctx, e); err != nil || isCopy {
			if isCopy {
				r.drop(p, "a copy of "+orig+": a package's executable that the image does not run")
			}
			return err
		}
		r.allow(p, "added by the final stage, not a package's, not a tool by name or content, not a copy of a package's program")
	}
	return nil
}

// drop leaves p out and records why.
func (r *rebaser) drop(p, reason string) {
	r.kept.remove(p)
	r.dropped = append(r.dropped, Dropped{Path: p, Reason: reason})
}

// allow records why the executable p ships.
func (r *rebaser) allow(p, reason string) {
	if _, ok := r.allowReason[p]; !ok {
		r.allowReason[p] = reason
	}
}

// dropDangling leaves out kept symlinks whose target no longer ships: a
// symlink is judged by what it leads to, and a link into nothing is no
// use to the application.
func (r *rebaser) dropDangling() {
	for changed := true; changed; {
		changed = false
		for _, p := range r.kept.sorted() {
			e, _ := r.t.Lookup(p)
			if !e.IsSymlink() || r.policy[p] {
				continue
			}
			rl, ok := r.t.ResolveLinks(p, true)
			if !ok {
				continue
			}
			te, exists := r.t.Lookup(rl.Path)
			if !exists || r.kept.has(rl.Path) || rl.Path == "/" {
				continue
			}
			// A directory target ships as the directory alone, never its
			// content; a file target that does not ship takes the link.
			if te.IsDir() {
				r.kept.add(rl.Path, "target of symlink "+p)
				continue
			}
			r.drop(p, "symlink to "+rl.Path+", which does not ship")
			changed = true
		}
	}
}

// checkContent checks every kept executable by content: a shell or
// multi-call binary under any name fails the build when the policy keeps
// it or the image runs it, and is left out otherwise.
func (r *rebaser) checkContent(ctx context.Context) error {
	var paths []string
	for _, p := range r.kept.sorted() {
		if _, done := r.contentChecked[p]; done {
			continue
		}
		if e, _ := r.t.Lookup(p); e.IsRegular() && (r.executable(p) || r.policy[p] && r.hdr[p].elf) {
			paths = append(paths, p)
		}
	}
	found := make([]tooling.Match, len(paths))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for i, p := range paths {
		g.Go(func() error {
			e, _ := r.t.Lookup(p)
			m, ok, err := tooling.ByContent(gctx, r.in.Src, e, r.in.Tooling)
			if ok {
				found[i] = m
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("rebase: checking kept executables by content: %w", err)
	}
	for i, m := range found {
		p := paths[i]
		r.contentChecked[p] = true
		if m.Path == "" {
			continue
		}
		if r.policy[p] {
			// A policy that keeps /usr/bin/bash by name keeps a shell
			// knowingly; one that keeps /usr/bin/tini and finds a shell
			// there was fooled.
			if cat, named := r.in.Tooling.Category(path.Base(p)); named && cat == m.Category {
				continue
			}
			return &ContentError{Path: p, Pattern: r.kept.reasons[p], Match: m}
		}
		if arg, ok := r.entry[p]; ok {
			return &EntrypointError{Entrypoint: arg, Needs: p, Match: m, Direct: r.entryExes[p], Position: slices.Index(r.in.Entrypoint, arg)}
		}
		r.kept.remove(p)
		r.contentRemoved = append(r.contentRemoved, m)
	}
	return nil
}

// ContentError says a path the policy keeps is a tool by its content.
type ContentError struct {
	// Path is the kept path.
	Path string
	// Pattern is why it was kept ("policy keep /usr/bin/tini").
	Pattern string
	// Match is what its content is.
	Match tooling.Match
}

// Error names the path, its content and the policy entry.
func (e *ContentError) Error() string {
	what := e.Match.Tool
	if e.Match.Reason == tooling.ReasonShellBinary {
		what = "shell"
	}
	return fmt.Sprintf("%s is kept by %s, but its content is a %s (%s, found by %s): the policy keeps a path, not whatever the Dockerfile puts there; ship the real program or drop the keep entry",
		e.Path, strings.TrimSpace(e.Pattern), e.Match.Category, what, e.Match.Reason)
}
