package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// NamedContext is the build context a policy can be passed in.
const NamedContext = "hardenkit-policy"

// FileName is the policy file looked for beside the Dockerfile.
const FileName = "hardenkit.yaml"

// Sources are the places Discover may find a policy. The frontend and the
// CLI supply the readers; a nil reader is a source that does not exist.
type Sources struct {
	// Explicit is a policy given by frontend option or CLI flag: a
	// built-in baseline name ("strict", "builtin:cis-docker") or a file
	// path. A name wins over a file of the same name; write "./strict" for
	// the file.
	Explicit string
	// ReadExplicit reads the Explicit path.
	ReadExplicit func(ctx context.Context, path string) ([]byte, error)
	// NamedContext reads the policy from the hardenkit-policy named
	// context: its bytes, the file name to report, and whether the
	// context exists.
	NamedContext func() ([]byte, string, bool, error)
	// BesideDockerfile reads hardenkit.yaml next to the Dockerfile, and
	// whether it exists.
	BesideDockerfile func() ([]byte, bool, error)
}

// Discover returns the policy of a build from the first source that has
// one: the explicit policy, the hardenkit-policy named context, a
// hardenkit.yaml beside the Dockerfile, else the strict baseline. A source
// that exists but cannot be read or parsed is an error, never a fall back
// to the next: a broken policy must fail the build, not relax it.
func Discover(ctx context.Context, s Sources, known func(string) bool) (*Policy, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discovering policy: %w", err)
	}
	if s.Explicit != "" {
		return explicit(ctx, s, known)
	}
	if s.NamedContext != nil {
		data, name, found, err := s.NamedContext()
		if err != nil {
			return nil, fmt.Errorf("reading policy from named context %s: %w", NamedContext, err)
		}
		if found {
			if name == "" {
				name = NamedContext + ":" + FileName
			}
			return Parse(name, data, known)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discovering policy: %w", err)
	}
	if s.BesideDockerfile != nil {
		data, found, err := s.BesideDockerfile()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", FileName, err)
		}
		if found {
			return Parse(FileName, data, known)
		}
	}
	return Baseline(BaselineStrict)
}

func explicit(ctx context.Context, s Sources, known func(string) bool) (*Policy, error) {
	if name := strings.TrimPrefix(s.Explicit, BuiltinPrefix); slices.Contains(baselineNames, name) {
		return Baseline(name)
	}
	if strings.HasPrefix(s.Explicit, BuiltinPrefix) {
		return nil, fmt.Errorf("policy %s: unknown baseline (known: %s)", s.Explicit, strings.Join(baselineNames, ", "))
	}
	if s.ReadExplicit == nil {
		return nil, fmt.Errorf("policy %s: no way to read a policy file here", s.Explicit)
	}
	data, err := s.ReadExplicit(ctx, s.Explicit)
	if err != nil {
		return nil, fmt.Errorf("reading policy %s: %w", s.Explicit, err)
	}
	return Parse(s.Explicit, data, known)
}
