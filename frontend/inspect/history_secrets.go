package inspect

// Secrets in the image history.
//
//	HK3051 SecretInImageHistory  CIS 4.10 — a secret in a recorded
//	                             command: a RUN line, the build arguments
//	                             BuildKit records with it ("RUN |1
//	                             TOKEN=…"), an ENV or LABEL instruction.

import (
	"context"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSecretInHistory = imageRule(rules.Rule{
	ID: "HK3051", Name: "SecretInImageHistory", Title: "Secret in a command recorded in the image history",
	Family: rules.FamilySecrets, Severity: rules.SeverityCritical, CIS: []string{"4.10"},
	Rationale:   "The history keeps every instruction as written, with the build arguments it used: `docker history --no-trunc` shows them to anyone who can pull the image, even when the layer itself holds nothing (CIS Docker Benchmark 4.10).",
	Remediation: "Pass secrets with RUN --mount=type=secret (or --mount=type=ssh), never as ARG or on the command line; rotate what was recorded.",
})

var historySecretsCheck = check{rules: []rules.Rule{ruleSecretInHistory}, run: checkHistorySecrets}

func checkHistorySecrets(_ context.Context, e *env) ([]rules.Finding, error) {
	s, err := e.secretScanner()
	if err != nil {
		return nil, err
	}
	cmds := make([]string, len(e.in.Image.History))
	for i, h := range e.in.Image.History {
		cmds[i] = h.CreatedBy
	}
	return secretFindings(ruleSecretInHistory, s.ScanHistory(cmds), "use RUN --mount=type=secret and rotate it"), nil
}
