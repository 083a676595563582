// Package baseimage matches a base image against an allow-list of image
// name patterns. The policy (frontend/policy) declares the list, and both
// the static Dockerfile rules and LLB hardening (llb/harden) check the
// shipped stage's base against it, so the matching lives here, below both.
package baseimage

import (
	"regexp"
	"strings"

	"github.com/distribution/reference"
	godigest "github.com/opencontainers/go-digest"
)

// Allowed is one allowed base image.
type Allowed struct {
	// Pattern is "name[:tag][@digest]" where name is a glob ("*" within a
	// path segment, "**" across), e.g. "gcr.io/distroless/static-debian12"
	// or "registry.example/base/**". Names are normalized like FROM
	// ("debian" is docker.io/library/debian).
	Pattern string `json:"pattern"`
	// Digest pins the base ("sha256:…"); empty accepts any digest of a
	// matching name.
	Digest string `json:"digest,omitempty"`
}

// Allows matches a base image against the allow-list. A pattern names a
// repository, normalized like a FROM ("debian" is
// docker.io/library/debian); `*` matches within one path segment and `**`
// across segments. A tag in the pattern must match the FROM's tag. An
// entry's Digest, when set, must equal the FROM's digest.
func Allows(allowed []Allowed, ref reference.Named) bool {
	for _, a := range allowed {
		if !MatchesPattern(a.Pattern, ref) {
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

// AllowsName is Allows for a base written as name (a FROM reference) and
// resolved to digest, when known: a name that does not carry a digest
// itself is matched with the resolved one, so that a pinned entry accepts
// a tag that resolves to its digest. A name that does not parse is not
// allowed.
func AllowsName(allowed []Allowed, name, digest string) bool {
	ref, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return false
	}
	if _, pinned := ref.(reference.Canonical); !pinned && digest != "" {
		if d, err := godigest.Parse(digest); err == nil {
			if c, err := reference.WithDigest(ref, d); err == nil {
				ref = c
			}
		}
	}
	return Allows(allowed, ref)
}

// MatchesPattern reports whether an allow-list pattern covers ref.
func MatchesPattern(pattern string, ref reference.Named) bool {
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
