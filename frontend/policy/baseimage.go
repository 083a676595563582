package policy

import (
	"regexp"
	"strings"

	"github.com/distribution/reference"
)

// AllowsBase matches a base image against the allow-list. A pattern names
// a repository, normalized like a FROM ("debian" is
// docker.io/library/debian); `*` matches within one path segment and `**`
// across segments. A tag in the pattern must match the FROM's tag. An
// entry's Digest, when set, must equal the FROM's digest.
func AllowsBase(allowed []BaseImage, ref reference.Named) bool {
	for _, a := range allowed {
		if !MatchesBasePattern(a.Pattern, ref) {
			continue
		}
		if a.Digest != "" {
			c, ok := ref.(reference.Canonical)
			if !ok || c.Digest().String() != a.Digest {
				continue
			}
		}
		return true
	}
	return false
}

// MatchesBasePattern reports whether an allow-list pattern covers ref.
func MatchesBasePattern(pattern string, ref reference.Named) bool {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" {
		return false
	}
	repo, tag, digest := splitPattern(pattern)
	if t, ok := ref.(reference.Tagged); tag != "" && (!ok || t.Tag() != tag) {
		return false
	}
	if c, ok := ref.(reference.Canonical); digest != "" && (!ok || c.Digest().String() != digest) {
		return false
	}
	if !strings.Contains(repo, "*") {
		pn, err := reference.ParseNormalizedNamed(repo)
		return err == nil && pn.Name() == ref.Name()
	}
	re := globRegexp(repo)
	return re.MatchString(ref.Name()) || re.MatchString(reference.FamiliarName(ref))
}

// splitPattern separates "repo:tag@digest" (tag and digest optional; a
// colon inside the registry host is a port, not a tag).
func splitPattern(p string) (repo, tag, digest string) {
	repo, digest, _ = strings.Cut(p, "@")
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	return repo, tag, digest
}

// globRegexp compiles an allow-list glob: `**` spans segments, `*` stays
// within one.
func globRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch {
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case glob[i] == '*':
			b.WriteString("[^/]*")
		default:
			b.WriteString(regexp.QuoteMeta(glob[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
