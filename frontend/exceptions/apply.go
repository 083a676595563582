package exceptions

import (
	"slices"
	"strings"

	"github.com/distribution/reference"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// MatchContext is what a scope is matched against besides the finding.
type MatchContext struct {
	// Image is the reference of the image being built ("registry/app:1.2");
	// empty when there is none (hardenkit check), and then no exception
	// with an image scope matches.
	Image string
	// Subject returns the package and vulnerability a finding is about;
	// nil when no finding has one (static rules). rules.Finding has no
	// such fields, so the evidence stage that produces vulnerability
	// findings supplies them here.
	Subject func(rules.Finding) Subject
}

// Subject is the package and vulnerability of a finding.
type Subject struct {
	// Package is the package URL of the affected package.
	Package string
	// CVE is the vulnerability id.
	CVE string
}

// Apply returns a copy of findings in which every enforce or warn finding
// that an exception covers has Level waived and Waiver set to the id of the
// first such exception. Findings are never removed. Apply does not check
// validity: call Validate first and fail the build on its error.
func (s *Set) Apply(findings []rules.Finding, ctx MatchContext) []rules.Finding {
	out := slices.Clone(findings)
	if s == nil {
		return out
	}
	names := imageNames(ctx.Image)
	for i := range out {
		f := &out[i]
		if f.Level != rules.LevelEnforce && f.Level != rules.LevelWarn {
			continue
		}
		for _, e := range s.Exceptions {
			if e.matches(*f, ctx, names) {
				f.Level = rules.LevelWaived
				f.Waiver = e.ID
				break
			}
		}
	}
	return out
}

// Matches reports whether e covers f: same rule, and every scope field set
// matches.
func (e Exception) Matches(f rules.Finding, ctx MatchContext) bool {
	return e.matches(f, ctx, imageNames(ctx.Image))
}

func (e Exception) matches(f rules.Finding, ctx MatchContext, images []string) bool {
	if f.Rule != e.Rule || e.Rule == "" || e.Scope.Empty() {
		return false
	}
	sc := e.Scope
	if sc.Stage != "" && sc.Stage != f.StageName {
		return false
	}
	if sc.Path != "" && (f.File == "" || !rootfs.Match(sc.Path, f.File)) {
		return false
	}
	if sc.Image != "" && !slices.ContainsFunc(images, func(n string) bool { return rootfs.Match(sc.Image, n) }) {
		return false
	}
	if sc.Package != "" || sc.CVE != "" {
		var subj Subject
		if ctx.Subject != nil {
			subj = ctx.Subject(f)
		}
		if sc.Package != "" && !purlMatches(sc.Package, subj.Package) {
			return false
		}
		if sc.CVE != "" && !strings.EqualFold(sc.CVE, subj.CVE) {
			return false
		}
	}
	return true
}

// purlMatches reports whether purl equals prefix or extends it at a purl
// boundary (version "@", qualifiers "?", subpath "#", or a deeper
// namespace "/"), so "pkg:npm/lodash" does not match "pkg:npm/lodash.merge".
func purlMatches(prefix, purl string) bool {
	rest, ok := strings.CutPrefix(purl, prefix)
	if !ok || purl == "" {
		return false
	}
	return rest == "" || strings.ContainsRune("@?#/", rune(rest[0])) || strings.ContainsRune("@?#/", rune(prefix[len(prefix)-1]))
}

// imageNames returns the names an image scope is matched against: the
// normalized repository name and its familiar short form, without tag or
// digest. An unparsable or empty reference has none.
func imageNames(ref string) []string {
	if ref == "" {
		return nil
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil
	}
	return []string{named.Name(), reference.FamiliarName(named)}
}
