package rebuild

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/distribution/reference"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/options"
)

// Plan is a rebuild with exactly the recorded inputs.
type Plan struct {
	// HardenkitVersion is the version that built the image.
	HardenkitVersion string
	// FrontendImage is the frontend image by digest; empty when the
	// build ran hardenkit in process.
	FrontendImage string
	// Dockerfile is the Dockerfile's name in the context.
	Dockerfile string
	// Target is the stage; empty for the last.
	Target string
	// Platforms are every platform, sorted.
	Platforms []string
	// BuildArgs are the recorded args, SOURCE_DATE_EPOCH set to the
	// recorded epoch.
	BuildArgs map[string]string
	// Pins are named contexts that pin every image the build pulled:
	// image reference → docker-image://REF@DIGEST, so a moved tag
	// resolves to what the build used.
	Pins map[string]string
	// NamedContexts are the recorded named contexts that are images or
	// URLs (reproducible as given).
	NamedContexts map[string]string
	// LocalContexts are named contexts the client sent from its disk
	// (a policy or exceptions file, a directory): the verifier supplies
	// them.
	LocalContexts []string
	// Secrets and SSH are the mount ids to ask the verifier for.
	Secrets, SSH []string
	// RedactedArgs are build args whose value was a secret: the verifier
	// supplies them.
	RedactedArgs []string
}

// PlanOf returns the rebuild of the image the records describe (one per
// platform). The records must agree on everything but the platform: a
// single build wrote them.
func PlanOf(records []*compliance.Predicate) (Plan, error) {
	if len(records) == 0 {
		return Plan{}, fmt.Errorf("%w: no platforms", ErrNoRecord)
	}
	first := records[0]
	r := first.Rebuild
	p := Plan{
		HardenkitVersion: first.Hardenkit.Version,
		FrontendImage:    first.Hardenkit.FrontendImage,
		Dockerfile:       r.Dockerfile,
		Target:           r.Target,
		BuildArgs:        maps.Clone(r.BuildArgs),
		Pins:             map[string]string{},
		NamedContexts:    map[string]string{},
		Secrets:          slices.Clone(r.Secrets),
		SSH:              slices.Clone(r.SSH),
		RedactedArgs:     slices.Clone(r.RedactedArgs),
	}
	if p.BuildArgs == nil {
		p.BuildArgs = map[string]string{}
	}
	p.BuildArgs[options.KeySourceDateEpoch] = strconv.FormatInt(first.SourceDateEpoch, 10)
	for _, rec := range records {
		if err := agrees(first, rec); err != nil {
			return Plan{}, err
		}
		p.Platforms = append(p.Platforms, rec.Rebuild.Platform)
		for _, img := range rec.Rebuild.Images {
			// A reference the Dockerfile already pinned by digest needs
			// no pin, and a named context cannot be keyed by it.
			if key, ok := pinKey(img.Ref, rec.Rebuild.Platform); ok {
				p.Pins[key] = "docker-image://" + img.Ref + "@" + img.Digest
			}
		}
	}
	// A multi-platform request recorded its platforms; a default-platform
	// build recorded none and is rebuilt for the platform it ran on.
	if len(r.Platforms) > 0 {
		p.Platforms = slices.Clone(r.Platforms)
	}
	slices.Sort(p.Platforms)
	p.Platforms = slices.Compact(p.Platforms)
	for name, v := range r.NamedContexts {
		switch {
		case strings.HasPrefix(v, "docker-image://"), strings.HasPrefix(v, "https://"), strings.HasPrefix(v, "git@"),
			strings.HasPrefix(v, "target:"):
			p.NamedContexts[name] = v
		default:
			p.LocalContexts = append(p.LocalContexts, name)
		}
	}
	slices.Sort(p.LocalContexts)
	return p, nil
}

// agrees fails when two platforms' records disagree on what one build
// request set.
func agrees(a, b *compliance.Predicate) error {
	ra, rb := a.Rebuild, b.Rebuild
	switch {
	case a.SourceDateEpoch != b.SourceDateEpoch:
		return fmt.Errorf("the statements of %s and %s record different SOURCE_DATE_EPOCHs (%d, %d): not one build", ra.Platform, rb.Platform, a.SourceDateEpoch, b.SourceDateEpoch)
	case a.Hardenkit != b.Hardenkit:
		return fmt.Errorf("the statements of %s and %s name different frontends: not one build", ra.Platform, rb.Platform)
	case !maps.Equal(ra.BuildArgs, rb.BuildArgs) || ra.Target != rb.Target || ra.Dockerfile != rb.Dockerfile:
		return fmt.Errorf("the statements of %s and %s record different build args, target or Dockerfile: not one build", ra.Platform, rb.Platform)
	}
	return nil
}

// Missing lists what the verifier must supply and did not: local named
// contexts, secret and SSH ids, redacted build args.
func (p Plan) Missing(contexts, secrets, ssh, args []string) []string {
	var out []string
	for _, n := range p.LocalContexts {
		if !slices.Contains(contexts, n) {
			out = append(out, "--build-context "+n+"=DIR (a named context the build read from the client's disk)")
		}
	}
	for _, id := range p.Secrets {
		if !slices.Contains(secrets, id) {
			out = append(out, "--secret id="+id+",src=FILE (the build mounted secret "+id+")")
		}
	}
	for _, id := range p.SSH {
		if !slices.Contains(ssh, id) {
			out = append(out, "--ssh "+id+" (the build mounted SSH "+id+")")
		}
	}
	for _, a := range p.RedactedArgs {
		if !slices.Contains(args, a) {
			out = append(out, "--build-arg "+a+"=VALUE (its value was a secret and is not recorded)")
		}
	}
	return out
}

// pinKey is the named-context name BuildKit's Dockerfile frontend looks
// up for ref on platform (dockerui.NamedContext: the familiar name without
// ":latest", then "::" and the platform), so each platform's base resolves
// to the digest its own build recorded.
func pinKey(ref, platform string) (string, bool) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", false
	}
	if _, digested := named.(reference.Digested); digested {
		return "", false
	}
	return strings.TrimSuffix(reference.FamiliarString(named), ":latest") + "::" + platform, true
}
