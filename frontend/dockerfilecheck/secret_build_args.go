package dockerfilecheck

// Control: secrets are not passed as build arguments — the build's
// --build-arg values.
//
//	HK1062 SecretBuildArg  CIS 4.10

import (
	"fmt"
	"slices"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSecretBuildArg = rules.Rule{
	ID:          "HK1062",
	Name:        "SecretBuildArg",
	Title:       "Secret passed with --build-arg",
	Family:      rules.FamilySecrets,
	Severity:    rules.SeverityCritical,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.10"},
	Rationale:   "Build arguments are recorded in the image's build provenance (SLSA attestation) and, when used by a RUN, in the image history: a secret passed as --build-arg is published with the image.",
	Remediation: "Pass it as a BuildKit secret: `--secret id=NAME,env=NAME` (or src=file) on the client, and RUN --mount=type=secret,id=NAME,env=NAME in the step that needs it. Rotate the value that was passed as a build arg.",
	HelpURI:     helpURI("HK1062"),
}

var secretBuildArgsControl = control{
	rules: []rules.Rule{ruleSecretBuildArg},
	check: checkSecretBuildArgs,
}

func checkSecretBuildArgs(f *file, r *reporter) {
	keys := make([]string, 0, len(f.opt.BuildArgs))
	for k := range f.opt.BuildArgs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := f.opt.BuildArgs[k]
		if v == "" {
			continue // nothing is recorded
		}
		what, fp := "", secrets.Fingerprint(v)
		if fs := f.secrets.ScanBuildArgs(map[string]string{k: v}); len(fs) > 0 {
			what, fp = "carries a secret (detector "+fs[0].Rule+")", fs[0].Fingerprint
		} else if isSecretName(k) && secrets.SecretValue(k, v) {
			what = "looks like a secret"
		}
		if what == "" {
			continue
		}
		at, st := f.argDeclaration(k)
		r.addSecret(ruleSecretBuildArg, at, st, fmt.Sprintf("--build-arg %s %s (sha256 fingerprint %s): build arguments are recorded in build provenance; pass it with --secret id=%s and RUN --mount=type=secret,id=%s instead", k, what, fp, k, k), fp)
	}
}

// argDeclaration finds the first ARG that declares name, for the finding's
// location; a build argument nothing declares has no line.
func (f *file) argDeclaration(name string) (span, *stage) {
	var at span
	var st *stage
	found := false
	f.each(func(in *instr) {
		c, ok := in.cmd.(*instructions.ArgCommand)
		if found || !ok || in.onbuild {
			return
		}
		for _, kv := range c.Args {
			if kv.Key == name {
				at, st, found = in.at, in.stage, true
				return
			}
		}
	})
	return at, st
}
