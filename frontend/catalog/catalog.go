// Package catalog is hardenkit's rule catalog: every rule of every stage —
// static Dockerfile rules, LLB controls, image inspections and evidence
// (vulnerability) rules — in one sorted list that `hardenkit rules`, the
// policy parser (Known), the report encoders (Lookup) and the generated
// docs/rules.md all read.
package catalog

//go:generate go run ./internal/gendocs ../../docs/rules.md

import (
	"cmp"
	"slices"

	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
	"github.com/hardenkit/hardenkit/frontend/evidence/vuln"
	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/smoke"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// All returns every rule, sorted by id. The slice is freshly built: callers
// may keep and modify it.
func All() []rules.Rule {
	all := slices.Concat(dockerfilecheck.Rules(), harden.Rules(), smoke.Rules(), inspect.Rules(), vuln.Rules())
	slices.SortFunc(all, func(a, b rules.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return all
}

// Lookup returns the rule with the given id.
func Lookup(id string) (rules.Rule, bool) {
	all := All()
	i, found := slices.BinarySearchFunc(all, id, func(r rules.Rule, id string) int { return cmp.Compare(r.ID, id) })
	if !found {
		return rules.Rule{}, false
	}
	return all[i], true
}

// Known reports whether id is a rule of the catalog. It has the signature
// policy.Parse and exceptions.Parse take to reject unknown rule ids.
func Known(id string) bool {
	_, ok := Lookup(id)
	return ok
}
