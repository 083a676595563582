package keep

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Package databases whose content PackageMetadata decides.
const (
	dpkgDir        = "/var/lib/dpkg"
	dpkgStatus     = "/var/lib/dpkg/status"
	dpkgInfo       = "/var/lib/dpkg/info"
	dpkgStatusD    = "/var/lib/dpkg/status.d"
	apkDBDir       = "/lib/apk/db"
	apkDBInstalled = "/lib/apk/db/installed"
)

// docDirs hold documentation that packages install alongside their real
// files. A package whose only remaining files are documentation no longer
// ships anything a vulnerability could be in.
// Shell completions count as documentation too: the shells that would read
// them do not ship.
var docDirs = []string{"/usr/share/doc", "/usr/share/man", "/usr/share/info", "/usr/share/lintian", "/usr/share/bug",
	"/usr/share/bash-completion", "/usr/share/zsh", "/usr/share/fish"}

// Metadata is the package database an image should ship after files were
// removed from it.
type Metadata struct {
	// ManagedDirs are the database directories whose content Metadata
	// decides: any path below them that is not in Paths must not ship.
	ManagedDirs []string
	// Paths are the database files to ship, sorted; the Generated ones
	// among them must be written with their new content.
	Paths []string
	// Generated maps database files to their rewritten content.
	Generated map[string][]byte
	// Kept and Dropped name the packages ("name" or "name:arch"), sorted.
	Kept, Dropped []string
}

// PackageMetadata rewrites the package databases of t so that they list
// only packages with at least one non-documentation file for which kept
// returns true, and so that scanners reading the image see what it really
// contains. It handles dpkg (/var/lib/dpkg/status with info/*.list and
// *.md5sums), distroless-style dpkg (/var/lib/dpkg/status.d/*) and apk
// (/lib/apk/db/installed). A package whose file list is unknown is kept:
// a scanner over-reporting is safer than one missing a package. Paths in
// the databases are resolved through the tree's symlinks, so a
// pre-merged-/usr "/bin/bash" entry finds "/usr/bin/bash".
func PackageMetadata(ctx context.Context, t *rootfs.Tree, src rootfs.Source, kept func(string) bool) (Metadata, error) {
	m := Metadata{Generated: map[string][]byte{}}
	pm := pkgMeta{ctx: ctx, t: t, src: src, kept: kept}
	if err := pm.dpkg(&m); err != nil {
		return Metadata{}, err
	}
	if err := pm.statusD(&m); err != nil {
		return Metadata{}, err
	}
	if err := pm.apk(&m); err != nil {
		return Metadata{}, err
	}
	sort.Strings(m.Paths)
	m.Paths = compact(m.Paths)
	sort.Strings(m.Kept)
	sort.Strings(m.Dropped)
	return m, nil
}

func compact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

type pkgMeta struct {
	ctx  context.Context
	t    *rootfs.Tree
	src  rootfs.Source
	kept func(string) bool
}

func (pm pkgMeta) exists(p string) bool {
	e, ok := pm.t.Lookup(p)
	return ok && e.IsRegular()
}

func (pm pkgMeta) read(p string) (string, error) {
	b, err := pm.src.ReadFile(pm.ctx, p, 0, 0)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	return string(b), nil
}

// hasKeptFile reports whether any of the listed paths is a kept file
// outside the documentation directories.
func (pm pkgMeta) hasKeptFile(paths []string) bool {
	for _, p := range paths {
		r, ok := pm.t.ResolveLinks(rootfs.Clean(p), false)
		if !ok {
			continue
		}
		e, _ := pm.t.Lookup(r.Path)
		if e.IsDir() || isDoc(r.Path) {
			continue
		}
		// A symlink to a directory (merged /usr's /lib → usr/lib) is a
		// directory entry of the package list, not a file the package ships.
		if e.IsSymlink() {
			if target, ok := pm.t.Resolve(r.Path); ok {
				if te, ok := pm.t.Lookup(target); ok && te.IsDir() {
					continue
				}
			}
		}
		if pm.kept(r.Path) {
			return true
		}
	}
	return false
}

func isDoc(p string) bool {
	for _, d := range docDirs {
		if rootfs.IsUnder(p, d) {
			return true
		}
	}
	return false
}

