package dockerfilecheck

// Control: the shipped image runs as a non-root user — shipped stage only
// (with the stages it is built FROM); builder stages may need root.
//
//	HK1050 LastUserRoot  CIS 4.1

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleLastUserRoot = rules.Rule{
	ID:          "HK1050",
	Name:        "LastUserRoot",
	Title:       "Shipped image's last USER is root",
	Family:      rules.FamilyNonRoot,
	Severity:    rules.SeverityHigh,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.1"},
	Rationale:   "A container whose process runs as root turns any code-execution bug into root in the container and one kernel or runtime flaw away from the host (CIS 4.1). `USER root`, `0`, `0:0`, `root:root` and a USER whose variable expands to nothing all mean root. Only the shipped image's last USER counts: builder stages may run as root, since nothing of their user ships. (A shipped stage with no USER at all is HK1052's: the build injects a non-root user, and the image-level non-root control checks the result.)",
	Remediation: "End the shipped stage with a non-root numeric user, e.g. USER 65532:65532, created in the image if it needs a home or files; do root-only setup before it.",
	HelpURI:     helpURI("HK1050"),
}

var userRootControl = control{
	rules: []rules.Rule{ruleLastUserRoot},
	check: checkUserRoot,
}

func checkUserRoot(f *file, r *reporter) {
	var last *instr
	for _, s := range f.shippedChain() {
		for _, in := range s.instrs {
			u, ok := in.cmd.(*instructions.UserCommand)
			if !ok {
				continue
			}
			if in.onbuild {
				if isRootUser(u.User) {
					r.add(ruleLastUserRoot, in.at, in.stage, fmt.Sprintf("ONBUILD USER %s makes images built FROM this one run as root; remove it", describeUser(u)))
				}
				continue
			}
			last = in
		}
	}
	if last == nil {
		return
	}
	u := last.cmd.(*instructions.UserCommand)
	if isRootUser(u.User) {
		r.add(ruleLastUserRoot, last.at, last.stage, fmt.Sprintf("the shipped image's last USER %s runs as root; end with a non-root user such as USER 65532:65532", describeUser(u)))
	}
}

// isRootUser reports whether a USER value (user[:group], expanded) selects
// uid 0. An empty value resets to the default user, root.
func isRootUser(v string) bool {
	user, _, _ := strings.Cut(strings.TrimSpace(v), ":")
	if user == "" || user == "root" {
		return true
	}
	uid, err := strconv.Atoi(user)
	return err == nil && uid == 0
}

// describeUser quotes the USER value, with the instruction text when ARG
// expansion produced it.
func describeUser(u *instructions.UserCommand) string {
	raw := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(u.String(), "USER"), "user"))
	if strings.Contains(raw, "$") {
		return fmt.Sprintf("%q (USER %s)", u.User, raw)
	}
	return fmt.Sprintf("%q", u.User)
}
