// Package users reads /etc/passwd, /etc/group and /etc/shadow as shipped in
// an image and answers the questions hardening asks of them: which UID and
// GID a Dockerfile USER value runs as (with Docker's semantics), whether
// that is root, how to add a non-root user, and which entries a scanner
// should flag.
//
// Parsing is tolerant, as libc is: comments, blank lines and NIS "+"/"-"
// lines are skipped, malformed lines are reported with their line numbers
// and otherwise ignored.
package users

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// maxID is the largest UID or GID a USER value may name. runc (moby/sys/user)
// refuses anything above 2^31-1, so an image using more would not start.
const maxID = 1<<31 - 1

// User is one /etc/passwd entry. The password field is not kept: hardening
// never needs it and it must not end up in evidence.
type User struct {
	// Name is the login name.
	Name string
	// UID and GID are the user's ID and primary group ID.
	UID, GID uint32
	// Gecos is the comment field.
	Gecos string
	// Home is the home directory.
	Home string
	// Shell is the login shell; empty means /bin/sh.
	Shell string
	// Line is the 1-based line number in the file.
	Line int
}

// Group is one /etc/group entry.
type Group struct {
	// Name is the group name.
	Name string
	// GID is the group ID.
	GID uint32
	// Members are the supplementary members, in file order.
	Members []string
	// Line is the 1-based line number in the file.
	Line int
}

// LineError describes a malformed line.
type LineError struct {
	// File names the database ("passwd", "group", "shadow").
	File string
	// Line is the 1-based line number.
	Line int
	// Reason says what is wrong, without quoting the line: shadow lines
	// hold password hashes.
	Reason string
}

// Error formats the problem with its file and line.
func (e LineError) Error() string {
	return fmt.Sprintf("%s line %d: %s", e.File, e.Line, e.Reason)
}

// lines calls fn for every line that is neither blank, a comment nor a NIS
// compat entry, with its 1-based number.
func lines(data []byte, fn func(n int, line string)) {
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimRight(string(raw), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == '+' || trimmed[0] == '-' {
			continue
		}
		fn(i+1, line)
	}
}

func parseID(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("id %q is not a decimal number below 2^32", s)
	}
	return uint32(v), nil
}

// ParsePasswd parses an /etc/passwd file.
func ParsePasswd(data []byte) ([]User, []LineError) {
	var out []User
	var errs []LineError
	lines(data, func(n int, line string) {
		f := strings.Split(line, ":")
		if len(f) != 7 {
			errs = append(errs, LineError{"passwd", n, fmt.Sprintf("want 7 fields, got %d", len(f))})
			return
		}
		if f[0] == "" {
			errs = append(errs, LineError{"passwd", n, "empty user name"})
			return
		}
		uid, err := parseID(f[2])
		if err != nil {
			errs = append(errs, LineError{"passwd", n, "uid: " + err.Error()})
			return
		}
		gid, err := parseID(f[3])
		if err != nil {
			errs = append(errs, LineError{"passwd", n, "gid: " + err.Error()})
			return
		}
		out = append(out, User{Name: f[0], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6], Line: n})
	})
	return out, errs
}

// ParseGroup parses an /etc/group file.
func ParseGroup(data []byte) ([]Group, []LineError) {
	var out []Group
	var errs []LineError
	lines(data, func(n int, line string) {
		f := strings.Split(line, ":")
		if len(f) != 4 {
			errs = append(errs, LineError{"group", n, fmt.Sprintf("want 4 fields, got %d", len(f))})
			return
		}
		if f[0] == "" {
			errs = append(errs, LineError{"group", n, "empty group name"})
			return
		}
		gid, err := parseID(f[2])
		if err != nil {
			errs = append(errs, LineError{"group", n, "gid: " + err.Error()})
			return
		}
		var members []string
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				members = append(members, m)
			}
		}
		out = append(out, Group{Name: f[0], GID: gid, Members: members, Line: n})
	})
	return out, errs
}
