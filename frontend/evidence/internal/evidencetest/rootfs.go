// Package evidencetest builds small root filesystems for the tests of the
// evidence packages: a Debian bookworm tree whose dpkg database lists only
// some of the packages that have left files behind, as a hardened image's
// does, plus one installed package of each of a few language ecosystems.
package evidencetest

import (
	"os"
	"path/filepath"
	"testing"
)

// The packages DebianRootfs installs, as syft reports them.
const (
	// AptVersion is the version of apt in the dpkg database, bookworm's
	// 2.6.1: the version the fixture vulnerability affects.
	AptVersion = "2.6.1"
	// AptPURL is apt's package URL. The distro qualifier carries the
	// point release: syft refines os-release's VERSION_ID with
	// /etc/debian_version, as in a real bookworm image.
	AptPURL = "pkg:deb/debian/apt@2.6.1?arch=amd64&distro=debian-12.12"
	// LibcPURL is libc6's package URL (source package glibc).
	LibcPURL = "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12.12&upstream=glibc"
	// BaseFilesPURL is base-files' package URL.
	BaseFilesPURL = "pkg:deb/debian/base-files@12.4%2Bdeb12u15?arch=amd64&distro=debian-12.12"
	// NodePURL is the installed npm package's URL.
	NodePURL = "pkg:npm/left-pad@1.3.0"
	// PythonPURL is the installed python package's URL.
	PythonPURL = "pkg:pypi/six@1.16.0"
)

// dpkgStatus lists three of the four packages that have files in the tree:
// curl was stripped, its files and database records removed except for a
// stale .list file, which must not bring it back.
const dpkgStatus = `Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 341
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u15
Description: Debian base system miscellaneous files

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 13001
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u14
Description: GNU C Library: Shared libraries

Package: apt
Status: install ok installed
Priority: important
Section: admin
Installed-Size: 4232
Maintainer: APT Development Team <deity@lists.debian.org>
Architecture: amd64
Version: 2.6.1
Depends: libc6 (>= 2.34)
Description: commandline package manager

`

const osRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`

// DebianRootfs writes the fixture tree into a new temporary directory and
// returns its path.
func DebianRootfs(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	if err := WriteDebianRootfs(root); err != nil {
		t.Fatal(err)
	}
	return root
}

// WriteDebianRootfs writes the fixture tree into root, which must exist.
func WriteDebianRootfs(root string) error {
	files := map[string]string{
		"etc/os-release":      osRelease,
		"etc/debian_version":  "12.12\n",
		"var/lib/dpkg/status": dpkgStatus,

		"var/lib/dpkg/info/base-files.list":     "/.\n/etc\n/etc/debian_version\n",
		"var/lib/dpkg/info/base-files.md5sums":  "1e4bbd2a8d4a4bd1dc4a4d2ad4a4bd1d  etc/debian_version\n",
		"var/lib/dpkg/info/libc6:amd64.list":    "/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/libc.so.6\n",
		"var/lib/dpkg/info/libc6:amd64.md5sums": "0d4f2e8c0c8e3f1f4d2c8b0e3a9d7c6b  usr/lib/x86_64-linux-gnu/libc.so.6\n",
		"var/lib/dpkg/info/apt.list":            "/.\n/usr\n/usr/bin\n/usr/bin/apt\n",
		"var/lib/dpkg/info/apt.md5sums":         "3c2f4a3c8a2b1d0e9f8e7d6c5b4a3f2e  usr/bin/apt\n",
		// left behind by a stripped package: not in the status file
		"var/lib/dpkg/info/curl.list": "/.\n/usr\n/usr/bin\n/usr/bin/curl\n",

		"usr/bin/apt":                        "apt placeholder\n",
		"usr/bin/curl":                       "curl placeholder\n",
		"usr/lib/x86_64-linux-gnu/libc.so.6": "libc placeholder\n",

		// installed language packages: image catalogers report these
		"usr/lib/node_modules/left-pad/package.json":                  `{"name":"left-pad","version":"1.3.0","license":"WTFPL","main":"index.js"}` + "\n",
		"usr/lib/node_modules/left-pad/index.js":                      "module.exports = leftPad;\n",
		"usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n",
		"usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD":   "six.py,sha256=TOOfQi7nFGjMnIIhKsI5NhtmC5gLrb9fJhBgJySJYxQ,34549\n",
		"usr/lib/python3/dist-packages/six.py":                        "# six\n",

		// a lock file only declares packages: directory catalogers would
		// report lodash, image catalogers must not
		"app/package-lock.json": `{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0","dependencies":{"lodash":"4.17.20"}},"node_modules/lodash":{"version":"4.17.20","resolved":"https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz"}}}` + "\n",
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	// an absolute symlink must resolve inside the rootfs, not on the host
	return os.Symlink("/usr/lib/x86_64-linux-gnu/libc.so.6", filepath.Join(root, "usr/lib/x86_64-linux-gnu/libc-link.so"))
}
