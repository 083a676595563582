package dockerfilecheck

// Control: package versions pinned — every stage.
//
//	HK1030 PackageVersionNotPinned  (no CIS item; reproducibility)

import (
	"fmt"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

var rulePackageUnpinned = rules.Rule{
	ID:          "HK1030",
	Name:        "PackageVersionNotPinned",
	Title:       "Package installed without a version pin",
	Family:      rules.FamilyReproducibility,
	Severity:    rules.SeverityMedium,
	Stage:       rules.StageStatic,
	Rationale:   "apt-get, apk, pip, npm, gem, yum and dnf install whatever version the index serves on the day of the build, so two builds of the same commit differ and a compromised release is picked up silently.",
	Remediation: "Run `hardenkit pin CONTEXT`: it builds the stage and writes the versions the build installed for apt, apk, pip, npm and gem (name=version, name==version, name@version, name:version). For yum/dnf and zypper pin exact versions by hand (name-version), or install from a lockfile or a dated snapshot repository.",
	HelpURI:     helpURI("HK1030"),
}

var packagePinsControl = control{
	rules: []rules.Rule{rulePackageUnpinned},
	check: checkPackagePins,
}

func checkPackagePins(f *file, r *reporter) {
	f.eachCall(func(in *instr, argv []string, _ shellscript.Call) {
		op, ok := pkgOpOf(argv)
		if !ok {
			return
		}
		if pkgs := op.unpinned(); len(pkgs) > 0 {
			r.add(rulePackageUnpinned, in.at, in.stage, fmt.Sprintf("%sRUN %s %s installs %s without a version pin; pin as %s%s",
				onbuildPrefix(in), op.tool, op.verb, strings.Join(pkgs, ", "), op.pinExample(), op.pinHint()))
		}
	})
}
