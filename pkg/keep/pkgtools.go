package keep

// Packages that are tools, by their own metadata.
//
// A tool's package says what it is: Debian files shells under Section
// "shells" (bash, dash, sash, tcsh, fish, rc, elvish, xonsh — a shell
// written in Python is still a shell), lists them in /etc/shells (each
// shell's postinst runs add-shell), files network clients and servers
// under "net" (socat, ncat, tcpdump, openssh-client, iproute2), and names
// debuggers and tracers in their summary ("GNU Debugger", "System call
// tracer"). Sections are not enough alone: "net" also holds data
// (media-types, publicsuffix) and "web" holds nodejs next to curl, so a
// "net" package counts only when it has a command (a file in a bin or
// sbin directory), "web" not at all (curl and wget are in the name
// lists), and a summary counts only by whole phrases that name a tool's
// job, never a library's ("python3-scapy: Packet generator/sniffer and
// network scanner/discovery"). A package that is a tool leaves the runtime
// closure with every file only tool packages own, whoever asked for it:
// `apt-get install xonsh python3-scapy` next to a Python application does
// not make them part of its runtime. controls.tooling.keep keeps a path
// deliberately.

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/elfdeps"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// whySectionNet is why a package filed under "net" is a network tool.
const whySectionNet = "section net, with commands"

// etcShells lists the login shells an image has (add-shell, shells(5)).
const etcShells = "/etc/shells"

// toolPhrases are summary phrases that name a tool's job, by category.
var toolPhrases = []struct {
	cat tooling.Category
	re  *regexp.Regexp
}{
	{tooling.Debugger, regexp.MustCompile(`(?i)\b(debugger|system call tracer|library call tracer)\b`)},
	{tooling.NetworkTool, regexp.MustCompile(`(?i)\b(packet (generator|sniffer|capture|crafting|manipulation)|sniffer|network scanner|port scanner)\b`)},
	{tooling.Shell, regexp.MustCompile(`(?i)\b(command[- ]line shell|unix shell|command interpreter|shell language)\b`)},
}

// toolPackage says whether p is a tool's package and why; shells are the
// resolved paths /etc/shells lists.
func (db *dpkgDB) toolPackage(p *dpkgPackage, shells map[string]bool) (tooling.Category, string, bool) {
	if p.section == "shells" {
		return tooling.Shell, "section shells", true
	}
	for _, f := range p.files {
		if shells[f] {
			return tooling.Shell, etcShells + " lists " + f, true
		}
	}
	if !hasCommand(p) {
		return "", "", false
	}
	if p.section == "net" {
		return tooling.NetworkTool, whySectionNet, true
	}
	for _, tp := range toolPhrases {
		if m := tp.re.FindString(p.summary); m != "" {
			return tp.cat, fmt.Sprintf("described as %q", p.summary), true
		}
	}
	return "", "", false
}

// hasCommand reports whether p installs anything in a bin or sbin
// directory.
func hasCommand(p *dpkgPackage) bool {
	for _, f := range p.files {
		switch path.Base(path.Dir(f)) {
		case "bin", "sbin":
			return true
		}
	}
	return false
}

// readShells returns the resolved paths t's /etc/shells lists.
func readShells(ctx context.Context, t *rootfs.Tree, src rootfs.Source) (map[string]bool, error) {
	pm := pkgMeta{ctx: ctx, t: t, src: src}
	out := map[string]bool{}
	if !pm.exists(etcShells) {
		return out, nil
	}
	text, err := pm.read(etcShells)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "/") {
			continue
		}
		if r, ok := t.Resolve(rootfs.Clean(line)); ok {
			out[r] = true
		}
	}
	return out, nil
}

// toolPackages are the tool packages of db whose category l looks for,
// with the category and why.
type toolPkg struct {
	cat tooling.Category
	why string
}

