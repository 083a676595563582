package inspect

// Empty passwords.
//
//	HK3020 EmptyPasswordInImage  (no CIS §4 item; dockle DKL-LI-0001)
//
// Only user names are reported: the shadow file holds password hashes,
// which never go into a finding.

import (
	"context"
	"fmt"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/users"
)

var ruleEmptyPassword = imageRule(rules.Rule{
	ID: "HK3020", Name: "EmptyPasswordInImage", Title: "User with an empty password in /etc/shadow",
	Family: rules.FamilyHardening, Severity: rules.SeverityCritical,
	Rationale:   "An empty password field lets anyone become that user without a password, through su, login or any PAM-using service that ends up in the image.",
	Remediation: "Lock the account (passwd -l, or \"!\" or \"*\" in the password field) or remove it.",
})

var shadowCheck = check{rules: []rules.Rule{ruleEmptyPassword}, run: checkShadow}

const shadowPath = "/etc/shadow"

func checkShadow(ctx context.Context, e *env) ([]rules.Finding, error) {
	shadow, ok, err := e.readFile(ctx, shadowPath)
	if err != nil || !ok {
		return nil, err
	}
	var out []rules.Finding
	lines := strings.Split(string(shadow), "\n")
	for _, name := range users.EmptyPasswords(shadow) {
		out = append(out, finding(ruleEmptyPassword, shadowPath, lineOfUser(lines, name),
			"user %s has an empty password in %s", name, shadowPath))
	}
	return out, nil
}

// lineOfUser is the 1-based line of name's entry in a colon-separated
// user database, 0 when absent.
func lineOfUser(lines []string, name string) int {
	prefix := fmt.Sprintf("%s:", name)
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	return 0
}
