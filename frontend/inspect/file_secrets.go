package inspect

// Secrets in the files of the image, and of the build context.
//
//	HK3052 SecretInImageFile     CIS 4.10 — a file of the final image holds
//	                             a secret.
//	HK3054 SecretInBuildContext  CIS 4.10 — a file of the build context
//	                             holds a secret (ContextSecrets; the
//	                             frontend reports it at the COPY, ADD or
//	                             RUN --mount=type=bind that brings it in,
//	                             so a key only a builder stage uses is
//	                             reported too).
//
// Every regular file is read, a large one in overlapping pieces of
// controls.secrets.maxFileSize; a file that could not be scanned makes the
// rule an error (the build fails), never a pass. Entry names, symlink
// targets and git object stores are checked too (frontend/secrets).

import (
	"context"
	"fmt"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSecretInFile = imageRule(rules.Rule{
	ID: "HK3052", Name: "SecretInImageFile", Title: "Secret in a file of the final image",
	Family: rules.FamilySecrets, Severity: rules.SeverityCritical, CIS: []string{"4.10"},
	Rationale:   "A key, token or password in a file of the image is readable by everyone who can pull it, in every registry and cache that holds it, and stays in the layer even if a later step deletes the file (CIS Docker Benchmark 4.10).",
	Remediation: "Remove the file or value from what is copied into the image (.dockerignore, COPY only what is needed), pass build-time secrets with RUN --mount=type=secret, and rotate the secret.",
})

var ruleSecretInContext = imageRule(rules.Rule{
	ID: "HK3054", Name: "SecretInBuildContext", Title: "Secret in a build context file that COPY, ADD or a RUN bind mount brings in",
	Family: rules.FamilySecrets, Severity: rules.SeverityHigh, CIS: []string{"4.10"},
	Rationale:   "A secret the build copies from the context lands in a layer of some stage and in the build cache, even when the final image does not ship it; a RUN that bind-mounts the context can write it anywhere, encoded.",
	Remediation: "Exclude the file in .dockerignore and pass the secret with RUN --mount=type=secret; rotate it if it was ever pushed with a cache.",
})

var fileSecretsCheck = check{rules: []rules.Rule{ruleSecretInFile}, run: checkFileSecrets}

func checkFileSecrets(ctx context.Context, e *env) ([]rules.Finding, error) {
	s, err := e.secretScanner()
	if err != nil {
		return nil, err
	}
	res, err := s.ScanTree(ctx, e.in.Tree, e.in.Src)
	if err != nil {
		return nil, err
	}
	if len(res.Unscanned) > 0 {
		// A control that did not run on every file did not pass.
		return nil, fmt.Errorf("%d files could not be scanned for secrets: %s", len(res.Unscanned), strings.Join(res.Unscanned, ", "))
	}
	e.secretStats = &res.Stats
	public, err := filePublicContent(ctx, e, res.Findings)
	if err != nil {
		return nil, err
	}
	out := secretFindings(ruleSecretInFile, res.Findings, "remove it from the image and rotate it")
	for i, f := range res.Findings {
		if pub, ok := public[f.Where]; ok {
			out[i] = publicFinding(ruleSecretInFile, f, pub)
		}
	}
	return out, nil
}

// ContextSecrets scans the build context files t (loaded from src) that
// COPY and ADD bring in, under policy p's controls.secrets, and returns
// HK3054 findings at p's level — File is "context:REL" until the caller
// points it at the instruction — and the context files too large to
// scan. With HK3054 off it returns nothing.
func ContextSecrets(ctx context.Context, t *rootfs.Tree, src rootfs.Source, p *policy.Policy) ([]rules.Finding, []string, *secrets.TreeStats, error) {
	level := p.Level(ruleSecretInContext)
	if level == rules.LevelOff {
		return nil, nil, nil, nil
	}
	e := &env{in: Input{Policy: p}}
	s, err := e.secretScanner()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("inspect: %w", err)
	}
	res, err := s.ScanContext(ctx, t, src)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("inspect: build context: %w", err)
	}
	if len(res.Unscanned) > 0 {
		return nil, nil, nil, fmt.Errorf("inspect: build context: %d files could not be scanned for secrets: %s", len(res.Unscanned), strings.Join(res.Unscanned, ", "))
	}
	out := secretFindings(ruleSecretInContext, res.Findings, "exclude it from the context and rotate it")
	for i := range out {
		out[i].Level = level
	}
	return out, res.Unscanned, &res.Stats, nil
}
