package vuln

import (
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// ExceptionWaiver adapts an exceptions set to Options.Waive: a match is
// waived by the first record of set for rule (the catalog rule the
// vulnerability gate reports under) whose scope matches the package URL,
// the vulnerability id and image (the reference being built, for image
// scopes). The set must have been validated (exceptions.Set.Validate) at
// the build's time: Apply does not look at expiry or approval.
func ExceptionWaiver(set *exceptions.Set, rule, image string) func(purl, cve string) (string, bool) {
	return func(purl, cve string) (string, bool) {
		f := rules.Finding{Rule: rule, Level: rules.LevelEnforce, Message: cve + " in " + purl}
		out := set.Apply([]rules.Finding{f}, exceptions.MatchContext{
			Image:   image,
			Subject: func(rules.Finding) exceptions.Subject { return exceptions.Subject{Package: purl, CVE: cve} },
		})
		if out[0].Level == rules.LevelWaived {
			return out[0].Waiver, true
		}
		return "", false
	}
}
