package harden

// World-writable paths.
//
//	HK2041 WorldWritable  — a world-writable directory without the sticky
//	                      bit is given it; world-writable files (and, with
//	                      the rule off, nothing is changed) are reported.
//
// A directory anyone may write lets anyone delete or replace what others
// put there: a server's pid file, socket or lock. The sticky bit keeps
// what a world-writable directory is for — every user may still create
// files in it — and takes away only the replacing: a file there can be
// removed or renamed by its owner alone, as in /tmp (1777) and Debian's
// /var/lib/php/sessions (1733). Official images make a run-time directory
// world-writable on purpose (postgres' `chmod 2777 /var/run/postgresql`,
// so that any uid the container runs as can put its socket there);
// refusing that build helps nobody, while the sticky bit keeps the intent
// and closes the hole. So hardening enforces it, shows it in the progress
// ("layout: /run/postgresql 3777 … (sticky bit: world-writable)") and
// records it (distroless.stickyBitAdded). A world-writable file has no
// such mode: it stays a finding, at the rule's level, pointed at the
// instruction that wrote it. What lies below a sticky directory is judged
// on its own — a 0777 binary in /var/tmp is as writable as one in /app.

import (
	"fmt"
	"io/fs"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleWorldWritable = rules.Rule{
	ID: "HK2041", Name: "WorldWritable", Title: "World-writable file or directory outside /tmp",
	Family: rules.FamilyHardening, Severity: rules.SeverityMedium, Stage: rules.StageLLB,
	Rationale:   "Any process in the container can change a world-writable file, whatever user it runs as: a place to plant code or tamper with data.",
	Remediation: "Nothing to change for a directory: hardenkit gives a world-writable directory the sticky bit, as /tmp has (anyone may create files, only their owners remove them). For a file: COPY --chmod / RUN chmod o-w it in the instruction that creates it, or move writable state to a volume or /tmp.",
	HelpURI:     rules.HelpURI("HK2041"),
}

// whySticky is the Why of a layout entry that adds the sticky bit.
const whySticky = "sticky bit: world-writable"

// worldWritable reports world-writable entries of t other than sticky
// directories.
func worldWritable(t *rootfs.Tree, level rules.Level) []rules.Finding {
	if level == rules.LevelOff {
		return nil
	}
	var out []rules.Finding
	for _, e := range t.Entries() {
		if e.Mode&fs.ModeSymlink != 0 || e.Mode.Perm()&0o002 == 0 {
			continue
		}
		if e.IsDir() && e.Mode&fs.ModeSticky != 0 {
			continue
		}
		// The full mode string shows the type and the sticky bit, so a
		// reader sees why a directory was not exempt.
		out = append(out, rules.Finding{Rule: ruleWorldWritable.ID, Level: level, File: e.Path,
			Message: fmt.Sprintf("%s is world-writable (%s)", e.Path, rootfs.ModeString(e.Mode))})
	}
	return out
}

// addSticky adds to want, for every shipped world-writable directory
// without the sticky bit, an entry that keeps its mode and owner and adds
// the bit (with its parents, which the layout copy needs). An entry the
// layout already decides keeps its metadata and gets the bit.
func (li layoutInput) addSticky(want map[string]LayoutEntry) {
	if !li.sticky {
		return
	}
	for _, e := range li.final.Entries() {
		if !e.IsDir() || !li.shipped[e.Path] || e.Mode.Perm()&0o002 == 0 || e.Mode&fs.ModeSticky != 0 {
			continue
		}
		w, ok := want[e.Path]
		if !ok {
			w = li.dirEntry(e.Path, 0, false, nil)
		}
		if w.Link != "" || w.Mode&0o002 == 0 || w.Mode&0o1000 != 0 {
			continue
		}
		if li.blocked(e.Path) {
			continue
		}
		for _, q := range rootfs.Parents(e.Path) {
			if _, ok := want[q]; !ok {
				want[q] = li.dirEntry(q, 0o755, false, nil)
			}
		}
		w.Mode |= 0o1000
		w.Why = whySticky
		want[e.Path] = w
	}
}

// stickyAdded returns the directories the layout gives the sticky bit.
func stickyAdded(layout []LayoutEntry) []string {
	var out []string
	for _, e := range layout {
		if e.Why == whySticky {
			out = append(out, e.Path)
		}
	}
	return out
}
