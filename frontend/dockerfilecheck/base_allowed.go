package dockerfilecheck

// Control: allowed base images — the shipped image only: the policy's
// distroless allow-list says what a production image may be built on;
// builder stages may use full toolchain images.
//
//	HK1002 BaseImageNotAllowed  CIS 4.2

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/rules"
)

var ruleBaseNotAllowed = rules.Rule{
	ID:          "HK1002",
	Name:        "BaseImageNotAllowed",
	Title:       "Shipped image's base is not on the policy's allow-list",
	Family:      rules.FamilySupplyChain,
	Severity:    rules.SeverityHigh,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.2"},
	Rationale:   "CIS 4.2 asks for images built only from trusted bases. The policy's allow-list (controls.distroless.allowedBases) names the minimal, vetted bases production images may use; anything else brings an unreviewed OS, package set and publisher.",
	Remediation: "Build the shipped stage FROM an allowed base (a distroless or minimal image on the list, at the listed digest), or get the base added to the policy.",
	HelpURI:     helpURI("HK1002"),
}

var baseAllowedControl = control{
	rules: []rules.Rule{ruleBaseNotAllowed},
	check: checkBaseAllowed,
}

func checkBaseAllowed(f *file, r *reporter) {
	allowed := f.opt.Policy.Controls.Distroless.AllowedBases
	if len(allowed) == 0 {
		return // no allow-list configured: nothing to enforce
	}
	root := f.shippedChain()[0]
	ref, ok := root.imageRef()
	if !ok {
		return // scratch is as minimal as it gets
	}
	if baseAllowed(ref, allowed) {
		return
	}
	var names []string
	for _, a := range allowed {
		names = append(names, a.Pattern)
	}
	r.add(ruleBaseNotAllowed, root.from, root, fmt.Sprintf("the shipped image is built on %s, which is not on the policy's allowed bases (%s)",
		root.describeBase(), strings.Join(names, ", ")))
}

// baseAllowed matches a base image against the allow-list. A pattern names
// a repository, normalized like a FROM ("debian" is
// docker.io/library/debian); `*` matches within one path segment and `**`
// across segments. A tag in the pattern must match the FROM's tag. An
// entry's Digest, when set, must equal the FROM's digest.
func baseAllowed(ref reference.Named, allowed []policy.BaseImage) bool {
	for _, a := range allowed {
		if !patternMatches(a.Pattern, ref) {
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

// patternMatches reports whether an allow-list pattern covers ref.
func patternMatches(pattern string, ref reference.Named) bool {
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
