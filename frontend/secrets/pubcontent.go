package secrets

// Public content: a file a package manager installed and still vouches
// for is the package's, not the user's. Debian's libmojolicious-perl ships
// a test key (/usr/share/perl5/Mojo/IOLoop/resources/server.key) that
// every copy of the package carries; "rotate it" makes no sense for it. A
// secret finding in such a file is reported as public content of
// PACKAGE@VERSION — in the evidence, a warning at most — never as the
// user's secret.
//
// Threat model. Whoever writes the image can also write the package
// database, so a database entry alone proves nothing: a key COPY'd into a
// path and whose digest is appended to an md5sums file is an attack, not
// public content. PublicContent (here, in-build, over the final tree)
// requires the database to be consistent the way only the package
// manager leaves it:
//
//   - dpkg: the file's bytes match its line in info/PKG[:ARCH].md5sums;
//     the same package's info/PKG[:ARCH].list lists the path; the status
//     database has PKG (of ARCH) with "Status: install ok installed" and
//     a Version. Configuration files (Conffiles) are never public: they
//     are the user's to edit. Distroless' status.d/PKG with its md5sums
//     counts as the status database.
//   - Python: the file's bytes match the sha256 of its RECORD line, in a
//     NAME-VERSION.dist-info directory that also holds METADATA and an
//     INSTALLER file (what pip, uv and installer write).
//
// The frontend then checks where the database came from (Public.Databases
// against the Dockerfile, frontend/inspect PublicOrigins): the file, its
// database files and their directories must not be written by a COPY or
// ADD nor named by a RUN — they came from the base image or from a RUN
// that ran the package manager without touching them by name.
//
// What remains: a package the user built and installed (dpkg -i
// ./my.deb, pip install ./mypkg) is "public" by these rules — the
// database was written by the package manager, from bytes the user
// chose; a RUN that writes the database through a script or a variable
// whose text does not name the path is not seen; a base image's database
// is trusted as far as the base image is. npm records a digest of the
// package tarball, not of each file: pubcontent_npm.go says what stands
// in for the byte comparison there, and what it cannot see.

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Public is the package that installed a file and vouches for its bytes.
type Public struct {
	// Manager is the package manager: "dpkg", "python" or "npm".
	Manager string `json:"manager"`
	// Package and Version name the package as its database does.
	Package string `json:"package"`
	Version string `json:"version"`
	// Databases are the database files that vouch for the file, so that
	// the frontend can check which instruction wrote them.
	Databases []string `json:"databases"`
}

// String is "PACKAGE@VERSION (MANAGER)".
func (p Public) String() string {
	return fmt.Sprintf("%s@%s (%s)", p.Package, p.Version, p.Manager)
}

// maxPublicFile bounds a file read whole to compare it with its digest:
// a secret finding is in a file the scan read, and a package file larger
// than this is not vouched for (it stays a finding).
const maxPublicFile = 64 << 20

// PublicContent returns, for each of paths (files of t, as findings name
// them) that a package manager installed and still vouches for, the
// package; see the file comment for what vouching requires.
func PublicContent(ctx context.Context, t *rootfs.Tree, src rootfs.Source, paths []string) (map[string]Public, error) {
	out := map[string]Public{}
	if len(paths) == 0 {
		return out, nil
	}
	digests, err := packageDigests(ctx, t, src)
	if err != nil {
		return nil, fmt.Errorf("reading the package databases: %w", err)
	}
	db := &dpkgStatus{t: t, src: src}
	for _, p := range paths {
		phys, ok := t.Resolve(p)
		if !ok {
			continue
		}
		d := digests[phys]
		e, _ := t.Lookup(phys)
		if d == nil && e.IsRegular() {
			pub, ok, err := npmVouch(ctx, t, src, phys)
			if err != nil {
				return nil, err
			}
			if ok {
				out[p] = pub
			}
			continue
		}
		if d == nil || !e.IsRegular() || e.Size > maxPublicFile {
			continue
		}
		dt, err := src.ReadFile(ctx, phys, 0, 0)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", phys, err)
		}
		if !d.matches(dt) {
			continue
		}
		var pub Public
		switch {
		case strings.HasSuffix(d.source, ".md5sums"):
			pub, ok, err = db.vouch(ctx, d.source, phys)
		case path.Base(d.source) == "RECORD":
			pub, ok = pythonVouch(t, d.source)
		default:
			ok = false // a conffile: the user's to edit
		}
		if err != nil {
			return nil, err
		}
		if ok {
			out[p] = pub
		}
	}
	return out, nil
}

