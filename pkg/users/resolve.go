package users

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnknownUser is returned when a USER name is not in /etc/passwd.
var ErrUnknownUser = errors.New("no such user in /etc/passwd")

// ErrUnknownGroup is returned when a group name is not in /etc/group.
var ErrUnknownGroup = errors.New("no such group in /etc/group")

// Identity is what a USER value resolves to, with how each part was found.
type Identity struct {
	// UID and GID are what the process runs as.
	UID, GID uint32
	// User is the passwd entry's name; empty when a numeric UID has no
	// entry.
	User string
	// Group is the group's name when the group file has it.
	Group string
	// UserInPasswd says the user part matched a passwd entry.
	UserInPasswd bool
	// GIDDefaulted says no group was given and no passwd entry supplied
	// one, so the GID is 0 (the root group) by Docker's rules. Callers
	// that forbid root decide what that means.
	GIDDefaulted bool
}

// Resolve returns the UID and GID a container started with USER user runs
// as, given the image's /etc/passwd and /etc/group. See ResolveIdentity.
func Resolve(user string, passwd, group []byte) (uid, gid uint32, err error) {
	id, err := ResolveIdentity(user, passwd, group)
	return id.UID, id.GID, err
}

// ResolveIdentity resolves a USER value the way runc (moby/sys/user
// GetExecUser) does, so the answer is what the container will really run
// as:
//
//   - the value is "user" or "user:group"; empty means root;
//   - a numeric user is always a UID, whether or not passwd has it; a name
//     must be in passwd;
//   - without a group, the GID is the passwd entry's primary group, or 0
//     when a numeric UID has no entry (reported as GIDDefaulted);
//   - a numeric group is always a GID; a name must be in group;
//   - IDs above 2^31-1 are refused, as runc refuses them.
//
// Malformed passwd and group lines are ignored here; ParsePasswd and
// ParseGroup report them.
func ResolveIdentity(user string, passwd, group []byte) (Identity, error) {
	userArg, groupArg, hasGroup := strings.Cut(user, ":")
	if strings.Contains(groupArg, ":") {
		return Identity{}, fmt.Errorf("user %q: more than one ':'", user)
	}
	if hasGroup && groupArg == "" {
		return Identity{}, fmt.Errorf("user %q: empty group", user)
	}
	if hasGroup && userArg == "" {
		return Identity{}, fmt.Errorf("user %q: empty user", user)
	}
	var id Identity
	users, _ := ParsePasswd(passwd)
	uidArg, uidErr := parseArgID(userArg)
	if uidErr != nil && isNumeric(userArg) {
		return Identity{}, fmt.Errorf("user %q: %w", user, uidErr)
	}
	var entry *User
	for i := range users {
		u := &users[i]
		if (userArg == "" && u.UID == 0) || (userArg != "" && uidErr == nil && u.UID == uidArg) || (uidErr != nil && u.Name == userArg) {
			entry = u
			break
		}
	}
	switch {
	case entry != nil:
		id.UID, id.GID, id.User, id.UserInPasswd = entry.UID, entry.GID, entry.Name, true
	case userArg == "":
		id.GIDDefaulted = true
	case uidErr == nil:
		id.UID = uidArg
		id.GIDDefaulted = true
	default:
		return Identity{}, fmt.Errorf("user %q: %w", userArg, ErrUnknownUser)
	}

	groups, _ := ParseGroup(group)
	if hasGroup {
		id.GIDDefaulted = false
		gidArg, gidErr := parseArgID(groupArg)
		if gidErr != nil && isNumeric(groupArg) {
			return Identity{}, fmt.Errorf("group %q: %w", groupArg, gidErr)
		}
		found := false
		for _, g := range groups {
			if (gidErr == nil && g.GID == gidArg) || (gidErr != nil && g.Name == groupArg) {
				id.GID, id.Group, found = g.GID, g.Name, true
				break
			}
		}
		if !found {
			if gidErr != nil {
				return Identity{}, fmt.Errorf("group %q: %w", groupArg, ErrUnknownGroup)
			}
			id.GID = gidArg
		}
		return id, nil
	}
	for _, g := range groups {
		if g.GID == id.GID {
			id.Group = g.Name
			break
		}
	}
	return id, nil
}

// IsRoot reports whether a process with this UID and GID has root's
// identity or root's group: hardenkit requires both to be non-zero.
func IsRoot(uid, gid uint32) bool {
	return uid == 0 || gid == 0
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseArgID parses a numeric USER part. Non-numeric input returns an
// error the caller treats as "this is a name".
func parseArgID(s string) (uint32, error) {
	if !isNumeric(s) {
		return 0, errors.New("not numeric")
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > maxID {
		return 0, fmt.Errorf("id %s is out of range (max %d)", s, maxID)
	}
	return uint32(v), nil
}
