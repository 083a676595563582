package dockerfilecheck

// Control: build steps stay sandboxed — every stage.
//
//	HK1041 RunSecurityInsecure  (no CIS item; hardening)

import (
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleRunSecurityInsecure = rules.Rule{
	ID:          "HK1041",
	Name:        "RunSecurityInsecure",
	Title:       "RUN --security=insecure",
	Family:      rules.FamilyHardening,
	Severity:    rules.SeverityCritical,
	Stage:       rules.StageStatic,
	Rationale:   "--security=insecure runs the step as a privileged container: all capabilities, no seccomp or AppArmor confinement, access to host devices. A malicious dependency in that step owns the builder.",
	Remediation: "Remove --security=insecure. Steps that seem to need it (mounting, loop devices, nested containers) can usually be restructured, or moved to a dedicated, isolated builder outside the hardened pipeline.",
	HelpURI:     helpURI("HK1041"),
}

var runSecurityControl = control{
	rules: []rules.Rule{ruleRunSecurityInsecure},
	check: checkRunSecurity,
}

func checkRunSecurity(f *file, r *reporter) {
	f.each(func(in *instr) {
		if run, ok := in.cmd.(*instructions.RunCommand); ok && instructions.GetSecurity(run) == instructions.SecurityInsecure {
			r.add(ruleRunSecurityInsecure, in.at, in.stage, onbuildPrefix(in)+"RUN --security=insecure runs the step as a privileged container; remove it")
		}
	})
}