// dpkgStatus reads dpkg's status database once, on demand.
type dpkgStatus struct {
	t      *rootfs.Tree
	src    rootfs.Source
	loaded bool
	// stanzas by "PKG" and "PKG:ARCH", from the status file.
	stanzas map[string]map[string]string
}

// vouch checks the dpkg entry of file p recorded in the md5sums file
// sums: the package's .list names p and its status stanza says it is
// installed, with a version.
func (s *dpkgStatus) vouch(ctx context.Context, sums, p string) (Public, bool, error) {
	name := strings.TrimSuffix(path.Base(sums), ".md5sums")
	pkg, arch, _ := strings.Cut(name, ":")
	var stanza map[string]string
	dbs := []string{sums}
	switch path.Dir(sums) {
	case dpkgInfoDir:
		list := path.Join(dpkgInfoDir, name+".list")
		listed, err := s.lists(ctx, list, p)
		if err != nil || !listed {
			return Public{}, false, err
		}
		if err := s.load(ctx); err != nil {
			return Public{}, false, err
		}
		stanza = s.stanzas[name]
		if stanza == nil && arch == "" {
			stanza = s.stanzas[pkg]
		}
		dbs = append(dbs, list, dpkgStatusFile)
	case dpkgStatusDDir:
		st := path.Join(dpkgStatusDDir, name)
		stanzas, err := s.read(ctx, st)
		if err != nil {
			return Public{}, false, err
		}
		stanza = stanzas[pkg]
		dbs = append(dbs, st)
	}
	if stanza == nil || stanza["Version"] == "" || (arch != "" && stanza["Architecture"] != arch) {
		return Public{}, false, nil
	}
	if st, ok := stanza["Status"]; (ok || path.Dir(sums) == dpkgInfoDir) && st != "install ok installed" {
		return Public{}, false, nil
	}
	return Public{Manager: "dpkg", Package: pkg, Version: stanza["Version"], Databases: dbs}, true, nil
}

// lists reports whether the dpkg .list file lists p.
func (s *dpkgStatus) lists(ctx context.Context, list, p string) (bool, error) {
	e, ok := s.t.Lookup(list)
	if !ok || !e.IsRegular() {
		return false, nil
	}
	dt, err := readDatabase(ctx, s.src, e)
	if err != nil {
		return false, err
	}
	for _, l := range strings.Split(string(dt), "\n") {
		if rp, ok := s.t.Resolve(rootfs.Clean(l)); ok && rp == p {
			return true, nil
		}
	}
	return false, nil
}

// load reads the status file into stanzas by package (and package:arch).
func (s *dpkgStatus) load(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	s.loaded = true
	st, err := s.read(ctx, dpkgStatusFile)
	s.stanzas = st
	return err
}

// read parses a dpkg control file of stanzas, keyed by Package and by
// Package:Architecture; a missing file is empty.
func (s *dpkgStatus) read(ctx context.Context, p string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	e, ok := s.t.Lookup(p)
	if !ok || !e.IsRegular() {
		return out, nil
	}
	dt, err := readDatabase(ctx, s.src, e)
	if err != nil {
		return nil, err
	}
	for _, block := range strings.Split(string(dt), "\n\n") {
		f := map[string]string{}
		for _, line := range strings.Split(block, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
				f[k] = strings.TrimSpace(v)
			}
		}
		if name := f["Package"]; name != "" {
			out[name] = f
			out[name+":"+f["Architecture"]] = f
		}
	}
	return out, nil
}

// pythonVouch checks a RECORD's distribution: NAME-VERSION.dist-info with
// METADATA and INSTALLER beside it.
func pythonVouch(t *rootfs.Tree, record string) (Public, bool) {
	dir := path.Dir(record)
	name, version, ok := strings.Cut(strings.TrimSuffix(path.Base(dir), ".dist-info"), "-")
	if !ok || name == "" || version == "" {
		return Public{}, false
	}
	for _, f := range []string{"METADATA", "INSTALLER"} {
		if e, ok := t.Lookup(path.Join(dir, f)); !ok || !e.IsRegular() {
			return Public{}, false
		}
	}
	return Public{Manager: "python", Package: name, Version: version, Databases: []string{record}}, true
}
