package rebuildcmd

import (
	"strings"
)

// names are the NAME parts of NAME=VALUE flags.
func names(values []string) []string {
	var out []string
	for _, v := range values {
		name, _, _ := strings.Cut(v, "=")
		out = append(out, name)
	}
	return out
}

// ids are the id= fields of --secret values.
func ids(values []string) []string {
	var out []string
	for _, v := range values {
		for _, field := range strings.Split(v, ",") {
			if id, ok := strings.CutPrefix(field, "id="); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

// sshIDs are the ids of --ssh values (ID or ID=PATH).
func sshIDs(values []string) []string { return names(values) }

func joinLines(s []string) string { return strings.Join(s, "\n  ") }
