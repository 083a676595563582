package inspect

// The user the image runs as.
//
//	HK3040 ImageRunsAsRoot  CIS 4.1 — the config's User is empty, root
//	                        (UID 0 or GID 0, by name or number), or a name
//	                        /etc/passwd does not have.
//
// The value is resolved against the image's own /etc/passwd and
// /etc/group with runc's rules (pkg/users), so "app" that is UID 0 is
// root, and "1000" without a group runs with GID 0.

import (
	"context"
	"errors"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/users"
)

var ruleRunsAsRoot = imageRule(rules.Rule{
	ID: "HK3040", Name: "ImageRunsAsRoot", Title: "Image config runs as root, or as a user the image lacks",
	Family: rules.FamilyNonRoot, Severity: rules.SeverityHigh, CIS: []string{"4.1"},
	Rationale:   "A container process running as root is root on the host's kernel, one namespace escape away from the host; CIS Docker Benchmark 4.1 asks for a dedicated user. A USER the image's passwd does not define makes the container fail to start.",
	Remediation: "Create a user and end the final stage with USER uid:gid (numeric, non-zero); hardenkit's user control does this for you.",
})

var configUserCheck = check{rules: []rules.Rule{ruleRunsAsRoot}, run: checkConfigUser}

func checkConfigUser(ctx context.Context, e *env) ([]rules.Finding, error) {
	passwd, _, err := e.readFile(ctx, passwdPath)
	if err != nil {
		return nil, err
	}
	group, _, err := e.readFile(ctx, groupPath)
	if err != nil {
		return nil, err
	}
	user := e.in.Image.Config.User
	id, err := users.ResolveIdentity(user, passwd, group)
	switch {
	case errors.Is(err, users.ErrUnknownUser), errors.Is(err, users.ErrUnknownGroup):
		return []rules.Finding{finding(ruleRunsAsRoot, "", 0, "image user %q does not resolve in /etc/passwd and /etc/group: %v", user, err)}, nil
	case err != nil:
		return []rules.Finding{finding(ruleRunsAsRoot, "", 0, "image user %q is invalid: %v", user, err)}, nil
	case user == "":
		return []rules.Finding{finding(ruleRunsAsRoot, "", 0, "image config sets no user, so the container runs as root")}, nil
	case id.UID == 0:
		return []rules.Finding{finding(ruleRunsAsRoot, "", 0, "image user %q is root (UID 0)", user)}, nil
	case id.GID == 0:
		msg := "image user %q runs with GID 0 (the root group)"
		if id.GIDDefaulted {
			msg += "; give a group: USER uid:gid"
		}
		return []rules.Finding{finding(ruleRunsAsRoot, "", 0, msg, user)}, nil
	}
	return nil, nil
}
