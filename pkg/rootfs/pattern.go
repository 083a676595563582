package rootfs

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Path patterns are the globs of policies (keep paths, secrets.allowPaths,
// base images) and exception scopes (scope.path, scope.image). Matching is
// doublestar's: "*", "?" and "[class]" stay within one segment, a whole
// segment "**" spans any number of segments (none included), so "dir/**"
// matches "dir" and everything below it. Four things are hardenkit's own,
// and the reason this file exists:
//   - both sides are cleaned as Clean does, so a leading "/" and "./" are
//     ignored: "/usr/bin/*" and "usr/bin/*" mean the same for an image path
//     and a build-context path;
//   - "{" and "}" are literal characters, and "[!" is a class containing
//     "!", as in path.Match: the pattern language has no alternation, so a
//     waiver that looks narrow ("{*,*}") cannot match everything;
//   - ValidatePattern rejects ".." segments and "**" inside a segment;
//   - the syntax and meaning of a segment are path.Match's, which the
//     language was defined with: "[a-]" is an error, a reversed range
//     matches nothing, and any "**" may stand for no segment at all
//     (doublestar alone differs on these; TestMatchAgreesWithOracle holds
//     the two together).
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
		// path.Match's syntax is the language's (classes like "[a-]" are
		// errors); doublestar must also read what is left.
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("segment %q: %w", seg, err)
		}
		if !doublestar.ValidatePattern(toDoublestar(seg)) {
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
	return matchSegments(collapseDoubleStars(strings.Split(pattern, "/")), name)
}

// matchSegments matches name against the pattern segs. doublestar lets a
// "**" match no segment only in some positions (not "a*/**" against "a",
// nor "x/**/**" against "x"), so each "**" is also tried as absent: the
// language's "**" is any number of segments, none included.
func matchSegments(segs []string, name string) bool {
	if doublestar.MatchUnvalidated(toDoublestar(strings.Join(segs, "/")), name) {
		return true
	}
	for i, seg := range segs {
		if seg == "**" && len(segs) > 1 {
			rest := append(slices.Clone(segs[:i]), segs[i+1:]...)
			if matchSegments(rest, name) {
				return true
			}
		}
	}
	return false
}

// collapseDoubleStars folds runs of "**" segments into one: "**/**" and
// "**" match the same paths.
func collapseDoubleStars(segs []string) []string {
	out := segs[:0:0]
	for _, seg := range segs {
		if seg == "**" && len(out) > 0 && out[len(out)-1] == "**" {
			continue
		}
		out = append(out, seg)
	}
	return out
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

// toDoublestar rewrites a pattern that path.Match's syntax accepts into
// doublestar's with the same meaning: "{", "}" and a "!" opening a class
// are literal characters, and a class's reversed range ("z-a") matches
// nothing, as in path.Match.
func toDoublestar(p string) string {
	if !strings.ContainsAny(p, "{}![") {
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
		case c == '[':
			n := writeClass(&b, p[i:])
			if n > 0 {
				i += n - 1
				continue
			}
		case c == '{' || c == '}':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// writeClass writes the class that opens p ("[...]") for doublestar and
// returns its length in p, or 0 when p holds no complete class (then "["
// is written as it is). Reversed ranges are dropped: they match nothing.
// A class left with no item matches no character; negated, any character.
func writeClass(b *strings.Builder, p string) int {
	i, negated := 1, false
	if i < len(p) && p[i] == '^' {
		negated, i = true, i+1
	}
	var items strings.Builder
	for first := true; i < len(p) && (first || p[i] != ']'); first = false {
		lo, n := classChar(p[i:])
		if n == 0 {
			return 0
		}
		i += n
		item := p[i-n : i]
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi, m := classChar(p[i+1:])
			if m == 0 {
				return 0
			}
			item += "-" + p[i+1:i+1+m]
			i += 1 + m
			if hi < lo {
				continue
			}
		}
		if item == "!" {
			item = "\\!"
		}
		items.WriteString(item)
	}
	if i >= len(p) {
		return 0
	}
	switch {
	case items.Len() == 0 && negated:
		b.WriteString("?")
	case items.Len() == 0:
		// A NUL byte: no path name holds one, so the segment never matches.
		b.WriteByte(0)
	default:
		b.WriteString("[")
		if negated {
			b.WriteString("^")
		}
		b.WriteString(items.String())
		b.WriteString("]")
	}
	return i + 1
}

// classChar reads one class character of p, escaped or not, and returns
// it and its length (0 when p is empty or ends in an escape).
func classChar(p string) (byte, int) {
	switch {
	case p == "":
		return 0, 0
	case p[0] == '\\' && len(p) > 1:
		return p[1], 2
	case p[0] == '\\':
		return 0, 0
	}
	return p[0], 1
}
