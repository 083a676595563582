package dockerfilecheck

// Where an installed thing comes from, for the pinning rules (HK1003,
// HK1030): a name resolved against an index, a local file, a URL or a
// version-control reference — and whether the reference names one
// release or follows a moving one (a branch, `latest`, `edge`).

import (
	"path"
	"regexp"
	"strings"
)

// floatingRefs are the names registries and repositories use for a
// reference that moves by design: default branches, rolling channels and
// dist-tags. A tag or ref with one of these names is never a pin.
var floatingRefs = map[string]bool{
	"latest": true, "main": true, "master": true, "develop": true, "trunk": true,
	"head": true, "edge": true, "nightly": true, "rolling": true, "canary": true,
	"unstable": true, "testing": true, "sid": true, "next": true, "stable": true,
	"mainline": true, "tip": true, "upgrade": true, "patch": true,
}

// isFloatingRef reports whether a tag, branch or version query names a
// moving target.
func isFloatingRef(ref string) bool {
	return floatingRefs[strings.ToLower(ref)]
}

// isFloatingTag reports whether an image tag follows a moving target:
// `edge`, `nightly`, or a variant of one such as `stable-slim` (a tag
// with a number in it, like nightly-2024-05-01, names one build).
func isFloatingTag(tag string) bool {
	head, _, _ := strings.Cut(tag, "-")
	return isFloatingRef(head) && !strings.ContainsAny(tag, "0123456789")
}

// vcsPrefixes start a version-control source (pip, npm, gem, go).
var vcsPrefixes = []string{"git+", "git://", "hg+", "svn+", "bzr+", "github:", "gitlab:", "bitbucket:", "gist:"}

// artifactSuffixes are package files installed as they are.
var artifactSuffixes = []string{".deb", ".apk", ".rpm", ".whl", ".egg", ".gem", ".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tbz2", ".txz"}

// npmShorthand matches npm's GitHub shorthand user/repo[#ref].
var npmShorthand = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(#.*)?$`)

// artifactPinned judges a package operand that is not a name to resolve
// against an index: a local path or file, a URL or a version-control
// reference. ok is false for a plain name (the manager's syntax decides).
func artifactPinned(manager, p string) (pinned, ok bool) {
	if name, url, ok := strings.Cut(p, "@"); ok && strings.HasPrefix(manager, "pip") && strings.Contains(url, "://") && !strings.ContainsAny(name, "/:") {
		return artifactPinned(manager, strings.TrimSpace(url)) // PEP 508 name@url
	}
	lower := strings.ToLower(p)
	for _, pre := range vcsPrefixes {
		if strings.HasPrefix(lower, pre) {
			return vcsPinned(p), true
		}
	}
	switch {
	case strings.Contains(p, "://"):
		return !floatingArchive(p), true
	case strings.HasPrefix(p, ".") || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~") || strings.HasPrefix(lower, "file:"):
		return true, true
	case manager == "npm" && npmShorthand.MatchString(p):
		return vcsPinned(p), true
	case strings.HasPrefix(manager, "pip") && strings.Contains(p, "/"):
		return true, true // a requirement name has no "/": a local directory
	}
	for _, ext := range artifactSuffixes {
		if strings.HasSuffix(lower, ext) {
			return true, true
		}
	}
	return false, false
}

// vcsPinned reports whether a version-control source names a ref that is
// not a moving one: npm's `#ref` (not `#semver:` ranges), or pip's
// `@ref` after the repository path.
func vcsPinned(src string) bool {
	rest, frag, _ := strings.Cut(src, "#")
	if frag != "" && !strings.Contains(frag, "=") { // #egg=, #subdirectory= are not refs
		return !strings.HasPrefix(frag, "semver:") && !isFloatingRef(frag)
	}
	if _, after, ok := strings.Cut(rest, "://"); ok {
		rest = after
	}
	// Skip the authority (user@host[:port]) before looking for @ref.
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return false
	}
	at := strings.LastIndexByte(rest[slash:], '@')
	if at < 0 {
		return false
	}
	ref := rest[slash+at+1:]
	return ref != "" && !isFloatingRef(ref)
}

// floatingArchive reports whether a URL downloads a branch snapshot
// (…/archive/main.zip, …/archive/refs/heads/x.tar.gz, …/tarball/master)
// rather than a release.
func floatingArchive(u string) bool {
	u, _, _ = strings.Cut(u, "?")
	u, _, _ = strings.Cut(u, "#")
	if strings.Contains(u, "/refs/heads/") {
		return true
	}
	base := path.Base(u)
	for _, ext := range artifactSuffixes {
		base = strings.TrimSuffix(base, ext)
	}
	return isFloatingRef(base)
}

// goValueFlags are the go command's build flags that take the next word
// as their value.
var goValueFlags = map[string]bool{
	"C": true, "p": true, "o": true, "asmflags": true, "buildmode": true, "compiler": true,
	"gccgoflags": true, "gcflags": true, "installsuffix": true, "ldflags": true, "mod": true,
	"modfile": true, "overlay": true, "pgo": true, "pkgdir": true, "tags": true,
	"toolexec": true, "exec": true, "covermode": true, "coverpkg": true,
}

// goOpOf reads `go install|get|run` arguments: the packages are the
// operands (for go run, the first one; the rest are the program's).
func goOpOf(args []string) (pkgOp, bool) {
	if len(args) == 0 {
		return pkgOp{}, false
	}
	switch args[0] {
	case "install", "get", "run":
	default:
		return pkgOp{}, false
	}
	op := pkgOp{manager: "go", tool: "go", verb: args[0], args: args[1:]}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			op.pkgs = append(op.pkgs, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") {
			if name := strings.TrimLeft(a, "-"); !strings.Contains(name, "=") && goValueFlags[name] {
				i++
			}
			continue
		}
		op.pkgs = append(op.pkgs, a)
		if op.verb == "run" {
			break
		}
	}
	return op, true
}

// goVersion matches a full semantic version or a commit hash: the
// version queries that select one module version (v1, v1.2, latest,
// branch names select whatever is newest).
var goVersion = regexp.MustCompile(`^(v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?|[0-9a-f]{7,40})$`)

// goPinned reports whether a go package argument selects one version: a
// local package or file, or path@version with an exact version. verb is
// install, get or run: `go get` never fetches the standard library.
func goPinned(verb, p string) bool {
	pkg, ver, hasVer := strings.Cut(p, "@")
	if hasVer {
		return ver == "none" || goVersion.MatchString(ver)
	}
	first, _, _ := strings.Cut(pkg, "/")
	// Local directories and files, and the standard library (no dot in
	// its first element), come with the toolchain or the build context.
	return strings.HasPrefix(pkg, ".") || strings.HasPrefix(pkg, "/") || strings.HasSuffix(pkg, ".go") || (verb != "get" && !strings.Contains(first, "."))
}
