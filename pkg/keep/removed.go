package keep

// What does not ship, accounted for. The rebase builds the image from what
// the image runs, so most of the final stage's base never enters the kept
// set and is not "removed" by any rule: it is simply not in a closure. A
// file a kept program could still load that way — a library it dlopen()s
// by name, a module of an interpreter it runs, a JVM archive, glibc's
// locale, iconv or name-service data — would vanish silently, and the
// container fails with "libz.so.1: cannot open shared object file" and no
// trace in the evidence. So every file of the final stage that does not
// ship and is not already listed (a tool, an allowlist drop) is judged by
// one question: could a kept program load it?
//
//   - a shared object (a *.so or *.so.N name, or an ELF shared object
//     without an entry point): any dynamically linked program can dlopen()
//     it, by name when it lies on the library search path (the directories
//     the kept programs' libraries were found in, LD_LIBRARY_PATH), or by
//     path anywhere (NSS, gconv, plugin directories);
//   - a file under the module search path of an interpreter family the
//     image keeps (modulepath.go: Perl's @INC, Python's sys.path, Ruby's,
//     Node's, the JVM's share/java), and a Java archive or class when a
//     JVM ships;
//   - data the kept C library reads by itself: its locale data, iconv's
//     gconv directory, and the /etc databases nsswitch.conf sends to
//     "files";
//   - a file of a package in the runtime closure that was left out
//     (a private key): the program of that package may open it.
//
// Those are listed one by one, with the reason, up to MaxLoadableListed,
// ranked in that order (shared objects on the search path before those
// loaded by path), then by path; the number beyond is reported.
// Everything else left out — documentation, other packages' programs and
// data, files no package owns — is summarised per package with its
// version, or per directory for files no package owns, so that the
// evidence of a Debian base with ten thousand files stays small.

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// MaxLoadableListed bounds the loadable files listed one by one: at about
// 200 bytes an entry the list stays under 200 KB. Beyond it
// LeftOut.LoadableOmitted counts what was not listed (it is still counted
// in its package's summary).
const MaxLoadableListed = 1000

// unpackagedDepth is how many directory levels name the summary of files
// no package owns ("/usr/local/lib", "/var/lib/apt").
const unpackagedDepth = 3

// LeftOut summarises what of the final stage does not ship and is not
// listed one by one in KeepSet.Removed or KeepSet.NotAllowed.
type LeftOut struct {
	// Packages are the per-package (or, for files no package owns,
	// per-directory) counts, sorted by Package then Dir.
	Packages []PackageLeftOut `json:"packages,omitempty"`
	// LoadableOmitted counts the loadable files beyond MaxLoadableListed
	// that NotAllowed does not list.
	LoadableOmitted int `json:"loadableOmitted,omitempty"`
}

// PackageLeftOut counts one package's files (or the files no package owns
// below one directory) that do not ship and are not listed one by one.
type PackageLeftOut struct {
	// Package is the owning package's name; empty for files no package
	// owns.
	Package string `json:"package,omitempty"`
	// Version is the package's installed version, when the database says.
	Version string `json:"version,omitempty"`
	// Dir is the directory the unowned files are below ("" for a package).
	Dir string `json:"dir,omitempty"`
	// Files counts the files, symlinks and hard links left out.
	Files int `json:"files"`
}

// sharedObjectName matches a shared object's file name: lib.so, lib.so.1,
// lib.so.1.2.13, a Python extension's x.cpython-311-x86_64-linux-gnu.so.
var sharedObjectName = regexp.MustCompile(`\.so(\.[0-9][0-9.]*)?$`)

// interpreterFamily maps an interpreter program's name to the family whose
// module search paths it loads from.
var interpreterFamily = regexp.MustCompile(`^(python|perl|ruby|node|nodejs|java)[0-9.]*$`)

// loadable is a file left out that a kept program could load, ranked by
// how directly (0 is a shared object).
type loadable struct {
	path, reason string
	rank         int
}

