package keep

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// supportPath is a runtime support file or directory kept when present.
type supportPath struct {
	path    string
	subtree bool
}

// runtimeSupport are files a program may need at run time without naming
// them in its ELF headers: trust stores, time zones, user and name-service
// databases, the loader's cache and configuration, and the OS release
// files scanners identify the distribution by, and the C.UTF-8 locale
// (glibc's only built-in UTF-8 locale lives in libc-bin, which nothing
// depends on: without it LANG=C.UTF-8 makes Python's setlocale fail and
// Ruby fall back to US-ASCII — distroless ships it too). /tmp and /run are
// kept as directories only (programs write PID files and sockets under
// /run); their modes are the caller's business.
var runtimeSupport = []supportPath{
	{"/etc/ssl/certs", true},
	{"/etc/ssl/openssl.cnf", false},
	{"/etc/ca-certificates", true},
	{"/etc/ca-certificates.conf", false},
	{"/usr/share/ca-certificates", true},
	{"/usr/lib/ssl/certs", false},
	{"/usr/lib/ssl/openssl.cnf", false},
	{"/usr/lib/ssl/cert.pem", false},
	{"/etc/pki", true},
	{"/usr/share/zoneinfo", true},
	{"/etc/localtime", false},
	{"/etc/timezone", false},
	{"/etc/passwd", false},
	{"/etc/group", false},
	{"/etc/nsswitch.conf", false},
	{"/etc/host.conf", false},
	{"/etc/ld.so.cache", false},
	{"/etc/ld.so.conf", false},
	{"/etc/ld.so.conf.d", true},
	{"/etc/os-release", false},
	{"/usr/lib/os-release", false},
	{"/etc/debian_version", false},
	{"/etc/alpine-release", false},
	{"/etc/redhat-release", false},
	{"/etc/system-release", false},
	{"/etc/lsb-release", false},
	{"/usr/lib/locale/C.utf8", true},
	{"/usr/lib/locale/C.UTF-8", true},
	{"/tmp", false},
	{"/run", false},
}

// isPrivateKeyPath reports whether p is inside a "private" directory of a
// trust store (/etc/ssl/private, /etc/pki/tls/private): runtime support
// never ships private keys.
func isPrivateKeyPath(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "private" {
			return true
		}
	}
	return false
}

// muslPathGlob matches musl's per-architecture search path files.
const muslPathGlob = "/etc/ld-musl-*.path"

// glibcNSS are libraries glibc loads with dlopen for name service lookups
// (older glibc) and DNS: never in DT_NEEDED, needed by any program that
// resolves a user or host name.
var glibcNSS = []string{"libnss_files.so.2", "libnss_dns.so.2", "libresolv.so.2"}

var pythonName = regexp.MustCompile(`^python(\d)(?:\.(\d+))?$`)

// runtimeDirs returns the standard library directories of an interpreter
// recognised by the resolved path of its executable: python's
// lib/pythonX.Y (and Debian's lib/python3 dist-packages), node's global
// node_modules, and a JVM's home.
func runtimeDirs(t *rootfs.Tree, exe string) (kind string, dirs []string) {
	base := path.Base(exe)
	prefix := path.Dir(path.Dir(exe))
	exists := func(p string) bool {
		e, ok := t.Lookup(p)
		return ok && e.IsDir()
	}
	switch {
	case pythonName.MatchString(base):
		m := pythonName.FindStringSubmatch(base)
		major, minor := m[1], m[2]
		prefixes := rootfs.Unique([]string{prefix, "/usr", "/usr/local"})
		for _, p := range prefixes {
			for _, lib := range []string{"lib", "lib64"} {
				if minor != "" {
					dirs = append(dirs, path.Join(p, lib, "python"+major+"."+minor))
				} else {
					for _, c := range t.Children(path.Join(p, lib)) {
						if strings.HasPrefix(path.Base(c.Path), "python"+major+".") {
							dirs = append(dirs, c.Path)
						}
					}
				}
				dirs = append(dirs, path.Join(p, lib, "python"+major))
			}
		}
		kind = "python"
	case base == "node" || base == "nodejs":
		for _, p := range rootfs.Unique([]string{prefix, "/usr", "/usr/local"}) {
			dirs = append(dirs, path.Join(p, "lib/node_modules"), path.Join(p, "lib/nodejs"), path.Join(p, "share/nodejs"))
		}
		kind = "node"
	case base == "java" && path.Base(path.Dir(exe)) == "bin":
		// The runtime image, not the whole JDK (jvm.go).
		if h, ok := jvmHome(t, exe); ok {
			return "java", jvmRuntime(t, h)
		}
		dirs = append(dirs, prefix)
		kind = "java"
	default:
		return "", nil
	}
	var out []string
	for _, d := range rootfs.Unique(dirs) {
		if exists(d) {
			out = append(out, d)
		}
	}
	return kind, out
}

// nonELFExt are extensions of files that are never ELF objects, so the
// search for ELF files among kept files need not read them.
var nonELFExt = map[string]bool{
	".py": true, ".pyc": true, ".pyi": true, ".pth": true, ".js": true, ".mjs": true, ".cjs": true,
	".ts": true, ".map": true, ".json": true, ".txt": true, ".md": true, ".rst": true, ".html": true,
	".htm": true, ".css": true, ".xml": true, ".yaml": true, ".yml": true, ".toml": true, ".ini": true,
	".cfg": true, ".conf": true, ".pem": true, ".crt": true, ".h": true, ".c": true, ".go": true,
	".java": true, ".class": true, ".jar": true, ".gz": true, ".zip": true, ".xz": true, ".bz2": true,
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".svg": true, ".ico": true, ".mo": true,
	".po": true, ".csv": true, ".sql": true, ".rb": true, ".pl": true, ".pm": true, ".sh": true,
	".lock": true, ".typed": true, ".ttf": true, ".woff": true, ".woff2": true,
}

// interpreterName matches the programs that run a script named on their
// command line, whose runtime files (modules, gems, extensions) no ELF
// header names.
var interpreterName = regexp.MustCompile(`^(python|node|nodejs|java|perl|ruby|php|lua|luajit|tclsh|wish|Rscript|erl|escript|elixir|guile|racket|julia|pwsh|bun|deno)[0-9.]*$`)

// unknownInterpreters returns a note for each interpreter the entrypoint
// runs (a program named like one, or a "#!" interpreter of its scripts)
// whose runtime hardenkit cannot determine: not python, node or java
// (runtimeDirs) and not a dpkg package's file, whose package metadata
// would name its runtime files. Only its ELF closure ships then, and the
// user must hear so at build time rather than from a failing container.
func unknownInterpreters(t *rootfs.Tree, programs, scriptInterps []string, entrypoint []string, owned func(string) bool) []string {
	cands := append([]string(nil), scriptInterps...)
	for _, exe := range programs {
		if interpreterName.MatchString(path.Base(exe)) {
			cands = append(cands, exe)
		}
	}
	var out []string
	for _, x := range rootfs.Unique(cands) {
		if kind, _ := runtimeDirs(t, x); kind != "" {
			continue
		}
		if owned(x) {
			continue
		}
		out = append(out, fmt.Sprintf("the entrypoint %s runs %s, an interpreter hardenkit does not know the runtime files of "+
			"(not python, node or java, and no package database owns it): only its dynamic-link closure ships; "+
			"list the directories it loads modules from in controls.tooling.keep", strings.Join(entrypoint, " "), x))
	}
	return out
}
