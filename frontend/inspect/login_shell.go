package inspect

// Login shells that do not exist.
//
//	HK3022 MissingLoginShellInImage  (no CIS §4 item)
//
// After hardening removed the shells, /etc/passwd may still name them.
// Nothing can log in through a missing shell, but tools that start a
// user's shell (su, login, docker exec without a command) fail in
// confusing ways, and it shows the passwd file was not updated with the
// image. nologin and false are never reported.

import (
	"context"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/users"
)

var ruleLoginShell = imageRule(rules.Rule{
	ID: "HK3022", Name: "MissingLoginShellInImage", Title: "User's login shell is not in the image",
	Family: rules.FamilyHardening, Severity: rules.SeverityLow,
	Rationale:   "A passwd entry whose shell was removed describes an image that no longer exists; set it to a shell that refuses logins so that nothing depends on one being there.",
	Remediation: "Set the user's shell to /usr/sbin/nologin (usermod -s) or remove the user.",
})

var loginShellCheck = check{rules: []rules.Rule{ruleLoginShell}, run: checkLoginShells}

func checkLoginShells(ctx context.Context, e *env) ([]rules.Finding, error) {
	passwd, ok, err := e.readFile(ctx, passwdPath)
	if err != nil || !ok {
		return nil, err
	}
	exists := func(p string) bool {
		phys, ok := e.in.Tree.Resolve(p)
		if !ok {
			return false
		}
		ent, _ := e.in.Tree.Lookup(phys)
		return ent.IsRegular()
	}
	var out []rules.Finding
	for _, m := range users.MissingShells(passwd, exists) {
		out = append(out, finding(ruleLoginShell, passwdPath, m.Line, "user %s has login shell %s, which is not in the image", m.User, m.Shell))
	}
	return out, nil
}