// leftOut lists the loadable files the final stage leaves out in
// r.dropped (see the file comment) and summarises the rest. It runs on
// the finished kept set; removed are the tooling matches.
func (r *rebaser) leftOut(ctx context.Context, removed []tooling.Match) (LeftOut, error) {
	listed := r.listedPaths(removed)
	j, err := r.newLoadJudge(ctx)
	if err != nil {
		return LeftOut{}, err
	}
	var found []loadable
	counts := map[PackageLeftOut]int{}
	for _, e := range r.t.Entries() {
		p := e.Path
		if e.IsDir() || p == "/" || r.kept.has(p) || listed.covers(p) || r.isRefused(p) {
			continue
		}
		owners := r.owners(p)
		if why, rank, ok := j.judge(p, owners); ok {
			found = append(found, loadable{path: p, reason: why, rank: rank})
			continue
		}
		counts[r.summaryKey(p, owners, j.versions)]++
	}
	sort.Slice(found, func(a, b int) bool {
		if found[a].rank != found[b].rank {
			return found[a].rank < found[b].rank
		}
		return found[a].path < found[b].path
	})
	var out LeftOut
	for i, l := range found {
		if i >= MaxLoadableListed {
			out.LoadableOmitted++
			counts[r.summaryKey(l.path, r.owners(l.path), j.versions)]++
			continue
		}
		r.dropped = append(r.dropped, Dropped{Path: l.path, Reason: l.reason, Loadable: true})
	}
	for k, n := range counts {
		k.Files = n
		out.Packages = append(out.Packages, k)
	}
	sort.Slice(out.Packages, func(a, b int) bool {
		pa, pb := out.Packages[a], out.Packages[b]
		if pa.Package != pb.Package {
			return pa.Package < pb.Package
		}
		return pa.Dir < pb.Dir
	})
	return out, nil
}

// summaryKey is the summary a file left out is counted in: its first
// owning package, else the directory of the first unpackagedDepth levels.
func (r *rebaser) summaryKey(p string, owners []string, versions map[string]string) PackageLeftOut {
	if len(owners) > 0 {
		name := slices.Min(owners)
		return PackageLeftOut{Package: name, Version: versions[name]}
	}
	dirs := rootfs.Parents(p)
	if len(dirs) == 0 {
		return PackageLeftOut{Dir: "/"}
	}
	return PackageLeftOut{Dir: dirs[min(len(dirs), unpackagedDepth)-1]}
}

// listedSet are the paths already listed one by one: tooling matches
// (a directory stands for its subtree) and allowlist drops.
type listedSet map[string]bool

func (r *rebaser) listedPaths(removed []tooling.Match) listedSet {
	l := listedSet{}
	for _, m := range removed {
		l[m.Path] = true
	}
	for _, d := range r.dropped {
		// A file dropped as part of a package outside the runtime closure
		// is summarised with its package, or listed here if loadable.
		if len(d.OutsideClosure) == 0 {
			l[d.Path] = true
		}
	}
	return l
}

func (l listedSet) covers(p string) bool {
	if l[p] {
		return true
	}
	for _, d := range rootfs.Parents(p) {
		if l[d] {
			return true
		}
	}
	return false
}

// loadJudge decides whether a file left out could be loaded by what the
// image keeps.
type loadJudge struct {
	r *rebaser
	// families are the interpreter families a kept program belongs to,
	// each with the program.
	families map[string]string
	// libc is the kept glibc, "" when none ships.
	libc string
	// nssFiles are the /etc databases nsswitch.conf sends to "files".
	nssFiles map[string]string
	// libDirs are the library search path of the kept programs: the
	// directories their closures found shared objects in, and
	// LD_LIBRARY_PATH's.
	libDirs  map[string]bool
	versions map[string]string
}

func (r *rebaser) newLoadJudge(ctx context.Context) (*loadJudge, error) {
	j := &loadJudge{r: r, families: map[string]string{}, nssFiles: map[string]string{}, libDirs: map[string]bool{}}
	for _, d := range strings.Split(r.in.LibraryPath, ":") {
		if d != "" {
			j.libDirs[rootfs.Clean(d)] = true
		}
	}
	for _, p := range r.kept.sorted() {
		e, _ := r.t.Lookup(p)
		if !e.IsRegular() {
			continue
		}
		base := path.Base(p)
		if m := interpreterFamily.FindStringSubmatch(base); m != nil && r.executable(p) {
			fam := strings.TrimSuffix(m[1], "js")
			if _, ok := j.families[fam]; !ok {
				j.families[fam] = p
			}
		}
		if base == "libc.so.6" && j.libc == "" {
			j.libc = p
		}
		if sharedObjectName.MatchString(base) {
			j.libDirs[path.Dir(p)] = true
		}
	}
	pm := pkgMeta{ctx: ctx, t: r.t, src: r.in.Src}
	if j.libc != "" && r.kept.has(nsswitchConf) && pm.exists(nsswitchConf) {
		text, err := pm.read(nsswitchConf)
		if err != nil {
			return nil, fmt.Errorf("rebase: %w", err)
		}
		j.nssFiles = nssFileDatabases(text)
	}
	versions, err := dpkgVersions(pm)
	if err != nil {
		return nil, fmt.Errorf("rebase: %w", err)
	}
	j.versions = versions
	return j, nil
}

