package dockerfilecheck

// Control: no blanket upgrades in the Dockerfile — every stage.
//
//	HK1032 PackageUpgradeAll  (no CIS item; reproducibility)

import (
	"fmt"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

var ruleUpgradeAll = rules.Rule{
	ID:          "HK1032",
	Name:        "PackageUpgradeAll",
	Title:       "Blanket package upgrade (upgrade / dist-upgrade)",
	Family:      rules.FamilyReproducibility,
	Severity:    rules.SeverityMedium,
	Stage:       rules.StageStatic,
	Rationale:   "apt-get upgrade/dist-upgrade, apk upgrade and yum/dnf update make the image's package set depend on the day of the build instead of the pinned base, and can pull in major changes unreviewed.",
	Remediation: "Take security fixes by moving the base image digest to a rebuilt upstream image (and rebuilding), or pin the specific fixed package versions you need.",
	HelpURI:     helpURI("HK1032"),
}

var upgradeControl = control{
	rules: []rules.Rule{ruleUpgradeAll},
	check: checkUpgradeAll,
}

func checkUpgradeAll(f *file, r *reporter) {
	f.eachCall(func(in *instr, argv []string, _ shellscript.Call) {
		if op, ok := pkgOpOf(argv); ok && op.upgradesAll() {
			r.add(ruleUpgradeAll, in.at, in.stage, fmt.Sprintf("%sRUN %s %s upgrades every package to whatever the mirror serves today; update the pinned base image instead", onbuildPrefix(in), op.tool, op.verb))
		}
	})
}
