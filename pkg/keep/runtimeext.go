package keep

// Packages the Dockerfile asked for.
//
// The runtime closure follows Depends from what the image runs, so it
// never reaches the libraries an interpreter loads by name at run time:
// `apt-get install ruby-sinatra` (sinatra depends on ruby, not the other
// way round), `apt-get install perl` when perl-base from the base image
// owns /usr/bin/perl (JSON::PP is in perl-modules), or a data package the
// application reads (iso-codes). apt records which packages were asked for
// by name: /var/lib/apt/extended_states marks the others Auto-Installed.
// A package asked for by name that owns no tool joins the closure, with
// its dependencies, when it
//
//   - depends, directly or through other installed packages, on a package
//     of the program the image runs (its interpreter): a library or
//     extension of that runtime, whether the base image or the stage
//     installed it (Debian's minbase already has perl); or
//   - is, or depends on, a package built from the same source package as
//     the runtime's: the interpreter's own modules, split into packages
//     (php8.2-sqlite3 and php8.2-mbstring come from php8.2 like
//     php8.2-cli, and depend only on php8.2-common, not on the CLI that
//     loads them through /etc/php/8.2/cli/conf.d); or
//   - owns no executable file at all and the base image did not have it:
//     data the stage installed.
//
// Its executables still need an allowlist entry of their own; a package
// asked for that is neither (mksh, socat, openssl next to a Python app)
// stays out, and so does one that owns a tool (python3-pip).

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// aptExtendedStates is where apt records which packages it installed only
// as dependencies.
const aptExtendedStates = "/var/lib/apt/extended_states"

// addRequestedPackages extends r.pkgs with the packages the shipped stage
// asked apt for that extend the runtime or are data (see above).
func (r *rebaser) addRequestedPackages(ctx context.Context, tooling map[string]bool) error {
	requested, err := r.requestedPackages(ctx)
	if err != nil || len(requested) == 0 {
		return err
	}
	// No roots (a static binary owned by no package): only data joins.
	roots := r.runtimeRoots()
	var queue []string
	for _, name := range requested {
		if _, ok := r.pkgs[name]; ok || tooling[name] || r.kitOfRuntime(name) {
			continue
		}
		why := ""
		switch {
		case r.db.reaches(name, roots, r.db.sourcesOf(roots), tooling):
			why = "asked for in the Dockerfile; extends " + describe(sortedKeys(roots))
		case !r.inBase(r.db.pkgs[name]) && r.dataOnly(name):
			why = "asked for in the Dockerfile; data only (no executable files)"
		default:
			continue
		}
		r.pkgs[name] = why
		queue = append(queue, name)
	}
	r.db.addDependencies(r.pkgs, queue, tooling)
	return nil
}

// requestedPackages returns the installed packages apt installed by name
// (not Auto-Installed). Without apt's record no package counts as asked
// for.
func (r *rebaser) requestedPackages(ctx context.Context) ([]string, error) {
	pm := pkgMeta{ctx: ctx, t: r.t, src: r.in.Src}
	if !pm.exists(aptExtendedStates) {
		return nil, nil
	}
	text, err := pm.read(aptExtendedStates)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", aptExtendedStates, err)
	}
	auto := map[string]bool{}
	for _, st := range stanzas(text) {
		if field(st, "Auto-Installed") == "1" {
			auto[field(st, "Package")] = true
		}
	}
	var out []string
	for _, name := range sortedKeys(r.db.pkgs) {
		if !auto[name] {
			out = append(out, name)
		}
	}
	return out, nil
}

// inBase reports whether the base image has package p installed.
func (r *rebaser) inBase(p *dpkgPackage) bool {
	if r.in.Base == nil {
		return false
	}
	for _, list := range []string{p.name + ".list", p.name + ":" + p.arch + ".list"} {
		if _, ok := r.in.Base.Lookup(path.Join(dpkgInfo, list)); ok {
			return true
		}
	}
	return false
}

// runtimeRoots are the packages of the program the image runs and of its
// interpreters, and the names they provide.
func (r *rebaser) runtimeRoots() map[string]bool {
	roots := map[string]bool{}
	for _, p := range append(append([]string{}, r.entryLinks...), r.interps...) {
		for _, name := range r.owners(p) {
			roots[name] = true
			for _, v := range r.db.pkgs[name].provides {
				roots[v] = true
			}
		}
	}
	return roots
}

// sourcesOf returns the source packages of the installed packages named in
// names.
func (db *dpkgDB) sourcesOf(names map[string]bool) map[string]bool {
	out := map[string]bool{}
	for n := range names {
		if p := db.pkgs[n]; p != nil {
			out[p.source] = true
		}
	}
	return out
}

// reaches reports whether package name depends, through installed
// packages that are not tools, on one of roots, or is or reaches one
// built from one of sources.
func (db *dpkgDB) reaches(name string, roots, sources, tooling map[string]bool) bool {
	seen := map[string]bool{name: true}
	queue := []string{name}
	for len(queue) > 0 {
		p := db.pkgs[queue[0]]
		queue = queue[1:]
		if p == nil {
			continue
		}
		// A shared library (Section libs: libc6 from glibc) is what
		// everything depends on, not the runtime's module.
		if sources[p.source] && path.Base(p.section) != "libs" {
			return true
		}
		for _, dep := range p.depends {
			if roots[dep] {
				return true
			}
			cands := append([]string{dep}, db.providers[dep]...)
			for _, c := range cands {
				if _, installed := db.pkgs[c]; installed && !seen[c] && !tooling[c] {
					seen[c] = true
					queue = append(queue, c)
				}
			}
		}
	}
	return false
}

// dataOnly reports whether package name is data: it has a regular file
// outside the documentation directories, none of its files is executable,
// and nothing of it (file or symlink) is in a bin or sbin directory. A
// metapackage (php-cli, ruby: documentation and command links) is not.
func (r *rebaser) dataOnly(name string) bool {
	hasData := false
	for _, f := range r.db.pkgs[name].files {
		e, ok := r.t.Lookup(f)
		if !ok || e.IsDir() {
			continue
		}
		dir := path.Dir(f)
		if strings.HasSuffix(dir, "/bin") || strings.HasSuffix(dir, "/sbin") {
			return false
		}
		if !e.IsRegular() {
			continue
		}
		if e.Mode&fs.FileMode(0o111) != 0 {
			return false
		}
		hasData = hasData || !isDoc(f)
	}
	return hasData
}
