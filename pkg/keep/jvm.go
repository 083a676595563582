package keep

// A JVM image ships the runtime, not the kit. A JDK is a Java runtime
// image (JEP 220: bin/java, conf/, lib/ with the modules image, legal/,
// release) plus the development and diagnostic kit: the other launchers in
// bin/ (javac, jshell, jdb, jhsdb, jcmd, jmap, jlink, …) and the JDK-only
// directories (jmods/, include/, demo/, man/). What `java` needs to run is
// the runtime image's parts; the kit is not in the closure of the program
// that runs, so it is left out and listed, whether the JDK is Debian's
// (the launcher's package, openjdk-NN-jre-headless, and its dependencies
// are the runtime closure; the -jdk packages' launchers are executables
// nothing runs) or a tarball in /opt. The policy's keep list can keep a
// tool deliberately (controls.tooling.keep), and a tool the command line
// runs (`jcmd` in a HEALTHCHECK) is allowed like any program it runs.

import (
	"path"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// jvmRuntimeParts are the entries of a JVM home that make the runtime
// image (JEP 220), bin/ apart.
var jvmRuntimeParts = map[string]bool{"conf": true, "lib": true, "legal": true, "release": true}

// jvmHome returns the home of the JVM whose launcher is exe (resolved):
// H for H/bin/<exe> when H is a Java runtime image, identified by its
// modules image or its release file.
func jvmHome(t *rootfs.Tree, exe string) (string, bool) {
	if path.Base(path.Dir(exe)) != "bin" {
		return "", false
	}
	h := path.Dir(path.Dir(exe))
	if e, ok := t.Lookup(path.Join(h, "lib/modules")); ok && e.IsRegular() {
		return h, true
	}
	if e, ok := t.Lookup(path.Join(h, "release")); ok && e.IsRegular() && path.Base(exe) == "java" {
		return h, true
	}
	return "", false
}

// jvmRuntime returns the runtime image parts of the JVM home h that exist.
func jvmRuntime(t *rootfs.Tree, h string) []string {
	var out []string
	for _, c := range t.Children(h) {
		if jvmRuntimeParts[path.Base(c.Path)] {
			out = append(out, c.Path)
		}
	}
	return out
}

// dropJVMKits leaves out the kit of every JVM home the image runs: the
// launchers in bin/ that nothing runs and the entries that are not part
// of the runtime image, each listed with why, unless policy keeps it.
func (r *rebaser) dropJVMKits() {
	for _, h := range sortedKeys(r.jvmHomes) {
		for _, c := range r.t.Children(h) {
			name := path.Base(c.Path)
			switch {
			case jvmRuntimeParts[name]:
			case name == "bin" && c.IsDir():
				for _, b := range r.t.Children(c.Path) {
					if phys, _ := r.t.Resolve(b.Path); !r.allowed[b.Path] && !r.allowed[phys] {
						r.refuse(b.Path, "launcher of a development or diagnostic tool of the JDK in "+h+
							", which the image does not run: the Java runtime ships (bin/java, conf, lib, legal), the kit does not; keep one deliberately with controls.tooling.keep")
					}
				}
			default:
				r.refuse(c.Path, "JDK development files in "+h+" (not part of the Java runtime image: bin/java, conf, lib, legal, release)")
			}
		}
	}
}

// refuse leaves p and everything below it out for good, unless policy
// keeps it, and lists p with why: the package closure must not bring it
// back.
func (r *rebaser) refuse(p, reason string) {
	if r.policy[p] || r.refused[p] {
		return
	}
	r.refused[p] = true
	r.dropped = append(r.dropped, Dropped{Path: p, Reason: reason})
	r.kept.remove(p)
	for _, q := range r.t.Below(p) {
		if !r.policy[q] {
			r.kept.remove(q)
		}
	}
}

// isRefused reports whether p is, or is below, a refused path.
func (r *rebaser) isRefused(p string) bool {
	if r.refused[p] {
		return true
	}
	for _, d := range rootfs.Parents(p) {
		if r.refused[d] {
			return true
		}
	}
	return false
}

// kitOfRuntime reports whether every file of package name other than
// documentation lies in the home of a JVM the image runs: another part
// of the same installation (a JDK package beside the JRE's), not a
// library the runtime loads. Its runtime-image parts come with the home.
func (r *rebaser) kitOfRuntime(name string) bool {
	if len(r.jvmHomes) == 0 {
		return false
	}
	any := false
	for _, f := range r.db.pkgs[name].files {
		if e, ok := r.t.Lookup(f); !ok || e.IsDir() || isDoc(f) {
			continue
		}
		in := false
		for h := range r.jvmHomes {
			in = in || strings.HasPrefix(f, h+"/")
		}
		if !in {
			return false
		}
		any = true
	}
	return any
}
