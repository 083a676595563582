// Package tooling finds the tools hardenkit removes from a final image:
// package managers (and their caches), network utilities, debuggers and
// shells. Tools are found by name wherever executables live, and by
// content, so that renaming or copying a tool does not hide it: BusyBox
// and toybox multi-call binaries are recognised by their marker strings,
// their symlinks and hard links as applets, and files identical to a
// matched tool as copies.
package tooling

import (
	"path"
	"slices"
)

// Category is a kind of tool.
type Category string

// The categories, named as in the policy.
const (
	PackageManager Category = "package-manager"
	NetworkTool    Category = "network-tool"
	Debugger       Category = "debugger"
	Shell          Category = "shell"
)

// Lists says what each category contains. Names are base names or
// path.Match patterns of base names ("pip3.*", "dpkg-*"). Any list may be
// replaced by policy; an empty list removes nothing of that category.
type Lists struct {
	// PackageManagers are package manager executables (apt, pip, …).
	PackageManagers []string
	// NetworkTools are network utilities (curl, nc, ssh, …).
	NetworkTools []string
	// Debuggers are debugging and tracing tools (gdb, strace, …).
	Debuggers []string
	// Shells are shells and multi-call binaries (sh, bash, busybox, …).
	Shells []string
	// PackageManagerData are absolute path patterns (rootfs.Match syntax:
	// path.Match per segment, "**" across segments) of package manager
	// caches, indexes and self-installed modules. A match on a directory
	// covers everything below it.
	PackageManagerData []string
	// Known are tools known from elsewhere in the build (other stages,
	// the base images, the frontend's catalog) by fingerprint: a file
	// that is the same program (Compare) is that tool, whatever its name.
	// Only the categories whose list is not empty are looked for.
	Known []Known
}

// DefaultLists returns hardenkit's built-in lists.
func DefaultLists() Lists {
	return Lists{
		PackageManagers: []string{
			// Debian and Ubuntu.
			"apt", "apt-get", "apt-cache", "apt-cdrom", "apt-config", "apt-extracttemplates",
			"apt-ftparchive", "apt-key", "apt-mark", "apt-sortpkgs", "aptitude",
			"dpkg", "dpkg-*", "update-alternatives", "debconf", "debconf-*",
			// Alpine, Red Hat, SUSE and others.
			"apk", "yum", "yum-*", "dnf", "dnf-3", "dnf4", "dnf5", "microdnf", "tdnf",
			"rpm", "rpm2archive", "rpm2cpio", "rpmdb", "rpmkeys", "rpmquery", "rpmsign", "rpmverify",
			"zypper", "opkg", "pacman", "xbps-install", "emerge",
			// Language ecosystems.
			"pip", "pip3", "pip2", "pip3.*", "pip2.*", "pipx", "pipenv", "poetry", "easy_install", "easy_install-*",
			"uv", "uvx", "conda", "mamba", "micromamba",
			"npm", "npx", "yarn", "yarnpkg", "pnpm", "pnpx", "corepack",
			"gem", "bundle", "bundler", "composer", "cargo",
		},
		NetworkTools: []string{
			"curl", "wget", "nc", "nc.openbsd", "nc.traditional", "ncat", "netcat", "socat",
			"telnet", "ssh", "scp", "sftp", "sshd", "ssh-keyscan", "ftp", "tftp", "lftp",
			"rsync", "nmap", "aria2c", "dig", "nslookup",
		},
		Debuggers: []string{
			"gdb", "gdbserver", "gdb-multiarch", "lldb", "lldb-server", "strace", "ltrace",
			"tcpdump", "tshark", "dumpcap", "perf", "valgrind", "bpftrace", "bpftool",
			"sysdig", "trace-cmd", "gcore", "pstack",
		},
		Shells: []string{
			"sh", "bash", "rbash", "dash", "ash", "zsh", "ksh", "ksh93", "mksh", "pdksh",
			"csh", "tcsh", "fish", "yash", "posh", "busybox", "toybox",
		},
		PackageManagerData: []string{
			"/var/lib/apt", "/var/cache/apt", "/var/cache/debconf", "/var/log/apt",
			"/var/log/dpkg.log", "/var/log/alternatives.log", "/var/lib/dpkg/status-old", "/var/lib/dpkg/*-old",
			// ldconfig's auxiliary cache only speeds up the next ldconfig run
			// (a dpkg trigger) and records inode times: it is never the same
			// twice.
			"/var/cache/ldconfig",
			"/usr/lib/apt", "/usr/lib/dpkg", "/usr/libexec/dpkg",
			"/var/cache/apk", "/etc/apk/cache",
			"/var/cache/yum", "/var/cache/dnf", "/var/cache/zypp", "/var/cache/libdnf5",
			"/root/.cache/pip", "/home/*/.cache/pip", "/root/.npm", "/home/*/.npm",
			"/root/.cache/yarn", "/usr/local/share/.cache/yarn", "/root/.yarn",
			"/root/.cache/pnpm", "/root/.local/share/pnpm", "/root/.gem", "/root/.bundle/cache",
			"/root/.conda/pkgs", "/opt/conda/pkgs", "/root/.cache/uv", "/root/.cargo/registry",
			"/usr/lib/python3*/site-packages/pip", "/usr/lib/python3*/site-packages/pip-*.dist-info",
			"/usr/local/lib/python3*/site-packages/pip", "/usr/local/lib/python3*/site-packages/pip-*.dist-info",
			"/usr/lib/python3/dist-packages/pip", "/usr/lib/python3/dist-packages/pip-*.dist-info",
			"/usr/lib/node_modules/npm", "/usr/local/lib/node_modules/npm",
			"/usr/lib/node_modules/corepack", "/usr/local/lib/node_modules/corepack",
		},
	}
}

// multiCall are the multi-call binaries recognised by content. Content
// detection for one is on when its name is in one of the lists.
var multiCall = []struct {
	name    string
	markers []string
}{
	// libbb/messages.c: bb_banner = "BusyBox v" BB_VER …
	{"busybox", []string{"BusyBox v"}},
	// main.c: the multiplexer's own entry in toy_list, and its help text.
	{"toybox", []string{"usage: toybox", "\x00toybox\x00"}},
}

// Category returns the category whose list matches the base name name.
// Lists are tried in the order package managers, network tools,
// debuggers, shells.
func (l Lists) Category(name string) (Category, bool) {
	if name == "" {
		return "", false
	}
	for _, c := range []struct {
		cat   Category
		names []string
	}{
		{PackageManager, l.PackageManagers},
		{NetworkTool, l.NetworkTools},
		{Debugger, l.Debuggers},
		{Shell, l.Shells},
	} {
		if slices.ContainsFunc(c.names, func(pat string) bool {
			ok, err := path.Match(pat, name)
			return ok && err == nil
		}) {
			return c.cat, true
		}
	}
	return "", false
}

// Enabled reports whether category c is looked for: its list is not
// empty.
func (l Lists) Enabled(c Category) bool {
	switch c {
	case PackageManager:
		return len(l.PackageManagers) > 0
	case NetworkTool:
		return len(l.NetworkTools) > 0
	case Debugger:
		return len(l.Debuggers) > 0
	case Shell:
		return len(l.Shells) > 0
	}
	return false
}
