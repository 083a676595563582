package dockerfilecheck

// Control: index update in the same RUN as the install — every stage.
//
//	HK1031 UpdateWithoutInstall  CIS 4.7

import (
	"fmt"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

var ruleUpdateAlone = rules.Rule{
	ID:          "HK1031",
	Name:        "UpdateWithoutInstall",
	Title:       "Package index updated in a RUN without an install",
	Family:      rules.FamilyDeterministicDockerfile,
	Severity:    rules.SeverityMedium,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.7"},
	Rationale:   "A RUN that only runs `apt-get update` (or `apk update`) is cached on its own: later installs use a stale index from whenever that layer was built, and the index files bloat the image (CIS 4.7).",
	Remediation: "Update and install in one RUN and clean up in it: RUN apt-get update && apt-get install -y --no-install-recommends pkg=ver && rm -rf /var/lib/apt/lists/*; for Alpine use apk add --no-cache.",
	HelpURI:     helpURI("HK1031"),
}

var aptUpdateControl = control{
	rules: []rules.Rule{ruleUpdateAlone},
	check: checkUpdateAlone,
}

func checkUpdateAlone(f *file, r *reporter) {
	f.eachScript(func(in *instr, s *shellscript.Script) {
		updated := map[string]string{} // manager -> tool that updated
		installed := map[string]bool{}
		for _, c := range s.Calls {
			argv, _ := shellscript.Unwrap(c.Args)
			op, ok := pkgOpOf(argv)
			if !ok {
				continue
			}
			if op.refreshesIndex() {
				updated[op.manager] = op.tool
			}
			if op.installs() || op.upgradesAll() {
				installed[op.manager] = true
			}
		}
		for _, mgr := range []string{"apt", "apk"} {
			if tool, ok := updated[mgr]; ok && !installed[mgr] {
				r.add(ruleUpdateAlone, in.at, in.stage, fmt.Sprintf("%sRUN runs %s update without installing in the same RUN; update and install together", onbuildPrefix(in), tool))
			}
		}
	})
}
