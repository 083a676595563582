package dockerfilecheck

// Control: package versions pinned — every stage; and sources cloned into
// the shipped image pinned to a tag or commit.
//
//	HK1030 PackageVersionNotPinned  (no CIS item; reproducibility)
//
// A version range (pip >=, npm ^1.2, apk ~) is not a pin: it still takes
// whatever the index serves on the day of the build.

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
	Rationale:   "apt-get, apk, pip, pipx, npm, gem, yum/dnf (packages and modules) and go install/get/run take whatever version the index serves on the day of the build, so two builds of the same commit differ and a compromised release is picked up silently. A version range (>=, ~=, ^, semver:) is not a pin, nor is a floating reference: @latest, a git URL without a ref or with a branch (main, master), a branch archive (…/archive/main.zip), or a git clone of the default branch into the shipped image.",
	Remediation: "Run `hardenkit pin CONTEXT`: it builds the stage and writes the versions the build installed for apt, apk, pip, npm and gem (name=version, name==version, name@version, name:version). For yum/dnf and zypper pin exact versions by hand (name-version, module:stream), go modules as module@vX.Y.Z, git sources to a tag or commit (git clone --branch v1.2.3, pip git+https://…@<commit>, npm git+https://…#<commit>), or install from a lockfile or a dated snapshot repository.",
	HelpURI:     helpURI("HK1030"),
}

var packagePinsControl = control{
	rules: []rules.Rule{rulePackageUnpinned},
	check: checkPackagePins,
}

func checkPackagePins(f *file, r *reporter) {
	f.eachScript(func(in *instr, s *shellscript.Script) {
		if in.stage != nil && in.stage.shipped {
			checkGitClones(in, s, r)
		}
	})
	f.eachCall(func(in *instr, argv []string, _ shellscript.Call) {
		op, ok := pkgOpOf(argv)
		if !ok {
			return
		}
		if pkgs := op.unpinned(); len(pkgs) > 0 {
			r.add(rulePackageUnpinned, in.at, in.stage, fmt.Sprintf("%sRUN %s %s installs %s without a version pin; pin as %s%s",
				onbuildPrefix(in), op.tool, op.verb, strings.Join(describeOperands(pkgs), ", "), op.pinExample(), op.pinHint()))
		}
	})
}

// gitCloneSpec lists git clone's options that take a value.
var gitCloneSpec = shellscript.OptSpec{Short: "bcjou", Long: []string{"branch", "config", "depth", "origin", "upload-pack", "template", "reference", "reference-if-able", "separate-git-dir", "jobs", "filter", "shallow-since", "shallow-exclude", "server-option", "bundle-uri", "revision"}}

// checkGitClones reports a git clone into the shipped image that follows a
// branch: no --branch (the default branch) or a floating one, and no later
// checkout or reset to a fixed ref in the same RUN.
func checkGitClones(in *instr, s *shellscript.Script, r *reporter) {
	var clones []string
	fixed := false
	for _, c := range s.Calls {
		argv, _ := shellscript.Unwrap(c.Args)
		if len(argv) < 2 || shellscript.CommandName(argv[0]) != "git" {
			continue
		}
		args := gitSubcommand(argv[1:])
		switch {
		case len(args) == 0:
		case args[0] == "clone":
			ops := gitCloneSpec.Operands(args[1:])
			ref, hasRef := gitCloneSpec.OptionValue(args[1:], "branch", 'b')
			if rev, ok := gitCloneSpec.OptionValue(args[1:], "revision", 0); ok {
				ref, hasRef = rev, true
			}
			if len(ops) > 0 && !isVariable(ops[0]) && (!hasRef || isFloatingRef(ref)) {
				clones = append(clones, ops[0])
			}
		case args[0] == "checkout" || args[0] == "reset" || args[0] == "switch" || args[0] == "fetch":
			for _, a := range args[1:] {
				if !strings.HasPrefix(a, "-") && !isFloatingRef(a) && !strings.Contains(a, "/") {
					fixed = true
				}
			}
		}
	}
	if fixed {
		return
	}
	for _, repo := range clones {
		r.add(rulePackageUnpinned, in.at, in.stage, fmt.Sprintf("%sRUN git clone %s takes whatever its branch holds on the day of the build into the shipped image; clone a tag (--branch v1.2.3) or check out a commit", onbuildPrefix(in), redactURL(repo)))
	}
}

// gitSubcommand skips git's global options (-C dir, -c k=v, --git-dir=…).
func gitSubcommand(args []string) []string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-C" || a == "-c" || a == "--git-dir" || a == "--work-tree" || a == "--namespace":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return args[i:]
		}
	}
	return nil
}

// describeOperands shows package operands for a message, URLs without
// their credentials or query strings.
func describeOperands(pkgs []string) []string {
	out := make([]string, len(pkgs))
	for i, p := range pkgs {
		out[i] = p
		if strings.Contains(p, "://") {
			out[i] = strings.Trim(redactURL(p), `"`)
		}
	}
	return out
}
