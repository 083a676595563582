package harden

// setuid and setgid bits.
//
//	HK2040 SetuidFile     CIS 4.8 — no file of the shipped image keeps a setuid
//	                      or setgid bit.
//	HK2041 WorldWritable  — world-writable files and directories are
//	                      reported (not changed: the application may rely
//	                      on them), except a sticky directory itself (/tmp
//	                      1777, Debian's /var/lib/php/sessions 1733): the
//	                      sticky bit lets everyone create files there but
//	                      only their owners replace them. What lies below a
//	                      sticky directory is judged on its own — a 0777
//	                      binary in /var/tmp is as writable as one in /app.
//
// The normalising copy applies chmod u-s,g-s to every file it writes, so no
// list of known setuid programs is needed; verify.go re-reads the result.

import (
	"fmt"
	"io/fs"

	"github.com/moby/buildkit/client/llb"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSetuid = rules.Rule{
	ID: "HK2040", Name: "SetuidFile", Title: "File with a setuid or setgid bit in the shipped image",
	Family: rules.FamilyHardening, Severity: rules.SeverityHigh, Stage: rules.StageLLB, CIS: []string{"4.8"},
	Rationale:   "setuid and setgid programs run with their owner's privileges whoever starts them: the classic path from a foothold to root.",
	Remediation: "Nothing to change: hardenkit clears the bits. A program that needs elevated privileges should get a capability from the runtime instead.",
	HelpURI:     rules.HelpURI("HK2040"),
}

var ruleWorldWritable = rules.Rule{
	ID: "HK2041", Name: "WorldWritable", Title: "World-writable file or directory outside /tmp",
	Family: rules.FamilyHardening, Severity: rules.SeverityMedium, Stage: rules.StageLLB,
	Rationale:   "Any process in the container can change a world-writable file, whatever user it runs as: a place to plant code or tamper with data.",
	Remediation: "COPY --chmod / RUN chmod o-w the path, or move writable state to a volume or /tmp.",
	HelpURI:     rules.HelpURI("HK2041"),
}

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

// stripSetuid is the chmod the normalising copy applies to every file.
var stripSetuid = &llb.ChmodOpt{ModeStr: "u-s,g-s"}