// Packages whose programs the image's config names (servers) are not
// network tools by section: haproxy, mosquitto, dnsmasq and bind9 are
// filed under "net" and are the application when the image runs them.
func (db *dpkgDB) toolPackages(shells map[string]bool, l tooling.Lists, runs map[string]bool) map[string]toolPkg {
	out := map[string]toolPkg{}
	for _, name := range sortedKeys(db.pkgs) {
		cat, why, ok := db.toolPackage(db.pkgs[name], shells)
		if ok && cat == tooling.NetworkTool && runs[name] {
			continue
		}
		if ok && l.Enabled(cat) {
			out[name] = toolPkg{cat, why}
		}
	}
	return out
}

// namedPrograms returns the packages owning a program the image's
// entrypoint, command or exec-form health check names, in any word (the
// program after a wrapper such as tini or env is a later word).
func (db *dpkgDB) namedPrograms(t *rootfs.Tree, in RebaseInput) map[string]bool {
	pathEnv := in.Path
	if pathEnv == "" {
		pathEnv = elfdeps.DefaultPath
	}
	out := map[string]bool{}
	for _, w := range append(append([]string(nil), in.Entrypoint...), in.Healthcheck...) {
		if w == "" || strings.HasPrefix(w, "-") {
			continue
		}
		if strings.Contains(w, "/") && !path.IsAbs(w) {
			w = path.Join("/", in.WorkingDir, w)
		}
		exe, ok := elfdeps.LookPath(t, w, pathEnv)
		if !ok {
			continue
		}
		res, ok := t.ResolveLinks(exe, true)
		if !ok {
			continue
		}
		for _, p := range append(res.Links, res.Path) {
			for _, o := range db.owned(p) {
				out[o] = true
			}
		}
	}
	return out
}

// packageToolMatches returns the tooling matches for the packages of t
// that are tools (see above): every path only such packages own, and
// everything below a directory only they own (the byte code their
// postinst compiled), with one note per package for the build's output.
func packageToolMatches(ctx context.Context, in RebaseInput) ([]tooling.Match, []string, error) {
	t, src := in.Final, in.Src
	db, err := readDpkgDB(ctx, t, src)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the dpkg database: %w", err)
	}
	shells, err := readShells(ctx, t, src)
	if err != nil {
		return nil, nil, err
	}
	tools := db.toolPackages(shells, in.Tooling, db.namedPrograms(t, in))
	var out []tooling.Match
	var notes []string
	for _, name := range sortedKeys(tools) {
		tp := tools[name]
		reason := tooling.ReasonPackage + name + " (" + tp.why + ")"
		n := 0
		for _, f := range db.pkgs[name].files {
			if !db.onlyTools(f, tools) {
				continue
			}
			below := []string{f}
			if e, ok := t.Lookup(f); ok && e.IsDir() {
				// What the package's scripts generated below its own
				// directories (byte code) belongs to it too; what another
				// package lists there does not.
				for _, q := range t.Below(f) {
					if len(db.owned(q)) == 0 || db.onlyTools(q, tools) {
						below = append(below, q)
					}
				}
			}
			for _, p := range below {
				out = append(out, tooling.Match{Path: p, Category: tp.cat, Reason: reason, Tool: name})
				n++
			}
		}
		if n > 0 {
			notes = append(notes, fmt.Sprintf("package %s is a %s (%s): its %d paths leave the image, whoever installed it; "+
				"list a path in controls.tooling.keep to keep it deliberately", name, tp.cat, tp.why, n))
		}
	}
	return dedupeMatches(out), notes, nil
}

// onlyTools reports whether every package owning p is a tool's.
func (db *dpkgDB) onlyTools(p string, tools map[string]toolPkg) bool {
	owners := db.owned(p)
	for _, o := range owners {
		if _, ok := tools[o]; !ok {
			return false
		}
	}
	return len(owners) > 0
}

// dedupeMatches keeps the first match of each path, sorted by path.
func dedupeMatches(ms []tooling.Match) []tooling.Match {
	seen := map[string]bool{}
	var out []tooling.Match
	for _, m := range ms {
		if !seen[m.Path] {
			seen[m.Path] = true
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
