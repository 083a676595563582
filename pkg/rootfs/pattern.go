package rootfs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Path patterns are the globs of policies (keep paths, secrets.allowPaths,
// base images) and exception scopes (scope.path, scope.image). Matching is
// doublestar's: "*", "?" and "[class]" stay within one segment, a whole
// segment "**" spans any number of segments (none included), so "dir/**"
// matches "dir" and everything below it. Three things are hardenkit's own,
// and the reason this file exists:
//   - both sides are cleaned as Clean does, so a leading "/" and "./" are
//     ignored: "/usr/bin/*" and "usr/bin/*" mean the same for an image path
//     and a build-context path;
//   - "{" and "}" are literal characters, and "[!" is a class containing
//     "!", as in path.Match: the pattern language has no alternation, so a
//     waiver that looks narrow ("{*,*}") cannot match everything;
//   - ValidatePattern rejects ".." segments and "**" inside a segment.
//
// moby/patternmatcher is not used because it implements .dockerignore
// semantics (a pattern also matches everything below a matching directory,
// "foo**" matches "foobar", "!" negates): a waiver scope must match exactly
// what it says.

// ValidatePattern reports whether pattern is usable: not empty, no ".."
// segment, "**" only as a whole segment, and valid glob syntax in every
// segment. Callers validate patterns when they load them.
func ValidatePattern(pattern string) error {
	if strings.TrimSpace(pattern) == "" {
		return errors.New("empty pattern")
	}
	// Check the raw segments: cleaning would fold ".." away.
	for _, seg := range strings.Split(pattern, "/") {
		switch {
		case seg == "" || seg == "." || seg == "**":
			continue
		case seg == "..":
			return errors.New(`".." is not allowed in a pattern`)
		case strings.Contains(seg, "**"):
			return fmt.Errorf(`"**" must be a whole path segment, not part of %q`, seg)
		}
		if !doublestar.ValidatePattern(literalBraces(seg)) {
			return fmt.Errorf("segment %q: %w", seg, doublestar.ErrBadPattern)
		}
	}
	return nil
}

// Match reports whether name matches pattern. An invalid pattern matches
// nothing.
func Match(pattern, name string) bool {
	if ValidatePattern(pattern) != nil {
		return false
	}
	pattern, name = Clean(pattern), Clean(name)
	if name == "/" {
		// The root has no segment for "*" to match; only "**" reaches it.
		return strings.Trim(strings.ReplaceAll(pattern, "**", ""), "/") == ""
	}
	return doublestar.MatchUnvalidated(literalBraces(pattern), name)
}

// WildcardOnly reports whether a pattern contains no literal character at
// all ("*", "**", "**/*", "*/?"): such a pattern scopes nothing.
func WildcardOnly(pattern string) bool {
	for _, seg := range strings.Split(Clean(pattern), "/") {
		if hasLiteral(seg) {
			return false
		}
	}
	return true
}

// hasLiteral reports whether a segment has a character outside "*", "?"
// and bracket expressions. A class like "[a-z]" counts as a wildcard: it
// narrows a single character, not the path.
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

// literalBraces escapes what doublestar reads as syntax but path.Match
// reads as literal characters: "{", "}" and a "!" opening a class.
func literalBraces(p string) string {
	if !strings.ContainsAny(p, "{}!") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			i++
			c = p[i]
		case c == '{' || c == '}' || (c == '!' && i > 0 && p[i-1] == '['):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
