package rootfs

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Path patterns are the globs of policies (keep paths, secrets.allowPaths,
// base images) and exception scopes (scope.path, scope.image). A segment
// matches as path.Match matches it ("*", "?" and "[class]" stay within one
// segment, "{" and "}" are literal, so a waiver that looks narrow, "{*,*}",
// cannot match everything), and a whole segment "**" spans any number of
// segments, none included, so "dir/**" matches "dir" and everything below
// it. Both sides are cleaned as Clean does, so "/usr/bin/*" and
// "usr/bin/*" mean the same for an image path and a build-context path.
//
// doublestar (in the module graph) was tried and left: it lets "**" match
// no segment only in some positions ("a*/**" does not match "a"), reads
// "[a-]" as a class and matches reversed ranges, so adapting it took more
// code than the matcher below, which is stdlib's path.Match plus the "**"
// rule. moby/patternmatcher implements .dockerignore semantics (a pattern
// also matches everything below a matching directory, "foo**" matches
// "foobar", "!" negates): a waiver scope must match exactly what it says.

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
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("segment %q: %w", seg, err)
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
	pat, segs := segmentsOf(pattern), segmentsOf(name)
	// reached[j]: the pattern so far matches the first j name segments.
	reached := make([]bool, len(segs)+1)
	reached[0] = true
	for _, p := range pat {
		next := make([]bool, len(segs)+1)
		for j := range reached {
			switch {
			case p == "**":
				// Any number of segments: every j from the first reached on.
				next[j] = reached[j] || j > 0 && next[j-1]
			case j > 0 && reached[j-1]:
				next[j], _ = path.Match(p, segs[j-1])
			}
		}
		reached = next
	}
	return reached[len(segs)]
}

// segmentsOf is p cleaned and split into segments; the root has none.
func segmentsOf(p string) []string {
	p = strings.TrimPrefix(Clean(p), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
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
