// Package options owns hardenkit's frontend options. They travel as build
// args (the only channel `docker buildx build` offers a frontend), in the
// same way BuildKit's own frontend consumes BUILDKIT_* build args.
package options

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Prefix marks the build args that belong to hardenkit rather than to the
// Dockerfile.
const Prefix = "HARDENKIT_"

// Build-arg names hardenkit understands. Every other HARDENKIT_* arg is an
// error: a typo must not silently switch a control off.
const (
	// KeyMode selects whether hardening runs at all.
	KeyMode = Prefix + "MODE"
	// KeyPolicy names the policy: a built-in baseline ("strict",
	// "cis-docker") or a file relative to the Dockerfile's directory.
	KeyPolicy = Prefix + "POLICY"
)

// Mode says how hardenkit treats a build.
type Mode string

const (
	// ModeEnforce runs every control of the effective policy (the default).
	ModeEnforce Mode = "enforce"
	// ModeOff builds exactly as BuildKit's dockerfile.v0 would. The mode is
	// recorded in the evidence, and a policy may forbid it.
	ModeOff Mode = "off"
)

var knownModes = []Mode{ModeEnforce, ModeOff}

// Options are the parsed hardenkit options of one build request.
type Options struct {
	// Mode says whether the hardening pipeline runs.
	Mode Mode
	// Policy is the explicitly requested policy; empty means discovery.
	Policy string
}

// Parse reads hardenkit's options from the frontend opts of a build
// request. Unknown HARDENKIT_* build args and bad values are errors.
func Parse(frontendOpts map[string]string) (Options, error) {
	o := Options{Mode: ModeEnforce}
	for _, key := range slices.Sorted(maps.Keys(frontendOpts)) {
		name, ok := strings.CutPrefix(key, BuildArgPrefix)
		if ok && name == KeySourceDateEpoch {
			if err := ValidateEpochArg(frontendOpts[key]); err != nil {
				return Options{}, err
			}
			continue
		}
		if !ok || !strings.HasPrefix(name, Prefix) {
			continue
		}
		value := frontendOpts[key]
		switch name {
		case KeyMode:
			m := Mode(strings.ToLower(strings.TrimSpace(value)))
			if !slices.Contains(knownModes, m) {
				return Options{}, fmt.Errorf("build arg %s=%q: want one of %s", KeyMode, value, joinModes())
			}
			o.Mode = m
		case KeyPolicy:
			if strings.TrimSpace(value) == "" {
				return Options{}, fmt.Errorf("build arg %s is empty: name a baseline or a policy file", KeyPolicy)
			}
			o.Policy = strings.TrimSpace(value)
		default:
			return Options{}, fmt.Errorf("unknown hardenkit build arg %s (known: %s, %s)", name, KeyMode, KeyPolicy)
		}
	}
	return o, nil
}

// StripBuildArgs returns a copy of the Dockerfile build args without
// hardenkit's own, so that they never change the converted LLB: with
// HARDENKIT_MODE=off the definition is the one dockerfile.v0 produces.
func StripBuildArgs(args map[string]string) map[string]string {
	out := make(map[string]string, len(args))
	for k, v := range args {
		if strings.HasPrefix(k, Prefix) {
			continue
		}
		out[k] = v
	}
	return out
}

func joinModes() string {
	s := make([]string, len(knownModes))
	for i, m := range knownModes {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}
