package inspect

// setuid and setgid files.
//
//	HK3010 SetuidFileInImage  CIS 4.8 — a regular file of the final image
//	                          has the setuid or setgid bit.
//
// Directories are not reported: setgid on a directory only makes new
// files inherit its group.

import (
	"context"
	"io/fs"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSetuid = imageRule(rules.Rule{
	ID: "HK3010", Name: "SetuidFileInImage", Title: "File with a setuid or setgid bit in the final image",
	Family: rules.FamilyHardening, Severity: rules.SeverityHigh, CIS: []string{"4.8"},
	Rationale:   "setuid and setgid programs run with their owner's or group's privileges whoever starts them: the classic path from a foothold in a container to root in it (CIS Docker Benchmark 4.8, dockle CIS-DI-0008).",
	Remediation: "Remove the bits (chmod u-s,g-s) or the programs; hardenkit's tooling and setuid controls do both. A program that needs privileges should get a capability from the runtime instead.",
})

var setuidCheck = check{rules: []rules.Rule{ruleSetuid}, run: checkSetuid}

func checkSetuid(_ context.Context, e *env) ([]rules.Finding, error) {
	var out []rules.Finding
	for _, ent := range e.in.Tree.Entries() {
		if !ent.IsRegular() {
			continue
		}
		var bits string
		switch m := ent.Mode; {
		case m&fs.ModeSetuid != 0 && m&fs.ModeSetgid != 0:
			bits = "setuid and setgid"
		case m&fs.ModeSetuid != 0:
			bits = "setuid"
		case m&fs.ModeSetgid != 0:
			bits = "setgid"
		default:
			continue
		}
		out = append(out, finding(ruleSetuid, ent.Path, 0, "%s is %s (owner %d:%d, mode %s)", ent.Path, bits, ent.UID, ent.GID, rootfs.ModeString(ent.Mode)))
	}
	return out, nil
}
