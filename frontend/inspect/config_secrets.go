package inspect

// Secrets in the image config.
//
//	HK3050 SecretInImageConfig  CIS 4.10 — a secret in an Env value or a
//	                            label.
//
// The config travels with the image and is shown by every registry UI,
// `docker inspect` and `docker history`.

import (
	"context"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSecretInConfig = imageRule(rules.Rule{
	ID: "HK3050", Name: "SecretInImageConfig", Title: "Secret in the image config's Env, labels or ONBUILD triggers",
	Family: rules.FamilySecrets, Severity: rules.SeverityCritical, CIS: []string{"4.10"},
	Rationale:   "Env values and labels are stored in the image config, readable by anyone who can pull or inspect the image, and inherited by every image built on it (CIS Docker Benchmark 4.10).",
	Remediation: "Remove the value, rotate it (it is compromised), and give it to the container at run time (orchestrator secrets, a mounted file) or to the build with --secret.",
})

var configSecretsCheck = check{rules: []rules.Rule{ruleSecretInConfig}, run: checkConfigSecrets}

func checkConfigSecrets(_ context.Context, e *env) ([]rules.Finding, error) {
	s, err := e.secretScanner()
	if err != nil {
		return nil, err
	}
	cfg := e.in.Image.Config
	fs := append(s.ScanEnv(cfg.Env), s.ScanLabels(cfg.Labels)...)
	fs = append(fs, s.ScanOnBuild(cfg.OnBuild)...)
	return secretFindings(ruleSecretInConfig, fs, "remove and rotate it, and pass it at run time instead"), nil
}
