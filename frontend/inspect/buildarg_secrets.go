package inspect

// Secrets passed as build arguments.
//
//	HK3053 SecretInBuildArg  CIS 4.10 — a build argument given to the
//	                         frontend holds a secret.
//
// Build arguments end up in the history of every RUN that sees them, in
// the build cache and in provenance attestations, whether or not the
// image's files keep them.

import (
	"context"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSecretInBuildArg = imageRule(rules.Rule{
	ID: "HK3053", Name: "SecretInBuildArg", Title: "Secret passed as a build argument",
	Family: rules.FamilySecrets, Severity: rules.SeverityCritical, CIS: []string{"4.10"},
	Rationale:   "A --build-arg value is recorded in the image history of the RUN instructions that use it, in the build cache and in SLSA provenance: it is not a way to pass a secret (CIS Docker Benchmark 4.10).",
	Remediation: "Pass it with --secret id=…,env=… and read it in RUN --mount=type=secret; rotate the value that was passed.",
})

var buildArgSecretsCheck = check{rules: []rules.Rule{ruleSecretInBuildArg}, run: checkBuildArgSecrets}

func checkBuildArgSecrets(_ context.Context, e *env) ([]rules.Finding, error) {
	if len(e.in.BuildArgs) == 0 {
		return nil, nil
	}
	s, err := e.secretScanner()
	if err != nil {
		return nil, err
	}
	return secretFindings(ruleSecretInBuildArg, s.ScanBuildArgs(e.in.BuildArgs), "pass it with --secret and rotate it"), nil
}
