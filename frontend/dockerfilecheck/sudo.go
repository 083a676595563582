package dockerfilecheck

// Control: no sudo — every stage for running it, the shipped image for
// installing it.
//
//	HK1042 SudoUsed  (no CIS item; tooling)

import (
	"fmt"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

var ruleSudo = rules.Rule{
	ID:          "HK1042",
	Name:        "SudoUsed",
	Title:       "sudo used or installed",
	Family:      rules.FamilyTooling,
	Severity:    rules.SeverityMedium,
	Stage:       rules.StageStatic,
	Rationale:   "RUN steps already run as the USER in effect, so sudo in a build only hides which user a step really needs; installed in the shipped image it is a privilege-escalation tool (and its unpredictable TTY and signal behaviour breaks containers).",
	Remediation: "Switch users with USER around the steps that need root and drop sudo; do not install the sudo package in the shipped image (use gosu/su-exec in an entrypoint only if a runtime switch is unavoidable).",
	HelpURI:     helpURI("HK1042"),
}

var sudoControl = control{
	rules: []rules.Rule{ruleSudo},
	check: checkSudo,
}

func checkSudo(f *file, r *reporter) {
	f.eachScript(func(in *instr, s *shellscript.Script) {
		for _, c := range s.Calls {
			if shellscript.WrappedBy(c.Args, "sudo") {
				r.add(ruleSudo, in.at, in.stage, onbuildPrefix(in)+"RUN uses sudo; use USER to run steps as the user they need")
				break
			}
		}
	})
	f.eachCall(func(in *instr, argv []string, _ shellscript.Call) {
		if !in.stage.shipped {
			return
		}
		op, ok := pkgOpOf(argv)
		if !ok || !op.installs() {
			return
		}
		for _, p := range op.pkgs {
			if packageName(p) == "sudo" {
				r.add(ruleSudo, in.at, in.stage, fmt.Sprintf("%sRUN %s %s installs sudo into the shipped image; remove it", onbuildPrefix(in), op.tool, op.verb))
			}
		}
	})
}

// packageName strips a version pin from a package operand.
func packageName(p string) string {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '=', '<', '>', '~', '@', ':':
			return p[:i]
		}
	}
	return p
}
