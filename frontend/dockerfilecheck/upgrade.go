package dockerfilecheck

// Control: no blanket upgrades in the Dockerfile — every stage.
//
//	HK1032 PackageUpgradeAll  (no CIS item; reproducibility)
//
// A plain upgrade (apt-get upgrade, apk upgrade, yum update) only moves
// installed packages to newer builds of the same release: hadolint dropped
// its check and Docker's guidance no longer advises against it, so it is
// reported at warn at most unless the policy names HK1032 itself. A
// distribution upgrade (dist-upgrade, full-upgrade, zypper dup) can add,
// remove and replace packages and stays at the policy's level.

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
	Rationale:   "apt-get upgrade/dist-upgrade, apk upgrade and yum/dnf update make the image's package set depend on the day of the build instead of the pinned base. A plain upgrade (security and bug-fix builds of the same release) is reported as a reproducibility warning unless the policy sets HK1032's level itself; a distribution upgrade (dist-upgrade, full-upgrade, distro-sync, zypper dup), which can add, remove and replace packages unreviewed, at the policy's level.",
	Remediation: "Take security fixes by moving the base image digest to a rebuilt upstream image (and rebuilding), or pin the specific fixed package versions you need.",
	HelpURI:     helpURI("HK1032"),
}

var upgradeControl = control{
	rules: []rules.Rule{ruleUpgradeAll},
	check: checkUpgradeAll,
}

func checkUpgradeAll(f *file, r *reporter) {
	f.eachCall(func(in *instr, argv []string, _ shellscript.Call) {
		op, ok := pkgOpOf(argv)
		if !ok || !op.upgradesAll() {
			return
		}
		msg := fmt.Sprintf("%sRUN %s %s upgrades every package to whatever the mirror serves today; update the pinned base image instead", onbuildPrefix(in), op.tool, op.verb)
		if _, explicit := f.opt.Policy.Rules[ruleUpgradeAll.ID]; explicit || op.changesRelease() {
			r.add(ruleUpgradeAll, in.at, in.stage, msg)
			return
		}
		r.addNote(ruleUpgradeAll, in, msg)
	})
}
