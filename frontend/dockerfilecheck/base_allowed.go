package dockerfilecheck

// Control: allowed base images — the shipped image only: the policy's
// distroless allow-list says what a production image may be built on;
// builder stages may use full toolchain images.
//
//	HK1002 BaseImageNotAllowed  CIS 4.2

import (
	"fmt"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleBaseNotAllowed = rules.Rule{
	ID:          "HK1002",
	Name:        "BaseImageNotAllowed",
	Title:       "Shipped image's base is not on the policy's allow-list",
	Family:      rules.FamilySupplyChain,
	Severity:    rules.SeverityHigh,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.2"},
	Rationale:   "CIS 4.2 asks for images built only from trusted bases. The policy's allow-list (controls.distroless.allowedBases) names the minimal, vetted bases production images may use; anything else brings an unreviewed OS, package set and publisher.",
	Remediation: "Build the shipped stage FROM an allowed base (a distroless or minimal image on the list, at the listed digest), or get the base added to the policy.",
	HelpURI:     helpURI("HK1002"),
}

var baseAllowedControl = control{
	rules: []rules.Rule{ruleBaseNotAllowed},
	check: checkBaseAllowed,
}

func checkBaseAllowed(f *file, r *reporter) {
	allowed := f.opt.Policy.Controls.Distroless.AllowedBases
	if len(allowed) == 0 {
		return // no allow-list configured: nothing to enforce
	}
	root := f.shippedChain()[0]
	ref, ok := root.imageRef()
	if !ok {
		return // scratch is as minimal as it gets
	}
	if policy.AllowsBase(allowed, ref) {
		return
	}
	var names []string
	for _, a := range allowed {
		names = append(names, a.Pattern)
	}
	r.add(ruleBaseNotAllowed, root.from, root, fmt.Sprintf("the shipped image is built on %s, which is not on the policy's allowed bases (%s)",
		root.describeBase(), strings.Join(names, ", ")))
}