// stanzas splits a deb822 or apk database into paragraphs.
func stanzas(text string) []string {
	var out []string
	for _, s := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if s = strings.Trim(s, "\n"); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// field returns the value of a deb822 field in a stanza.
func field(stanza, name string) string {
	for _, line := range strings.Split(stanza, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// md5sumsPaths returns the file paths of a dpkg md5sums file.
func md5sumsPaths(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if _, p, ok := strings.Cut(line, "  "); ok && p != "" {
			out = append(out, "/"+p)
		}
	}
	return out
}

func (pm pkgMeta) dpkg(m *Metadata) error {
	if !pm.exists(dpkgStatus) {
		return nil
	}
	m.ManagedDirs = append(m.ManagedDirs, dpkgDir)
	text, err := pm.read(dpkgStatus)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, st := range stanzas(text) {
		name, arch := field(st, "Package"), field(st, "Architecture")
		if name == "" {
			continue
		}
		id := name
		if field(st, "Multi-Arch") == "same" && arch != "" {
			id = name + ":" + arch
		}
		if !strings.HasSuffix(field(st, "Status"), " installed") {
			m.Dropped = append(m.Dropped, id)
			continue
		}
		var infoFiles []string
		for _, base := range []string{name + ":" + arch, name} {
			for _, ext := range []string{".list", ".md5sums"} {
				if p := dpkgInfo + "/" + base + ext; pm.exists(p) {
					infoFiles = append(infoFiles, p)
				}
			}
			if len(infoFiles) > 0 {
				break
			}
		}
		keep, err := pm.dpkgHasFiles(infoFiles)
		if err != nil {
			return err
		}
		if !keep {
			m.Dropped = append(m.Dropped, id)
			continue
		}
		m.Kept = append(m.Kept, id)
		m.Paths = append(m.Paths, infoFiles...)
		b.WriteString(st)
		b.WriteString("\n\n")
	}
	m.Paths = append(m.Paths, dpkgStatus)
	m.Generated[dpkgStatus] = []byte(b.String())
	return nil
}

// dpkgHasFiles decides from a package's info files; no list at all keeps
// the package.
func (pm pkgMeta) dpkgHasFiles(infoFiles []string) (bool, error) {
	if len(infoFiles) == 0 {
		return true, nil
	}
	var paths []string
	for _, f := range infoFiles {
		text, err := pm.read(f)
		if err != nil {
			return false, err
		}
		if strings.HasSuffix(f, ".md5sums") {
			paths = append(paths, md5sumsPaths(text)...)
			continue
		}
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				paths = append(paths, line)
			}
		}
	}
	return pm.hasKeptFile(paths), nil
}

// statusD handles distroless's one-file-per-package layout, where
// <pkg>.md5sums is the only file list.
func (pm pkgMeta) statusD(m *Metadata) error {
	e, ok := pm.t.Lookup(dpkgStatusD)
	if !ok || !e.IsDir() {
		return nil
	}
	if len(m.ManagedDirs) == 0 || m.ManagedDirs[len(m.ManagedDirs)-1] != dpkgDir {
		m.ManagedDirs = append(m.ManagedDirs, dpkgDir)
	}
	for _, c := range pm.t.Children(dpkgStatusD) {
		if !c.IsRegular() || strings.HasSuffix(c.Path, ".md5sums") {
			continue
		}
		name := path.Base(c.Path)
		keep := true
		sums := c.Path + ".md5sums"
		if pm.exists(sums) {
			text, err := pm.read(sums)
			if err != nil {
				return err
			}
			keep = pm.hasKeptFile(md5sumsPaths(text))
		}
		if !keep {
			m.Dropped = append(m.Dropped, name)
			continue
		}
		m.Kept = append(m.Kept, name)
		m.Paths = append(m.Paths, c.Path)
		if pm.exists(sums) {
			m.Paths = append(m.Paths, sums)
		}
	}
	return nil
}

func (pm pkgMeta) apk(m *Metadata) error {
	if !pm.exists(apkDBInstalled) {
		return nil
	}
	m.ManagedDirs = append(m.ManagedDirs, apkDBDir)
	text, err := pm.read(apkDBInstalled)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, st := range stanzas(text) {
		var name, dir string
		var files []string
		for _, line := range strings.Split(st, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch k {
			case "P":
				name = v
			case "F":
				dir = v
			case "R":
				files = append(files, "/"+path.Join(dir, v))
			}
		}
		if name == "" {
			continue
		}
		// An apk entry lists every file it owns, so one without R: lines
		// is a metapackage with nothing in the image.
		if !pm.hasKeptFile(files) {
			m.Dropped = append(m.Dropped, name)
			continue
		}
		m.Kept = append(m.Kept, name)
		b.WriteString(st)
		b.WriteString("\n\n")
	}
	m.Paths = append(m.Paths, apkDBInstalled)
	m.Generated[apkDBInstalled] = []byte(b.String())
	return nil
}
