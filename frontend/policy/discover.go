package policy

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/hardenkit/hardenkit/frontend/options"
)

// FileName is the policy file looked for beside the Dockerfile.
const FileName = "hardenkit.yaml"

// Sources are the places Discover may find a policy. The frontend and the
// CLI supply the readers; a nil reader is a source that does not exist.
type Sources struct {
	// Organisation reads the policy baked into the frontend image
	// (OrgPolicyPath): its bytes, the name to report, and whether it
	// exists.
	Organisation func() ([]byte, string, bool, error)
	// NamedContext reads the policy from the hardenkit-policy named
	// context: its bytes, the file name to report, and whether the
	// context exists.
	NamedContext func() ([]byte, string, bool, error)
	// BesideDockerfile reads hardenkit.yaml next to the Dockerfile, and
	// whether it exists.
	BesideDockerfile func() ([]byte, bool, error)
	// Explicit is a policy given by frontend option or CLI flag: a
	// built-in baseline name ("strict", "builtin:cis-docker") or a file
	// path. A name wins over a file of the same name; write "./strict" for
	// the file.
	Explicit string
	// ReadExplicit reads the Explicit path.
	ReadExplicit func(ctx context.Context, path string) ([]byte, error)
	// Ranking judges every source below the highest one.
	Ranking Ranking
}

// source is one policy source that exists.
type source struct {
	ref  SourceRef
	data []byte
	// builtin is the baseline a build arg named, "" for a file.
	builtin string
}

// Discover returns the effective policy of a build. The sources, highest
// rank first, are the organisation's frontend image, the hardenkit-policy
// named context, hardenkit.yaml beside the Dockerfile and the explicit
// policy (HARDENKIT_POLICY); with none, the strict baseline. The highest
// source that exists sets the policy; each lower one may only tighten it
// (see tighten), and a weakening attempt is an error naming the source and
// the setting. A source that exists but cannot be read or parsed is an
// error, never a fall back to the next: a broken policy must fail the
// build, not relax it. The result's Sources lists every source consulted.
func Discover(ctx context.Context, s Sources, known func(string) bool) (*Policy, error) {
	srcs, err := collect(ctx, s)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		p, err := Baseline(BaselineStrict)
		if err != nil {
			return nil, err
		}
		data, _, err := BaselineFile(BaselineStrict)
		if err != nil {
			return nil, err
		}
		p.Sources = []SourceRef{{Rank: RankDefault, Name: p.Source, Digest: digest.FromBytes(data).String()}}
		return p, nil
	}
	var eff *Policy
	var refs []SourceRef
	for _, src := range srcs {
		p, w, err := src.parse(known)
		if err != nil {
			return nil, err
		}
		if eff == nil {
			eff = p
		} else {
			next, err := tighten(eff, p, w, s.Ranking)
			if err != nil {
				return nil, weakeningError(src.ref, src.builtin != "", refs, err)
			}
			eff = next
		}
		refs = append(refs, src.ref)
	}
	eff.Source = refs[0].Name
	eff.Sources = refs
	return eff, nil
}

func names(refs []SourceRef) string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = fmt.Sprintf("%s (%s)", r.Name, r.Rank)
	}
	return strings.Join(out, ", ")
}

func (s source) parse(known func(string) bool) (*Policy, written, error) {
	if s.builtin != "" {
		p, err := Baseline(s.builtin)
		return p, written{all: true}, err
	}
	return parseWritten(s.ref.Name, s.data, known)
}

// collect reads the sources that exist, highest rank first.
func collect(ctx context.Context, s Sources) ([]source, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discovering policy: %w", err)
	}
	var out []source
	add := func(rank, name string, data []byte) {
		out = append(out, source{ref: SourceRef{Rank: rank, Name: name, Digest: digest.FromBytes(data).String()}, data: data})
	}
	if s.Organisation != nil {
		data, name, found, err := s.Organisation()
		if err != nil {
			return nil, fmt.Errorf("reading the organisation policy %s of the frontend image: %w", OrgPolicyPath, err)
		}
		if found {
			add(RankOrganisation, cmp.Or(name, "frontend:"+OrgPolicyPath), data)
		}
	}
	if s.NamedContext != nil {
		data, name, found, err := s.NamedContext()
		if err != nil {
			return nil, fmt.Errorf("reading policy from named context %s: %w", options.ContextPolicy, err)
		}
		if found {
			add(RankCI, cmp.Or(name, options.ContextPolicy+":"+FileName), data)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discovering policy: %w", err)
	}
	beside := -1
	if s.BesideDockerfile != nil {
		data, found, err := s.BesideDockerfile()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", FileName, err)
		}
		if found {
			beside = len(out)
			add(RankDockerfile, FileName, data)
		}
	}
	if s.Explicit == "" {
		return out, nil
	}
	if name := strings.TrimPrefix(s.Explicit, BuiltinPrefix); slices.Contains(baselineNames, name) {
		data, _, err := BaselineFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, source{ref: SourceRef{Rank: RankBuildArg, Name: BuiltinPrefix + name, Digest: digest.FromBytes(data).String()}, builtin: name})
		return out, nil
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
	if beside >= 0 && path.Clean(s.Explicit) == FileName && out[beside].ref.Digest == digest.FromBytes(data).String() {
		// HARDENKIT_POLICY names the file beside the Dockerfile: one source.
		return out, nil
	}
	add(RankBuildArg, s.Explicit, data)
	return out, nil
}
