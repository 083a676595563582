package inspect

// Duplicate user and group ids.
//
//	HK3021 DuplicateIDInImage  (no CIS §4 item; dockle DKL-LI-0002)

import (
	"context"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/users"
)

var ruleDuplicateID = imageRule(rules.Rule{
	ID: "HK3021", Name: "DuplicateIDInImage", Title: "UID or GID shared by several users or groups",
	Family: rules.FamilyHardening, Severity: rules.SeverityMedium,
	Rationale:   "Two names for one id make ownership, audit logs and USER checks ambiguous: a second UID 0 is root under another name.",
	Remediation: "Give every user and group its own id, and remove accounts that only alias another.",
})

var idsCheck = check{rules: []rules.Rule{ruleDuplicateID}, run: checkIDs}

const (
	passwdPath = "/etc/passwd"
	groupPath  = "/etc/group"
)

func checkIDs(ctx context.Context, e *env) ([]rules.Finding, error) {
	passwd, _, err := e.readFile(ctx, passwdPath)
	if err != nil {
		return nil, err
	}
	group, _, err := e.readFile(ctx, groupPath)
	if err != nil {
		return nil, err
	}
	var out []rules.Finding
	for _, d := range users.DuplicateIDs(passwd, group) {
		file, what := passwdPath, "UID"
		if d.Kind == "gid" {
			file, what = groupPath, "GID"
		}
		out = append(out, finding(ruleDuplicateID, file, d.Lines[0], "%s %d is shared by %s in %s", what, d.ID, strings.Join(d.Names, ", "), file))
	}
	return out, nil
}
