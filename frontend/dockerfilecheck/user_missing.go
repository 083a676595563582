package dockerfilecheck

// Control: say what user a shipped image with no USER will run as —
// shipped stage only (with the stages it is built FROM).
//
//	HK1052 NoUserInShippedStage  CIS 4.1 (a note: reported at warn at most,
//	                             never failing a build)
//
// CIS 4.1 and other scanners flag a Dockerfile without USER, since the
// image then runs as its base's user, root for most bases. A hardenkit
// build injects a non-root user in that case (controls.user), so it is
// not a failure here; but a `check`-only CI step and a reviewer must see
// what the build will do, and which UID the image will run as.

import (
	"fmt"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleNoUser = rules.Rule{
	ID:          "HK1052",
	Name:        "NoUserInShippedStage",
	Title:       "Shipped stage sets no USER; the build decides who the image runs as",
	Family:      rules.FamilyNonRoot,
	Severity:    rules.SeverityLow,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.1"},
	Rationale:   "Without a USER the image runs as its base image's user, root for most bases (CIS 4.1). A hardenkit build injects the policy's non-root user (controls.user, 65532:65532 by default), so the image is not root; this note names that UID so that a check-only CI step and a reviewer know it. With injection off, the base image's user stays.",
	Remediation: "Nothing is needed for a hardenkit build. To make the user explicit (and the same with plain docker build), end the shipped stage with USER 65532:65532, or the UID the application expects.",
	HelpURI:     helpURI("HK1052"),
}

var noUserControl = control{
	rules: []rules.Rule{ruleNoUser},
	check: checkNoUser,
}

func checkNoUser(f *file, r *reporter) {
	for _, s := range f.shippedChain() {
		for _, in := range s.instrs {
			if _, ok := in.cmd.(*instructions.UserCommand); ok && !in.onbuild {
				return
			}
		}
	}
	s := f.shipped
	at := &instr{at: s.from, stage: s}
	u := f.opt.Policy.Controls.User
	if !u.Inject {
		r.addNote(ruleNoUser, at, fmt.Sprintf("the shipped stage %s sets no USER and the policy does not inject one (controls.user.inject: false), so the image runs as its base image's user (root unless the base sets another); end it with USER 65532:65532", stageDescription(s)))
		return
	}
	r.addNote(ruleNoUser, at, fmt.Sprintf("the shipped stage %s sets no USER: the build will run the image as the injected non-root user %d:%d (controls.user); write USER %d:%d to make it explicit", stageDescription(s), u.UID, u.GID, u.UID, u.GID))
}
