package users

import (
	"bytes"
	"fmt"
)

// InjectNonroot returns passwd and group with an entry for a non-root
// user added:
//
//	name:x:uid:gid:name:/home/name:/sbin/nologin
//	name:x:gid:
//
// Each file is left as it is when it already has an entry with that name
// or that ID, so running it twice changes nothing and an image that
// already defines the user (distroless "nonroot") keeps its own entry.
// The input slices are not modified.
func InjectNonroot(passwd, group []byte, uid, gid uint32, name string) (newPasswd, newGroup []byte) {
	newPasswd = passwd
	users, _ := ParsePasswd(passwd)
	if !hasUser(users, name, uid) {
		line := fmt.Sprintf("%s:x:%d:%d:%s:/home/%s:/sbin/nologin\n", name, uid, gid, name, name)
		newPasswd = appendLine(passwd, line)
	}
	newGroup = group
	groups, _ := ParseGroup(group)
	if !hasGroup(groups, name, gid) {
		newGroup = appendLine(group, fmt.Sprintf("%s:x:%d:\n", name, gid))
	}
	return newPasswd, newGroup
}

func hasUser(users []User, name string, uid uint32) bool {
	for _, u := range users {
		if u.Name == name || u.UID == uid {
			return true
		}
	}
	return false
}

func hasGroup(groups []Group, name string, gid uint32) bool {
	for _, g := range groups {
		if g.Name == name || g.GID == gid {
			return true
		}
	}
	return false
}

// appendLine copies data and appends line, first ending an unterminated
// last line so the new entry does not merge into it.
func appendLine(data []byte, line string) []byte {
	out := make([]byte, 0, len(data)+len(line)+1)
	out = append(out, data...)
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	return append(out, line...)
}
