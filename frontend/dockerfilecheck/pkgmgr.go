package dockerfilecheck

import (
	"regexp"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// pkgOp is one package-manager invocation found in a RUN script, reduced
// to what the package rules need: which manager, which verb, which
// operands.
type pkgOp struct {
	manager string   // apt, apk, pip, pipx, npm, gem, rpm (yum/dnf/microdnf/tdnf), zypper, go
	tool    string   // the command as invoked: apt-get, dnf, pip3, …
	verb    string   // install, add, update, upgrade, …
	pkgs    []string // operands after the verb
	args    []string // everything after the command name, for option checks
	spec    shellscript.OptSpec
}

// Option specs of the package managers: the options that take a value.
var (
	aptSpec    = shellscript.OptSpec{Short: "oct", Long: []string{"option", "config-file", "target-release", "default-release", "host-architecture"}}
	apkSpec    = shellscript.OptSpec{Short: "tXp", Long: []string{"virtual", "repository", "root", "arch", "cache-dir", "keys-dir", "repositories-file", "cache-max-age"}}
	pipSpec    = shellscript.OptSpec{Short: "rceitfb", Long: []string{"requirement", "constraint", "editable", "index-url", "extra-index-url", "target", "prefix", "root", "find-links", "trusted-host", "platform", "python-version", "implementation", "abi", "progress-bar", "cache-dir", "src", "log", "timeout", "retries", "proxy", "cert", "client-cert", "no-binary", "only-binary", "upgrade-strategy", "config-settings", "global-option", "exists-action", "report", "python", "root-user-action", "use-feature", "keyring-provider", "group"}}
	npmSpec    = shellscript.OptSpec{Short: "w", Long: []string{"prefix", "registry", "tag", "workspace", "omit", "include", "install-strategy", "cache", "userconfig", "globalconfig", "loglevel"}}
	gemSpec    = shellscript.OptSpec{Short: "vinsPg", Long: []string{"version", "install-dir", "bindir", "source", "platform", "trust-policy", "file", "build-root", "env-shebang"}}
	rpmSpec    = shellscript.OptSpec{Short: "xcRed", Long: []string{"exclude", "installroot", "releasever", "enablerepo", "disablerepo", "config", "repo", "repofrompath", "forcearch", "downloaddir", "destdir", "color", "comment", "setopt", "releasever-major"}}
	zypperSpec = shellscript.OptSpec{Short: "rRc", Long: []string{"repo", "root", "config", "from", "type"}}
	pipxSpec   = shellscript.OptSpec{Long: []string{"spec", "python", "pip-args", "suffix", "index-url", "editable"}}
)

// pipName matches pip, pip3, pip3.12.
var pipName = regexp.MustCompile(`^pip[0-9.]*$`)

// pythonName matches python, python3, python3.12.
var pythonName = regexp.MustCompile(`^python[0-9.]*$`)

// pkgOpOf recognises a package-manager command in an unwrapped argv.
func pkgOpOf(argv []string) (pkgOp, bool) {
	if len(argv) == 0 {
		return pkgOp{}, false
	}
	name := shellscript.CommandName(argv[0])
	args := argv[1:]
	switch {
	case pythonName.MatchString(name) && len(args) >= 2 && args[0] == "-m" && pipName.MatchString(args[1]):
		name, args = args[1], args[2:]
	case name == "uv" && len(args) >= 1 && args[0] == "pip": // uv's pip interface
		name, args = "pip", args[1:]
	case name == "go":
		return goOpOf(args)
	}
	op := pkgOp{tool: name, args: args}
	switch {
	case name == "apt-get" || name == "apt" || name == "aptitude":
		op.manager, op.spec = "apt", aptSpec
	case name == "apk":
		op.manager, op.spec = "apk", apkSpec
	case pipName.MatchString(name):
		op.manager, op.spec = "pip", pipSpec
	case name == "pipx":
		op.manager, op.spec = "pipx", pipxSpec
	case name == "npm":
		op.manager, op.spec = "npm", npmSpec
	case name == "gem":
		op.manager, op.spec = "gem", gemSpec
	case name == "yum" || name == "dnf" || name == "microdnf" || name == "tdnf":
		op.manager, op.spec = "rpm", rpmSpec
	case name == "zypper":
		op.manager, op.spec = "zypper", zypperSpec
	default:
		return pkgOp{}, false
	}
	if op.manager == "gem" {
		// Words after "--" are the native extension's build options.
		if i := slices.Index(args, "--"); i >= 0 {
			args = args[:i]
		}
	}
	ops := op.spec.Operands(args)
	if len(ops) > 0 {
		op.verb = ops[0]
		op.pkgs = ops[1:]
	}
	if op.manager == "rpm" && op.verb == "module" && len(op.pkgs) > 0 {
		op.verb, op.pkgs = "module "+op.pkgs[0], op.pkgs[1:]
	}
	return op, true
}

// installs reports whether the operation installs named packages.
func (op pkgOp) installs() bool {
	switch op.manager {
	case "apt":
		return op.verb == "install" && !op.simulates()
	case "pip", "pipx":
		return op.verb == "install"
	case "rpm":
		return op.verb == "install" || op.verb == "module install"
	case "gem":
		return op.verb == "install" || op.verb == "i"
	case "go":
		return true
	case "apk":
		return op.verb == "add"
	case "npm":
		return op.verb == "install" || op.verb == "i" || op.verb == "add" || op.verb == "isntall"
	case "zypper":
		return op.verb == "install" || op.verb == "in"
	}
	return false
}

// simulates reports whether an apt command only shows what it would do
// (-s, --simulate, --dry-run, …): nothing is installed.
func (op pkgOp) simulates() bool {
	if op.hasOption("simulate", "just-print", "dry-run", "recon", "no-act") {
		return true
	}
	for _, o := range op.spec.Options(op.args) {
		if !strings.HasPrefix(o, "--") && shortGroupHas(o, 's', op.spec) {
			return true
		}
	}
	return false
}

// refreshesIndex reports whether the operation only refreshes the package
// index (`apt-get update`, `apk update`).
func (op pkgOp) refreshesIndex() bool {
	switch op.manager {
	case "apt", "apk":
		return op.verb == "update"
	}
	return false
}

// upgradesAll reports whether the operation upgrades every installed
// package to whatever the mirrors serve today.
func (op pkgOp) upgradesAll() bool {
	switch op.manager {
	case "apt":
		switch op.verb {
		case "upgrade", "dist-upgrade", "full-upgrade", "safe-upgrade":
			return true
		}
	case "apk":
		return op.verb == "upgrade"
	case "rpm":
		switch op.verb {
		case "update", "upgrade", "distro-sync", "dsync", "upgrade-minimal", "update-minimal":
			return len(op.pkgs) == 0
		}
	case "zypper":
		switch op.verb {
		case "dist-upgrade", "dup":
			return true
		case "update", "up", "patch":
			return len(op.pkgs) == 0
		}
	}
	return false
}

// changesRelease reports whether a blanket upgrade may add, remove or
// replace packages (a distribution upgrade) rather than only update them.
func (op pkgOp) changesRelease() bool {
	switch op.verb {
	case "dist-upgrade", "full-upgrade", "distro-sync", "dsync", "dup":
		return true
	}
	return false
}

// hasOption reports whether one of the long options (without "--") is
// present, as --name or --name=value.
func (op pkgOp) hasOption(names ...string) bool {
	for _, o := range op.spec.Options(op.args) {
		if !strings.HasPrefix(o, "--") {
			continue
		}
		n, _, _ := strings.Cut(o[2:], "=")
		for _, want := range names {
			if n == want {
				return true
			}
		}
	}
	return false
}

// unpinned returns the installed packages whose version is not pinned, in
// the manager's own pin syntax. Operands that are files, URLs or
// unresolved variables are not judged.
func (op pkgOp) unpinned() []string {
	if !op.installs() {
		return nil
	}
	if op.manager == "pip" {
		// A constraints file pins what the named packages resolve to.
		if _, ok := op.spec.OptionValue(op.args, "constraint", 'c'); ok {
			return nil
		}
	}
	var out []string
	for _, p := range op.pkgs {
		if isVariable(p) || p == "" {
			continue
		}
		if !op.pinned(p) {
			out = append(out, p)
		}
	}
	if op.manager == "gem" && len(out) > 0 {
		if _, ok := op.spec.OptionValue(op.args, "version", 'v'); ok {
			return nil
		}
	}
	return out
}

// exactVersion matches a version that names one release: 1.2.3, v2,
// 1.0.0-rc.1 (not a range, a dist-tag or a wildcard).
var exactVersion = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)*([-+.][0-9A-Za-z.+-]*)?$`)

// rpmVersioned matches name-version[-release] and name-epoch:version.
var rpmVersioned = regexp.MustCompile(`^[A-Za-z0-9._+-]+?-[0-9]+(:[0-9])?[0-9A-Za-z._+~^:-]*$`)

// pinned reports whether one package operand pins its version.
func (op pkgOp) pinned(p string) bool {
	if pinned, ok := artifactPinned(op.manager, p); ok {
		return pinned
	}
	switch op.manager {
	case "apt":
		_, v, ok := strings.Cut(p, "=")
		return ok && v != ""
	case "apk":
		return strings.ContainsAny(p, "=~<>")
	case "pip", "pipx":
		return strings.Contains(p, "==") || strings.Contains(p, "===")
	case "npm":
		at := strings.LastIndex(p, "@")
		if at <= 0 { // no version, or only a scope
			return false
		}
		return exactVersion.MatchString(p[at+1:])
	case "gem":
		_, v, ok := strings.Cut(p, ":")
		return ok && v != ""
	case "rpm":
		if strings.HasPrefix(p, "@") { // groups and modules
			return true
		}
		if op.verb == "module install" { // name:stream[/profile]
			_, stream, ok := strings.Cut(p, ":")
			return ok && stream != ""
		}
		return rpmVersioned.MatchString(p)
	case "zypper":
		return strings.ContainsAny(p, "=<>")
	case "go":
		return goPinned(op.verb, p)
	}
	return true
}

// pinHint points to `hardenkit pin` for the managers whose installed
// versions it reads.
func (op pkgOp) pinHint() string {
	switch op.manager {
	case "apt", "apk", "pip", "npm", "gem":
		return " (`hardenkit pin` writes the versions a build installs)"
	}
	return ""
}

// pinExample shows the manager's pin syntax for a remediation message.
func (op pkgOp) pinExample() string {
	switch op.manager {
	case "apt":
		return "name=version"
	case "apk":
		return "name=version"
	case "pip", "pipx":
		return "name==version, or a hashed requirements file"
	case "npm":
		return "name@version, or a lockfile with npm ci"
	case "gem":
		return "name:version or -v version"
	case "rpm":
		return "name-version"
	case "zypper":
		return "name=version"
	case "go":
		return "module@vX.Y.Z"
	}
	return "an exact version"
}
