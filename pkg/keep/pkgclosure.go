package keep

// The runtime closure of packages: the dpkg packages that own what the
// image runs (the entrypoint, its interpreter and libraries), and what they
// depend on, minus the packages of tools hardenkit removes. A package file
// ships only when its package is in the closure, so an `apt-get install
// mksh socat` in the shipped stage ships nothing the application does not
// run, and the data a kept program's packages own (Perl's modules in
// perl-base, media-types' /etc/mime.types, tzdata) ships even when the
// base image installed it.

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// dpkgPackage is one installed package of a dpkg database.
type dpkgPackage struct {
	name string
	arch string
	// depends are the package names of Depends and Pre-Depends, every
	// alternative included: which alternative is installed is decided
	// when the closure looks them up.
	depends  []string
	provides []string
	// source is the source package it was built from (dpkg's Source
	// field, without a version; the package's own name when absent).
	source string
	// section is the package's Section ("shells", "net", "python") and
	// summary the first line of its Description: what pkgtools.go
	// reads to tell a tool's package.
	section, summary string
	// files are the package's paths as the tree resolves them (parent
	// symlinks followed, so pre-merged-/usr "/bin/x" is "/usr/bin/x").
	files []string
}

// dpkgDB is an image's installed dpkg packages and who owns each path.
type dpkgDB struct {
	pkgs map[string]*dpkgPackage
	// owners maps resolved paths to the packages listing them.
	owners map[string][]string
	// providers maps virtual package names to installed packages.
	providers map[string][]string
}

// readDpkgDB reads /var/lib/dpkg/status and the info/*.list files of the
// installed packages. An image without a dpkg database has an empty one.
func readDpkgDB(ctx context.Context, t *rootfs.Tree, src rootfs.Source) (*dpkgDB, error) {
	db := &dpkgDB{pkgs: map[string]*dpkgPackage{}, owners: map[string][]string{}, providers: map[string][]string{}}
	pm := pkgMeta{ctx: ctx, t: t, src: src}
	if !pm.exists(dpkgStatus) {
		return db, nil
	}
	text, err := pm.read(dpkgStatus)
	if err != nil {
		return nil, err
	}
	for _, st := range stanzas(text) {
		name, arch := field(st, "Package"), field(st, "Architecture")
		if name == "" || !strings.HasSuffix(field(st, "Status"), " installed") {
			continue
		}
		p := &dpkgPackage{name: name, arch: arch, section: field(st, "Section"), summary: field(st, "Description")}
		p.depends = append(depNames(field(st, "Depends")), depNames(field(st, "Pre-Depends"))...)
		p.provides = depNames(field(st, "Provides"))
		p.source, _, _ = strings.Cut(field(st, "Source")+" ", " ")
		if p.source == "" {
			p.source = name
		}
		for _, base := range []string{name + ":" + arch, name} {
			list := dpkgInfo + "/" + base + ".list"
			if !pm.exists(list) {
				continue
			}
			lt, err := pm.read(list)
			if err != nil {
				return nil, err
			}
			for _, line := range strings.Split(lt, "\n") {
				line = strings.TrimSpace(line)
				if line == "" || line == "/." {
					continue
				}
				r, ok := t.ResolveLinks(rootfs.Clean(line), false)
				if !ok {
					continue
				}
				p.files = append(p.files, r.Path)
				db.owners[r.Path] = append(db.owners[r.Path], name)
			}
			break
		}
		db.pkgs[name] = p
		for _, v := range p.provides {
			db.providers[v] = append(db.providers[v], name)
		}
	}
	return db, nil
}

// depNames returns the package names of a Depends-style field: version
// constraints, architecture qualifiers and alternatives' bars removed.
func depNames(v string) []string {
	var out []string
	for _, group := range strings.Split(v, ",") {
		for _, alt := range strings.Split(group, "|") {
			alt = strings.TrimSpace(alt)
			if i := strings.IndexAny(alt, " (["); i >= 0 {
				alt = alt[:i]
			}
			alt, _, _ = strings.Cut(alt, ":")
			if alt != "" {
				out = append(out, alt)
			}
		}
	}
	return out
}

// owned reports the packages owning the resolved path p.
func (db *dpkgDB) owned(p string) []string { return db.owners[p] }

// closure returns the packages owning any of the seed paths and,
// transitively, the installed packages they depend on, except packages in
// tooling: a dependency on a tool's package (dpkg's Pre-Depends, a
// shell) does not bring that package's files. A seed's own package is
// always in the closure: the application runs it.
func (db *dpkgDB) closure(seeds []string, tooling map[string]bool) map[string]string {
	in := map[string]string{} // package → why
	var queue []string
	for _, s := range seeds {
		for _, name := range db.owners[s] {
			if _, ok := in[name]; !ok {
				in[name] = "owns " + s
				queue = append(queue, name)
			}
		}
	}
	db.addDependencies(in, queue, tooling)
	return in
}

// addDependencies adds to the closure in the installed dependencies of
// the packages in queue, transitively, except packages in tooling.
func (db *dpkgDB) addDependencies(in map[string]string, queue []string, tooling map[string]bool) {
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		for _, dep := range db.pkgs[name].depends {
			cands := db.providers[dep]
			if _, ok := db.pkgs[dep]; ok {
				cands = append([]string{dep}, cands...)
			}
			for _, c := range cands {
				if _, ok := in[c]; ok || tooling[c] {
					continue
				}
				in[c] = "dependency of " + name
				queue = append(queue, c)
			}
		}
	}
}

// toolingPackages returns the packages that own a removed tool.
func (db *dpkgDB) toolingPackages(paths []string) map[string]bool {
	out := map[string]bool{}
	for _, p := range paths {
		for _, name := range db.owners[p] {
			out[name] = true
		}
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// describe names a package set for a reason string.
func describe(pkgs []string) string {
	if len(pkgs) == 1 {
		return "package " + pkgs[0]
	}
	return fmt.Sprintf("packages %s", strings.Join(pkgs, ", "))
}
