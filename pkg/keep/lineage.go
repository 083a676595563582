package keep

// Lineage: what another source of the build knows about its tools.
//
// A file the shipped stage copied from a builder stage, a named context or
// an image is whatever it was there: a builder's /usr/bin/socat is a
// network tool under any name in the final image, and a builder's sash is
// a shell because its package is filed under "shells" and /etc/shells
// lists it — facts the final image, which has neither the package database
// nor /etc/shells entry, cannot tell. IndexSource reads them where they
// are and hands them on as fingerprints (tooling.Known), which
// tooling.Detect compares every executable of the final image with: a
// copy, renamed, with bytes appended or patched, is the same program.

import (
	"context"
	"fmt"
	"path"
	"sort"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// maxKnownPerSource bounds the tools one source contributes, so that a
// source with thousands of them (a distribution's full tree) cannot make
// the analysis request unbounded.
const maxKnownPerSource = 2000

// IndexSource returns the tools of the source filesystem t (named name in
// their origin, "stage builder") by fingerprint: what tooling.Detect finds
// by name and content with l, and the commands of packages whose metadata
// says they are shells or debuggers (pkgtools.go) — then, up to the
// bound, every other command its packages install (programs, below).
// Packages filed under "net" count here only through the name lists: a
// server the final stage copies from a builder and runs (haproxy) is the
// application.
func IndexSource(ctx context.Context, t *rootfs.Tree, src rootfs.Source, name string, l tooling.Lists) ([]tooling.Known, error) {
	l.Known = nil
	ms, err := tooling.Detect(ctx, t, src, l)
	if err != nil {
		return nil, fmt.Errorf("%s: detecting tools: %w", name, err)
	}
	db, err := readDpkgDB(ctx, t, src)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the dpkg database: %w", name, err)
	}
	shells, err := readShells(ctx, t, src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	found := map[string]tooling.Known{}
	for _, m := range ms {
		if m.Reason != tooling.ReasonPackageManagerData {
			found[m.Path] = tooling.Known{Tool: m.Tool, Category: m.Category, Origin: m.Reason}
		}
	}
	tools := db.toolPackages(shells, l, nil)
	for _, pkg := range sortedKeys(tools) {
		tp := tools[pkg]
		if tp.cat == tooling.NetworkTool && tp.why == whySectionNet {
			continue
		}
		for _, f := range db.pkgs[pkg].files {
			if _, ok := found[f]; !ok && isCommand(t, f) {
				found[f] = tooling.Known{Tool: path.Base(f), Category: tp.cat, Origin: "package " + pkg + ", " + tp.why}
			}
		}
	}
	sf := sourceFiles{t: t, src: src, name: name, db: db}
	known, err := sf.fingerprint(ctx, found, maxKnownPerSource)
	if err != nil {
		return nil, err
	}
	progs, err := sf.fingerprint(ctx, db.programs(t, found), maxKnownPerSource-len(known))
	if err != nil {
		return nil, err
	}
	return append(known, compactPrints(progs)...), nil
}

// programs are the commands t's packages install in a bin or sbin
// directory that found does not hold: programs that are no tools (perl,
// python3), Known without a Category. A copy of one in the final image is
// judged as that package's executable there (pkgcopy.go): it ships only
// when the image runs it.
func (db *dpkgDB) programs(t *rootfs.Tree, found map[string]tooling.Known) map[string]tooling.Known {
	out := map[string]tooling.Known{}
	for _, name := range sortedKeys(db.pkgs) {
		pkg := db.pkgs[name]
		for _, f := range pkg.files {
			switch path.Base(path.Dir(f)) {
			case "bin", "sbin":
			default:
				continue
			}
			if _, ok := found[f]; ok || !isCommand(t, f) {
				continue
			}
			why := "a program"
			if pkg.section != "" {
				why += ", section " + pkg.section
			}
			out[f] = tooling.Known{Tool: path.Base(f), Origin: why}
		}
	}
	return out
}

// compactPrints drops the code blocks of the programs' fingerprints: a source
// has hundreds of programs, the request that carries them is recorded in
// the build's definition, and a copy with bytes appended or patched is
// still recognised by its data sections (tooling.Compare).
func compactPrints(ks []tooling.Known) []tooling.Known {
	for i := range ks {
		ks[i].Print.TextBlocks = nil
		ks[i].Print.TextSize = 0
	}
	return ks
}

// isCommand reports whether p is a regular file in a bin or sbin
// directory or with an execute bit.
func isCommand(t *rootfs.Tree, p string) bool {
	e, ok := t.Lookup(p)
	if !ok || !e.IsRegular() {
		return false
	}
	switch path.Base(path.Dir(p)) {
	case "bin", "sbin":
		return true
	}
	return e.IsExecutable()
}

// sourceFiles is a source of the build being indexed: its tree, files,
// name and package database.
type sourceFiles struct {
	t    *rootfs.Tree
	src  rootfs.Source
	name string
	db   *dpkgDB
}

// fingerprint fingerprints the regular files of found (symlinks' targets
// are in found themselves), at most limit, naming each one's origin.
func (sf sourceFiles) fingerprint(ctx context.Context, found map[string]tooling.Known, limit int) ([]tooling.Known, error) {
	t, src, name, db := sf.t, sf.src, sf.name, sf.db
	var out []tooling.Known
	if limit <= 0 {
		return nil, nil
	}
	for _, p := range sortedKeys(found) {
		e, ok := t.Lookup(p)
		if !ok || !e.IsRegular() || e.IsHardlink() || e.Size <= 64 {
			continue
		}
		fp, err := tooling.FingerprintFile(ctx, src, e)
		if err != nil {
			return nil, fmt.Errorf("%s: fingerprinting %s: %w", name, p, err)
		}
		k := found[p]
		k.Origin = name + " " + p + ": " + k.Origin
		if owners := db.owned(p); len(owners) > 0 {
			k.Origin += " (" + describe(owners) + ")"
		}
		k.Print = fp
		out = append(out, k)
		if len(out) == limit {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Origin < out[j].Origin })
	return out, nil
}