const nsswitchConf = "/etc/nsswitch.conf"

// nssFileDatabases maps /etc/DB to DB for every database nsswitch.conf
// looks up in "files": glibc's files source reads /etc/DB.
func nssFileDatabases(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		db, sources, ok := strings.Cut(line, ":")
		db = strings.TrimSpace(db)
		if !ok || db == "" || strings.Contains(db, "/") {
			continue
		}
		for _, s := range strings.Fields(sources) {
			if s == "files" {
				out["/etc/"+db] = db
			}
		}
	}
	return out
}

// dpkgVersions maps installed dpkg packages to their versions.
func dpkgVersions(pm pkgMeta) (map[string]string, error) {
	out := map[string]string{}
	if !pm.exists(dpkgStatus) {
		return out, nil
	}
	text, err := pm.read(dpkgStatus)
	if err != nil {
		return nil, err
	}
	for _, st := range stanzas(text) {
		if name := field(st, "Package"); name != "" && strings.HasSuffix(field(st, "Status"), " installed") {
			out[name] = field(st, "Version")
		}
	}
	return out, nil
}

// judge says whether p, left out, could be loaded by a kept program, why,
// and its rank (the order of the file comment's list).
func (j *loadJudge) judge(p string, owners []string) (string, int, bool) {
	r := j.r
	base := path.Base(p)
	if h := r.hdr[p]; sharedObjectName.MatchString(base) || h.elf && !h.exec {
		if j.libDirs[path.Dir(p)] {
			return "shared object on the library search path of the kept programs: dlopen(\"" + base + "\") by any of them finds it", 0, true
		}
		return "shared object: a kept program can load it with dlopen() by path (a plugin, an NSS or gconv module)", 1, true
	}
	if fam := moduleFamily(p); fam != "" && j.families[fam] != "" {
		return fmt.Sprintf("module under %s's module search path, and the image runs %s", fam, j.families[fam]), 2, true
	}
	if ext := path.Ext(p); j.families["java"] != "" && (ext == ".jar" || ext == ".jmod" || ext == ".class") {
		return "Java archive or class: the image runs " + j.families["java"] + ", which can load it from its class path", 2, true
	}
	if j.libc != "" {
		switch {
		case rootfs.IsUnder(p, "/usr/lib/locale"):
			return "locale data that the kept C library (" + j.libc + ") reads for setlocale()", 3, true
		case strings.Contains(p, "/gconv/"):
			return "iconv (gconv) data that the kept C library (" + j.libc + ") reads", 3, true
		case j.nssFiles[p] != "":
			return fmt.Sprintf("the %q database, which %s sends to \"files\": the kept C library (%s) reads it", j.nssFiles[p], nsswitchConf, j.libc), 3, true
		}
	}
	for _, o := range owners {
		if why, in := r.pkgs[o]; in && !isDoc(p) {
			return "file of package " + o + ", which is in the runtime closure (" + why + "): its program may open it", 4, true
		}
	}
	return "", 0, false
}

// moduleFamily is the interpreter family whose module search path p lies
// under (modulepath.go), or "".
func moduleFamily(p string) string {
	if !inModulePath(p) {
		return ""
	}
	dirs := strings.Split(strings.Trim(path.Dir(p), "/"), "/")
	root := dirs[moduleRoot(dirs)]
	switch {
	case root == "site-packages" || root == "dist-packages" || strings.HasPrefix(root, "python"):
		return "python"
	case root == "node_modules" || root == "nodejs":
		return "node"
	case strings.Contains(root, "perl"):
		return "perl"
	case root == "ruby" || root == "rubygems-integration" || root == "lib":
		return "ruby"
	case root == "java":
		return "java"
	}
	return ""
}
