package users

import (
	"bytes"
	"path"
	"sort"
	"strings"
)

// EmptyPasswords returns, in file order, the users whose /etc/shadow
// password field is empty, which lets anyone log in as them without a
// password (dockle DKL-LI-0001). Locked ("!", "*") and hashed passwords are
// not reported. Only names are returned, never the field itself.
func EmptyPasswords(shadow []byte) []string {
	var out []string
	lines(shadow, func(_ int, line string) {
		f := strings.Split(line, ":")
		if len(f) < 2 || f[0] == "" {
			return
		}
		if f[1] == "" {
			out = append(out, f[0])
		}
	})
	return out
}

// Duplicate is an ID shared by several passwd or group entries.
type Duplicate struct {
	// Kind is "uid" (passwd) or "gid" (group).
	Kind string
	// ID is the shared UID or GID.
	ID uint32
	// Names are the entries sharing it, in file order.
	Names []string
	// Lines are their 1-based line numbers.
	Lines []int
}

// DuplicateIDs reports UIDs shared by several passwd entries and GIDs
// shared by several group entries (dockle DKL-LI-0002): two names for one
// ID make file ownership and audit logs ambiguous. The result is ordered
// by kind ("gid" before "uid"), then ID.
func DuplicateIDs(passwd, group []byte) []Duplicate {
	var out []Duplicate
	users, _ := ParsePasswd(passwd)
	byUID := map[uint32]*Duplicate{}
	for _, u := range users {
		d := byUID[u.UID]
		if d == nil {
			d = &Duplicate{Kind: "uid", ID: u.UID}
			byUID[u.UID] = d
		}
		d.Names = append(d.Names, u.Name)
		d.Lines = append(d.Lines, u.Line)
	}
	groups, _ := ParseGroup(group)
	byGID := map[uint32]*Duplicate{}
	for _, g := range groups {
		d := byGID[g.GID]
		if d == nil {
			d = &Duplicate{Kind: "gid", ID: g.GID}
			byGID[g.GID] = d
		}
		d.Names = append(d.Names, g.Name)
		d.Lines = append(d.Lines, g.Line)
	}
	for _, m := range []map[uint32]*Duplicate{byUID, byGID} {
		for _, d := range m {
			if len(d.Names) > 1 {
				out = append(out, *d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// MissingShell is a passwd entry whose login shell is not in the image.
type MissingShell struct {
	// User is the passwd entry's name.
	User string
	// Shell is the missing shell ("/bin/sh" for an empty field).
	Shell string
	// Line is the entry's 1-based line number.
	Line int
}

// defaultShell is what login(1) runs when the passwd shell field is empty.
const defaultShell = "/bin/sh"

// MissingShells reports users whose login shell does not exist according
// to exists, typically after hardening removed the shells. An empty shell
// field means /bin/sh (passwd(5)). Shells whose purpose is to refuse a
// login (nologin, false) are never reported: a missing one refuses the
// login just the same.
func MissingShells(passwd []byte, exists func(string) bool) []MissingShell {
	var out []MissingShell
	users, _ := ParsePasswd(passwd)
	for _, u := range users {
		shell := u.Shell
		if shell == "" {
			shell = defaultShell
		}
		switch path.Base(shell) {
		case "nologin", "false":
			continue
		}
		if !exists(shell) {
			out = append(out, MissingShell{User: u.Name, Shell: shell, Line: u.Line})
		}
	}
	return out
}

// NoLogin is the shell ReplaceMissingShells gives users whose login shell
// is gone: Debian's and distroless' path of nologin(8). Like every
// nologin and false it refuses a login whether or not it exists, so
// MissingShells never reports it.
const NoLogin = "/usr/sbin/nologin"

// ReplaceMissingShells returns passwd with the login shell of every entry
// MissingShells reports (with the same exists) set to NoLogin, and
// whether anything changed. Only the shell field of those entries is
// rewritten: every other byte — comments, NIS lines, malformed lines,
// CRLF line ends, a missing final newline — stays as it is, so the
// result depends on the input alone and is the same on every build.
// passwd is not modified; when nothing changes it is returned itself.
func ReplaceMissingShells(passwd []byte, exists func(string) bool) ([]byte, bool) {
	missing := map[int]bool{}
	for _, m := range MissingShells(passwd, exists) {
		missing[m.Line] = true
	}
	if len(missing) == 0 {
		return passwd, false
	}
	raw := bytes.Split(passwd, []byte("\n"))
	out := make([][]byte, len(raw))
	for i, l := range raw {
		if !missing[i+1] {
			out[i] = l
			continue
		}
		fields := bytes.TrimRight(l, "\r")
		// ParsePasswd accepted the line: it has exactly seven fields.
		shellAt := bytes.LastIndexByte(fields, ':') + 1
		nl := make([]byte, 0, len(l)+len(NoLogin))
		nl = append(append(nl, fields[:shellAt]...), NoLogin...)
		out[i] = append(nl, l[len(fields):]...)
	}
	return bytes.Join(out, []byte("\n")), true
}
