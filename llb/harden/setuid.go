package harden

// setuid and setgid bits.
//
//	HK2040 SetuidFile     CIS 4.8 — no file of the shipped image keeps a setuid
//	                      or setgid bit.
//
// The normalising copy applies chmod u-s,g-s to every file it writes, so no
// list of known setuid programs is needed; verify.go re-reads the result.

import (
	"github.com/moby/buildkit/client/llb"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSetuid = rules.Rule{
	ID: "HK2040", Name: "SetuidFile", Title: "File with a setuid or setgid bit in the shipped image",
	Family: rules.FamilyHardening, Severity: rules.SeverityHigh, Stage: rules.StageLLB, CIS: []string{"4.8"},
	Rationale:   "setuid and setgid programs run with their owner's privileges whoever starts them: the classic path from a foothold to root.",
	Remediation: "Nothing to change: hardenkit clears the bits. A program that needs elevated privileges should get a capability from the runtime instead.",
	HelpURI:     rules.HelpURI("HK2040"),
}

// stripSetuid is the chmod the normalising copy applies to every file.
var stripSetuid = &llb.ChmodOpt{ModeStr: "u-s,g-s"}
