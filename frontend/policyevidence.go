package frontend

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// The evidence of the effective policy: what was enforced, not what the
// policy's name or baseline suggest. A policy that switches rules off, or
// enforces them less than its baseline, says so in the build output and in
// the compliance statement, so that a release gate can refuse it.

// policyEvidence is the compliance statement's account of the effective
// policy: its identity, every source consulted, the rules it disables and
// the rules it enforces less than its baseline.
func policyEvidence(pol *policy.Policy) (compliance.Policy, error) {
	disabled, below, err := relaxedRules(pol)
	if err != nil {
		return compliance.Policy{}, err
	}
	return compliance.Policy{Name: pol.Name, Digest: pol.Digest(), Baseline: pol.Baseline,
		Sources: append([]compliance.PolicySource{}, pol.Sources...), DisabledRules: disabled, BelowBaseline: below}, nil
}

// relaxedRules returns the catalog rules pol switches off and those it
// enforces at a lower level than its baseline does.
func relaxedRules(pol *policy.Policy) (disabled, below []string, err error) {
	base, err := policy.Baseline(pol.Baseline)
	if err != nil {
		return nil, nil, fmt.Errorf("policy %s: its baseline: %w", pol.Name, err)
	}
	disabled, below = []string{}, []string{}
	for _, r := range catalog.All() {
		l := pol.Level(r)
		if l == rules.LevelOff {
			disabled = append(disabled, r.ID)
		}
		if policy.LevelRank(l) < policy.LevelRank(base.Level(r)) {
			below = append(below, r.ID)
		}
	}
	return disabled, below, nil
}

// announcePolicy shows in the build output which policy sources were
// consulted and, as warnings, the rules the effective policy disables or
// relaxes below its baseline.
func announcePolicy(ctx context.Context, src *dockerui.Source, pol *policy.Policy) error {
	disabled, below, err := relaxedRules(pol)
	if err != nil {
		return err
	}
	names := sourceNames(pol)
	if len(disabled) > 0 {
		src.Warn(ctx, fmt.Sprintf("policy %s (from %s) disables %d rule(s): %s; the compliance statement lists them in policy.disabledRules",
			pol.Name, names, len(disabled), strings.Join(disabled, ", ")), client.WarnOpts{Level: 1})
	}
	if len(below) > len(disabled) {
		src.Warn(ctx, fmt.Sprintf("policy %s (from %s) enforces %d rule(s) below the %s baseline: %s; the compliance statement lists them in policy.belowBaseline",
			pol.Name, names, len(below), pol.Baseline, strings.Join(below, ", ")), client.WarnOpts{Level: 1})
	}
	return nil
}

// sourceNames lists the policy sources a build consulted, for messages.
func sourceNames(pol *policy.Policy) string {
	var names []string
	for _, s := range pol.Sources {
		names = append(names, fmt.Sprintf("%s (%s)", s.Name, s.Rank))
	}
	return strings.Join(names, ", ")
}

// announceExceptions shows every applied exception in the build output:
// what it waives, who asked, who approved and which key signed it.
func announceExceptions(warn func(string), applied []compliance.Exception) {
	if warn == nil {
		return
	}
	for _, e := range applied {
		signer := "unsigned"
		if e.SignerKeyID != "" {
			signer = "signed by key " + e.SignerKeyID
		}
		scope := ""
		if e.Scope != nil {
			var parts []string
			for _, kv := range [][2]string{{"stage", e.Scope.Stage}, {"path", e.Scope.Path}, {"package", e.Scope.Package}, {"cve", e.Scope.CVE}, {"image", e.Scope.Image}} {
				if kv[1] != "" {
					parts = append(parts, kv[0]+"="+kv[1])
				}
			}
			scope = " (" + strings.Join(parts, ", ") + ")"
		}
		warn(fmt.Sprintf("exception %s applied: waives %s%s, owner %s, approved by %s, %s, expires %s",
			e.ID, e.Rule, scope, e.Owner, e.ApprovedBy, signer, e.Expires.UTC().Format("2006-01-02")))
	}
}
