package secrets

// npm's share of public content (pubcontent.go). npm records no digest per
// file: package-lock.json holds, per installed package, where it was
// resolved from and the integrity (sha512) of the tarball. A file under
// node_modules/NAME/ is public content of NAME@VERSION when
//
//   - the lockfile npm itself wrote into node_modules
//     (node_modules/.package-lock.json), else the project's
//     package-lock.json beside node_modules, has the entry
//     "node_modules/NAME" (nested: "node_modules/a/node_modules/b") with
//     an http(s) tarball "resolved" URL, an "integrity" and a "version";
//   - node_modules/NAME/package.json names NAME at that version;
//   - neither the package ("hasInstallScript") nor the project (its
//     package.json's preinstall, install, postinstall or prepare scripts)
//     runs a script at install, which could write anything anywhere in
//     node_modules — a certificate generated at install is the build's,
//     not the package's.
//
// The bytes cannot be compared with the tarball, which the image does not
// hold: a file changed after install by a RUN that does not name it is
// not seen, which the dpkg and Python rules do see. The frontend's origin
// check (a COPY or ADD that covers the file, a RUN that names it) applies
// as for every package manager.

import (
	"context"
	"encoding/json"
	"path"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// npmLock is what a package-lock.json (v2, v3) says per package.
type npmLock struct {
	Packages map[string]struct {
		Version          string `json:"version"`
		Resolved         string `json:"resolved"`
		Integrity        string `json:"integrity"`
		HasInstallScript bool   `json:"hasInstallScript"`
	} `json:"packages"`
}

// npmManifest is the part of a package.json the rules read.
type npmManifest struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	Scripts map[string]string `json:"scripts"`
}

// npmVouch returns the package that vouches for p, a file below a
// node_modules directory, by the rules above.
func npmVouch(ctx context.Context, t *rootfs.Tree, src rootfs.Source, p string) (Public, bool, error) {
	i := strings.LastIndex(p, "/node_modules/")
	if i < 0 {
		return Public{}, false, nil
	}
	rest := strings.Split(p[i+len("/node_modules/"):], "/")
	n := 1
	if strings.HasPrefix(rest[0], "@") {
		n = 2
	}
	if len(rest) <= n {
		return Public{}, false, nil
	}
	name := strings.Join(rest[:n], "/")
	pkgDir := p[:i] + "/node_modules/" + name
	// The project is the directory that holds the outermost node_modules.
	project := p[:strings.Index(p, "/node_modules/")]
	key := strings.TrimPrefix(pkgDir, project+"/")
	var manifest npmManifest
	if ok, err := readJSON(ctx, t, src, pkgDir+"/package.json", &manifest); !ok || err != nil || manifest.Name != name {
		return Public{}, false, err
	}
	var root npmManifest
	if _, err := readJSON(ctx, t, src, project+"/package.json", &root); err != nil {
		return Public{}, false, err
	}
	for _, s := range []string{"preinstall", "install", "postinstall", "prepare"} {
		if root.Scripts[s] != "" {
			return Public{}, false, nil
		}
	}
	for _, lockPath := range []string{project + "/node_modules/.package-lock.json", project + "/package-lock.json"} {
		var lock npmLock
		ok, err := readJSON(ctx, t, src, lockPath, &lock)
		if err != nil || !ok {
			if err != nil {
				return Public{}, false, err
			}
			continue
		}
		e, found := lock.Packages[key]
		if !found || e.HasInstallScript || e.Integrity == "" || e.Version != manifest.Version ||
			!(strings.HasPrefix(e.Resolved, "https://") || strings.HasPrefix(e.Resolved, "http://")) {
			return Public{}, false, nil
		}
		return Public{Manager: "npm", Package: name, Version: e.Version, Databases: []string{lockPath, pkgDir + "/package.json"}}, true, nil
	}
	return Public{}, false, nil
}

// readJSON decodes the package database file p into v; false when there
// is no such regular file or it is not JSON (it vouches for nothing).
func readJSON(ctx context.Context, t *rootfs.Tree, src rootfs.Source, p string, v any) (bool, error) {
	phys, ok := t.Resolve(path.Clean(p))
	if !ok {
		return false, nil
	}
	e, _ := t.Lookup(phys)
	if !e.IsRegular() {
		return false, nil
	}
	dt, err := readDatabase(ctx, src, e)
	if err != nil {
		return false, err
	}
	return json.Unmarshal(dt, v) == nil, nil
}
