package dockerfilecheck

// Control: base image pinning — every stage, builder stages included,
// because what a builder compiles with ends up in the shipped image.
//
//	HK1001 BaseImageNotPinnedByDigest  CIS 4.2
//	HK1003 BaseImageLatestTag          CIS 4.2

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var (
	ruleBaseNotPinned = rules.Rule{
		ID:          "HK1001",
		Name:        "BaseImageNotPinnedByDigest",
		Title:       "Base image is not pinned by digest",
		Family:      rules.FamilyReproducibility,
		Severity:    rules.SeverityHigh,
		Stage:       rules.StageStatic,
		CIS:         []string{"4.2"},
		Rationale:   "A tag is a mutable pointer: the registry can serve different bytes for debian:bookworm tomorrow, so the build is neither reproducible nor reviewable. Only a digest names exactly the image that was vetted.",
		Remediation: "Run `hardenkit pin CONTEXT`: it resolves every FROM through buildkitd (registry mirrors included) and writes FROM debian:bookworm@sha256:<digest>, keeping the tag for readers. Let a bot such as Renovate or Dependabot update the digest afterwards.",
		HelpURI:     helpURI("HK1001"),
	}
	ruleBaseLatest = rules.Rule{
		ID:          "HK1003",
		Name:        "BaseImageLatestTag",
		Title:       "Base image uses the latest tag, a floating tag or no tag",
		Family:      rules.FamilyReproducibility,
		Severity:    rules.SeverityMedium,
		Stage:       rules.StageStatic,
		CIS:         []string{"4.2"},
		Rationale:   "`latest` (which is what a FROM without a tag means) and channel or branch tags (edge, nightly, rolling, stable, main, master, …) move with every upstream release, so the same Dockerfile silently builds on a different OS or runtime from one day to the next.",
		Remediation: "Name an explicit version tag and pin its digest: FROM alpine:3.20@sha256:<digest>.",
		HelpURI:     helpURI("HK1003"),
	}
)

var basePinnedControl = control{
	rules: []rules.Rule{ruleBaseNotPinned, ruleBaseLatest},
	check: checkBasePinned,
}

func checkBasePinned(f *file, r *reporter) {
	for _, s := range f.stages {
		ref, ok := s.imageRef()
		if !ok {
			if s.untaggedUnresolved() {
				r.add(ruleBaseLatest, s.from, s, fmt.Sprintf("base image %s has no tag, so it means :latest whatever its variables name; name an explicit version", s.describeBase()))
			}
			continue
		}
		if _, digested := ref.(reference.Canonical); digested {
			continue
		}
		name := s.describeBase()
		r.add(ruleBaseNotPinned, s.from, s, fmt.Sprintf("base image %s is not pinned by digest; pin it as %s@sha256:<digest> (`hardenkit pin` writes it)", name, reference.FamiliarString(ref)))
		switch tagged, ok := ref.(reference.Tagged); {
		case !ok:
			r.add(ruleBaseLatest, s.from, s, fmt.Sprintf("base image %s has no tag, so it means :latest; name an explicit version", name))
		case tagged.Tag() == "latest":
			r.add(ruleBaseLatest, s.from, s, fmt.Sprintf("base image %s uses the latest tag; name an explicit version", name))
		case isFloatingTag(tagged.Tag()):
			r.add(ruleBaseLatest, s.from, s, fmt.Sprintf("base image %s uses %q, a tag that follows a moving channel or branch; name an explicit version", name, tagged.Tag()))
		}
	}
}

// imageRef parses the stage's base as an image reference. ok is false for
// scratch, for a reference to an earlier stage, and for a name that did
// not resolve (BuildKit reports that one itself).
func (s *stage) imageRef() (reference.Named, bool) {
	if s.parent != nil || s.base == "" || s.base == "scratch" {
		return nil, false
	}
	ref, err := reference.ParseNormalizedNamed(s.base)
	if err != nil {
		return nil, false
	}
	return ref, true
}

// untaggedUnresolved reports whether a base that did not resolve to an
// image reference (FROM ${REGISTRY}/ubuntu with REGISTRY unset) still
// visibly has no tag: its last path element is literal, with no :tag or
// @digest.
func (s *stage) untaggedUnresolved() bool {
	if s.parent != nil || s.base == "" || s.base == "scratch" || !strings.Contains(s.baseRaw, "$") {
		return false
	}
	last := s.baseRaw[strings.LastIndex(s.baseRaw, "/")+1:]
	return last != "" && !strings.ContainsAny(last, ":@$")
}

// describeBase quotes the base image, showing the FROM text too when ARG
// expansion changed it.
func (s *stage) describeBase() string {
	if s.baseRaw != s.base {
		return fmt.Sprintf("%q (from %q)", s.base, s.baseRaw)
	}
	return fmt.Sprintf("%q", s.base)
}
