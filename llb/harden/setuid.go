package harden

// setuid and setgid bits.
//
//	HK2040 SetuidFile     CIS 4.8 — no file of the shipped image keeps a setuid
//	                      or setgid bit.
//	HK2041 WorldWritable  — world-writable files and directories outside
//	                      /tmp-like directories are reported (not changed:
//	                      the application may rely on them).
//
// The normalising copy applies chmod u-s,g-s to every file it writes, so no
// list of known setuid programs is needed; verify.go re-reads the result.

import (
	"fmt"
	"io/fs"

	"github.com/moby/buildkit/client/llb"

	"github.com/hardenkit/hardenkit/frontend/rules"
	"github.com/hardenkit/hardenkit/llb/rootfs"
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

// tmpLike are directories that are world-writable by design (with the
// sticky bit), and what is below them.
var tmpLike = []string{"/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock"}

// worldWritable reports world-writable entries of t outside tmpLike.
func worldWritable(t *rootfs.Tree, level rules.Level) []rules.Finding {
	if level == rules.LevelOff {
		return nil
	}
	var out []rules.Finding
	for _, e := range t.Entries() {
		if e.Mode&fs.ModeSymlink != 0 || e.Mode.Perm()&0o002 == 0 {
			continue
		}
		inTmp := false
		for _, d := range tmpLike {
			inTmp = inTmp || e.Path == d || rootfs.IsUnder(e.Path, d)
		}
		if inTmp {
			continue
		}
		out = append(out, rules.Finding{Rule: ruleWorldWritable.ID, Level: level, File: e.Path,
			Message: fmt.Sprintf("%s is world-writable (%s)", e.Path, rootfs.ModeString(e.Mode))})
	}
	return out
}

// stripSetuid is the chmod the normalising copy applies to every file.
var stripSetuid = &llb.ChmodOpt{ModeStr: "u-s,g-s"}
