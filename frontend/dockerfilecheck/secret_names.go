package dockerfilecheck

// Control: secrets are not passed through ARG or ENV names — every stage.
//
//	HK1060 SecretNameInArgOrEnv  CIS 4.10

import (
	"fmt"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSecretName = rules.Rule{
	ID:          "HK1060",
	Name:        "SecretNameInArgOrEnv",
	Title:       "ARG or ENV name looks like a secret",
	Family:      rules.FamilySecrets,
	Severity:    rules.SeverityHigh,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.10"},
	Rationale:   "ENV values are stored in the image config for anyone who pulls it, and ARG values are recorded in the build history and provenance. A variable named like DB_PASSWORD or API_TOKEN is how secrets end up there. The name test is BuildKit's SecretsUsedInArgOrEnv token set, so `docker build --check` agrees.",
	Remediation: "Pass secrets with `--secret id=name` and read them with RUN --mount=type=secret,id=name (or env=NAME) in the step that needs them; never through ARG or ENV.",
	HelpURI:     helpURI("HK1060"),
}

var secretNamesControl = control{
	rules: []rules.Rule{ruleSecretName},
	check: checkSecretNames,
}

func checkSecretNames(f *file, r *reporter) {
	f.each(func(in *instr) {
		switch c := in.cmd.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				if isSecretName(kv.Key) {
					r.add(ruleSecretName, in.at, in.stage, fmt.Sprintf("%sARG %q looks like a secret; build arguments are recorded in build provenance, use RUN --mount=type=secret instead", onbuildPrefix(in), kv.Key))
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				if isSecretName(kv.Key) {
					r.add(ruleSecretName, in.at, in.stage, fmt.Sprintf("%sENV %q looks like a secret; ENV is stored in the image config, use RUN --mount=type=secret instead", onbuildPrefix(in), kv.Key))
				}
			}
		}
	})
}
