package keep

// Libraries are data. A file under an interpreter's module search path is
// loaded by the interpreter (`use Getopt::Long`, `import flask`,
// `require('express')`), never executed, whatever its first line or mode:
// Debian's Perl modules start with "#!perl" (Getopt/Long.pm, version.pm),
// pip and npm leave execute bits and "#!" lines on modules. Judging those
// as executables nothing runs dropped them, and `use Getopt::Long` failed
// in an image whose build passed. The search paths are the interpreters'
// documented layouts, not a list of modules:
//
//   - Python's sys.path entries: lib/pythonX[.Y] under any prefix (the
//     interpreter's own, /usr/local, a venv's) and every site-packages or
//     dist-packages directory;
//   - Perl's @INC: lib/perl5, lib/perl/X.Y, lib/<triple>/perl-base,
//     share/perl5, share/perl/X.Y, site_perl and vendor_perl, /etc/perl;
//   - Ruby's $LOAD_PATH and gems: lib/ruby, lib/<triple>/ruby, a gem's lib;
//   - Node's: every node_modules directory, lib/nodejs, share/nodejs;
//   - the JVM's class path: share/java (the JVM home's lib is its runtime,
//     jvm.go).
//
// Commands installed beside modules (bin/, sbin/, node_modules/.bin) are
// commands, and an ELF executable that is not a shared object is judged as
// an executable wherever it lies: only what an interpreter loads is a
// library. A gem's own executables are such code (gemExecutable).

import (
	"path"
	"regexp"
	"strings"
)

// moduleRootDir matches the directory below lib/ or share/ (or
// lib/<multiarch triple>/) where an interpreter's module search path
// begins.
var moduleRootDir = regexp.MustCompile(`^(perl5?|perl-base|site_perl|vendor_perl|python[0-9](\.[0-9]+)?|ruby|rubygems-integration|nodejs|java)$`)

// commandDir are directory names that hold commands, not modules.
var commandDir = map[string]bool{"bin": true, "sbin": true, ".bin": true, "exe": true}

// moduleRoot returns the index of the segment of dirs (a path's directory
// segments) where a module search path begins, or -1.
func moduleRoot(dirs []string) int {
	for i, s := range dirs {
		switch {
		case s == "site-packages" || s == "dist-packages" || s == "node_modules":
			return i
		case (s == "lib" || s == "share") && i+1 < len(dirs):
			next := i + 1
			if strings.Contains(dirs[next], "-linux-") && next+1 < len(dirs) {
				next++
			}
			if moduleRootDir.MatchString(dirs[next]) {
				return next
			}
		case s == "gems" && i+2 < len(dirs) && dirs[i+2] == "lib":
			return i + 2
		case i == 1 && s == "perl" && dirs[0] == "etc":
			return i
		}
	}
	return -1
}

// inModulePath reports whether p lies under an interpreter's module search
// path and not in a command directory there.
func inModulePath(p string) bool {
	dirs := strings.Split(strings.Trim(path.Dir(p), "/"), "/")
	if gemExecutable(dirs) {
		return true
	}
	root := moduleRoot(dirs)
	if root < 0 {
		return false
	}
	for _, s := range dirs[root+1:] {
		if commandDir[s] {
			return false
		}
	}
	return true
}

// library reports whether the file p is a library an interpreter loads:
// under a module search path, and not an ELF executable other than a
// shared object (Python's and Ruby's extension modules are ELF files,
// some with an entry point). headers must have read p.
func (r *rebaser) library(p string) bool {
	if !inModulePath(p) {
		return false
	}
	h := r.hdr[p]
	return !h.elf || !h.exec || strings.Contains(path.Base(p), ".so")
}

// gemExecutable reports whether dirs (a file's directory segments) are a
// gem's executables directory, gems/<name>-<version>/bin or exe. RubyGems
// never runs those files: `gem install` and Debian's rubygems-integration
// put a binstub on PATH (/usr/bin/rackup) that does
// `load Gem.bin_path("rack", "rackup")`, so the interpreter reads the gem's
// file as code, like a module. Dropping it as a command nothing runs broke
// every gem command the image runs through its binstub; the binstub itself
// stays a command, judged where it lies.
func gemExecutable(dirs []string) bool {
	n := len(dirs)
	return n >= 3 && dirs[n-3] == "gems" && strings.Contains(dirs[n-2], "-") &&
		(dirs[n-1] == "bin" || dirs[n-1] == "exe")
}
