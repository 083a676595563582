// Package pathglob matches slash-separated paths and image names against the
// glob patterns used in policies (secrets.allowPaths) and exception scopes
// (scope.path, scope.image).
//
// The syntax is path.Match's per segment, plus a segment "**" that matches
// any number of segments (including none) — the doublestar convention trivy's
// path ignores and gitignore use. A leading "/" is ignored on both sides, so
// "/usr/bin/*" and "usr/bin/*" mean the same whether the path is an image
// path or a build-context path.
//
// moby/patternmatcher is not used because it implements .dockerignore
// semantics (a pattern also matches everything below a matching directory,
// "foo**" is a string prefix so it matches "foobar", "!" negates) and
// compiles lazily in a way that is not safe for concurrent use. A waiver
// scope must match exactly what it says, from any goroutine.
package pathglob

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Validate reports whether pattern is usable: not empty, no ".." segment,
// "**" only as a whole segment, and valid path.Match syntax in every segment.
func Validate(pattern string) error {
	if strings.TrimSpace(pattern) == "" {
		return errors.New("empty pattern")
	}
	// Check the raw segments: cleaning would fold ".." away.
	for _, seg := range strings.Split(pattern, "/") {
		switch {
		case seg == "" || seg == ".":
			continue
		case seg == "..":
			return errors.New(`".." is not allowed in a pattern`)
		case seg == "**":
			continue
		case strings.Contains(seg, "**"):
			return fmt.Errorf(`"**" must be a whole path segment, not part of %q`, seg)
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("segment %q: %w", seg, err)
		}
	}
	return nil
}

// Match reports whether name matches pattern. An invalid pattern matches
// nothing: callers validate patterns when they load them.
func Match(pattern, name string) bool {
	if Validate(pattern) != nil {
		return false
	}
	p := segments(pattern)
	n := segments(name)
	// ok[j] says whether p[:i] matches n[:j]; a dynamic programme keeps
	// several "**" in one pattern linear in the path length.
	ok := make([]bool, len(n)+1)
	ok[0] = true
	for _, seg := range p {
		next := make([]bool, len(n)+1)
		if seg == "**" {
			reached := false
			for j := range ok {
				reached = reached || ok[j]
				next[j] = reached
			}
		} else {
			for j := 1; j <= len(n); j++ {
				if ok[j-1] {
					m, err := path.Match(seg, n[j-1])
					next[j] = m && err == nil
				}
			}
		}
		ok = next
	}
	return ok[len(n)]
}

// WildcardOnly reports whether a pattern contains no literal character at
// all ("*", "**", "**/*", "*/?"): such a pattern scopes nothing.
func WildcardOnly(pattern string) bool {
	for _, seg := range segments(pattern) {
		if hasLiteral(seg) {
			return false
		}
	}
	return true
}

// hasLiteral reports whether a path.Match segment has a character outside
// "*", "?" and bracket expressions. A class like "[a-z]" counts as a
// wildcard: it narrows a single character, not the path.
func hasLiteral(seg string) bool {
	for i := 0; i < len(seg); i++ {
		switch seg[i] {
		case '*', '?':
		case '[':
			end := strings.IndexByte(seg[i+1:], ']')
			if end < 0 {
				return true
			}
			i += end + 1
		default: // including '\', which escapes a literal
			return true
		}
	}
	return false
}

// segments cleans p and splits it; "" and "/" have no segments.
func segments(p string) []string {
	p = strings.TrimLeft(path.Clean("/"+p), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
