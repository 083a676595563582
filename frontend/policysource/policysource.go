// Package policysource finds a build's policy and exceptions among the
// sources a frontend can read: a build arg naming one, the hardenkit-policy
// and hardenkit-exceptions named contexts, and files beside the Dockerfile.
// Whatever exists but cannot be read or parsed fails the build: a broken
// policy must never relax it.
package policysource

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/llb/solve"
	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// ExceptionsFileName is the file read from the hardenkit-exceptions named
// context.
const ExceptionsFileName = "exceptions.yaml"

// Loaded is a build's effective policy and its validated exceptions.
type Loaded struct {
	Policy *policy.Policy
	// Exceptions is nil when the build has none.
	Exceptions *exceptions.Set
}

// Request says where to look.
type Request struct {
	// Explicit is the HARDENKIT_POLICY build arg: a baseline name or a path
	// relative to the Dockerfile's directory.
	Explicit string
	// DockerfileName is the Dockerfile's path in the dockerfile context.
	DockerfileName string
	// Known tells catalog rule ids from unknown ones.
	Known func(string) bool
	// Now is when exceptions are judged for expiry.
	Now time.Time
	// Frontend is the frontend's own image (nil in-process): an
	// organisation's frontend image carries its policy at
	// policy.OrgPolicyPath.
	Frontend *llb.State
	// Catalog is every rule of the build; policy precedence compares
	// levels rule by rule.
	Catalog []rules.Rule
}

// Load discovers the policy and the exceptions of a build.
func Load(ctx context.Context, bc *dockerui.Client, c client.Client, req Request) (*Loaded, error) {
	files := &dockerfileDir{bc: bc, c: c, dir: path.Dir(req.DockerfileName)}
	pol, err := policy.Discover(ctx, policy.Sources{
		Organisation: func() ([]byte, string, bool, error) {
			if req.Frontend == nil {
				return nil, "", false, nil
			}
			dt, found, err := readFromState(ctx, c, *req.Frontend, policy.OrgPolicyPath)
			return dt, "frontend:" + policy.OrgPolicyPath, found, err
		},
		Ranking:  policy.Ranking{Catalog: req.Catalog, BuiltinTools: BuiltinTools},
		Explicit: req.Explicit,
		ReadExplicit: func(ctx context.Context, p string) ([]byte, error) {
			dt, found, err := files.read(ctx, p)
			if err == nil && !found {
				err = fmt.Errorf("policy file %s not found beside the Dockerfile\n  to fix: HARDENKIT_POLICY (or --policy) names a file in the Dockerfile's directory or a built-in baseline (strict, cis-docker); add the file there or name a baseline", p)
			}
			return dt, err
		},
		NamedContext: func() ([]byte, string, bool, error) {
			dt, found, err := readNamedContext(ctx, bc, c, options.ContextPolicy, policy.FileName)
			return dt, options.ContextPolicy + ":" + policy.FileName, found, err
		},
		BesideDockerfile: func() ([]byte, bool, error) {
			return files.read(ctx, policy.FileName)
		},
	}, req.Known)
	if err != nil {
		return nil, fmt.Errorf("loading policy: %w", err)
	}

	set, err := loadExceptions(ctx, bc, c, files, pol, req)
	if err != nil {
		return nil, err
	}
	return &Loaded{Policy: pol, Exceptions: set}, nil
}

// BuiltinTools returns hardenkit's built-in list of a policy tooling
// category, which a null list in a policy stands for.
func BuiltinTools(category string) []string {
	l := tooling.DefaultLists()
	switch category {
	case "packageManagers":
		return l.PackageManagers
	case "networkTools":
		return l.NetworkTools
	case "debuggers":
		return l.Debuggers
	case "shells":
		return l.Shells
	}
	return nil
}

// keysFromTrustedPlace refuses approver keys given as file paths when the
// policy comes from the organisation's frontend image or CI: a path is read
// beside the Dockerfile, where the build's author could put their own key.
func keysFromTrustedPlace(pol *policy.Policy) error {
	if len(pol.Sources) == 0 || (pol.Sources[0].Rank != policy.RankOrganisation && pol.Sources[0].Rank != policy.RankCI) {
		return nil
	}
	for _, k := range pol.Controls.Exceptions.ApproverKeys {
		if !strings.Contains(k, "-----BEGIN") {
			return fmt.Errorf("policy %s (%s): approver key %s is a path, which would be read beside the Dockerfile where the build's author controls it; give the key inline as PEM",
				pol.Sources[0].Name, pol.Sources[0].Rank, k)
		}
	}
	return nil
}

// NarrowPaths returns which rules' exception path scopes must name files:
// the secret rules, whose directory-wide waiver would let any secret placed
// there ship.
func NarrowPaths(catalog []rules.Rule) func(rule string) bool {
	secret := map[string]bool{}
	for _, r := range catalog {
		if r.Family == rules.FamilySecrets {
			secret[r.ID] = true
		}
	}
	return func(rule string) bool { return secret[rule] }
}

func loadExceptions(ctx context.Context, bc *dockerui.Client, c client.Client, files *dockerfileDir, pol *policy.Policy, req Request) (*exceptions.Set, error) {
	var (
		dt   []byte
		name string
	)
	ctxData, found, err := readNamedContext(ctx, bc, c, options.ContextExceptions, ExceptionsFileName)
	if err != nil {
		return nil, err
	}
	switch {
	case found:
		dt, name = ctxData, options.ContextExceptions+":"+ExceptionsFileName
	case pol.Controls.Exceptions.File != "":
		name = pol.Controls.Exceptions.File
		var ok bool
		if dt, ok, err = files.read(ctx, name); err != nil {
			return nil, fmt.Errorf("reading exceptions file %s named by policy %s: %w", name, pol.Name, err)
		} else if !ok {
			return nil, fmt.Errorf("exceptions file %s named by policy %s does not exist beside the Dockerfile\n  to fix: add it there, pass the exceptions as the %s build context (hardenkit build --exceptions FILE), or remove controls.exceptions.file from the policy", name, pol.Name, options.ContextExceptions)
		}
	default:
		return nil, nil
	}
	set, err := exceptions.Parse(name, dt, req.Known)
	if err != nil {
		return nil, fmt.Errorf("parsing exceptions: %w", err)
	}
	if err := keysFromTrustedPlace(pol); err != nil {
		return nil, err
	}
	vp, err := pol.Controls.Exceptions.ValidationPolicy(ctx, func(ctx context.Context, p string) ([]byte, error) {
		dt, ok, err := files.read(ctx, p)
		if err == nil && !ok {
			err = fmt.Errorf("%s does not exist beside the Dockerfile\n  to fix: add the approver's public key there (hardenkit keygen makes a pair; the policy names the .pub), correct the path in controls.exceptions.approverKeys, or give the key inline as PEM", p)
		}
		return dt, err
	})
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", pol.Name, err)
	}
	vp.NarrowPaths = NarrowPaths(req.Catalog)
	if err := set.Validate(req.Now, vp); err != nil {
		return nil, fmt.Errorf("invalid exceptions: %w", err)
	}
	return set, nil
}

// dockerfileDir reads files beside the Dockerfile from the client's
// dockerfile context, the way dockerui reads the Dockerfile itself.
type dockerfileDir struct {
	bc  *dockerui.Client
	c   client.Client
	dir string
}

// read returns the file at p (relative to the Dockerfile's directory) and
// whether it exists.
func (d *dockerfileDir) read(ctx context.Context, p string) ([]byte, bool, error) {
	full := path.Join(d.dir, p)
	opts := d.bc.BuildOpts().Opts
	name := opts["dockerfilekey"]
	if name == "" {
		name = dockerui.DefaultLocalNameDockerfile
	}
	sessionID := d.bc.BuildOpts().SessionID
	if v, ok := opts["local-sessionid:"+name]; ok {
		sessionID = v
	}
	st := llb.Local(name,
		llb.FollowPaths([]string{full}),
		llb.SessionID(sessionID),
		llb.SharedKeyHint(name),
		dockerui.WithInternalName("load "+full),
		llb.Differ(llb.DiffNone, false),
	)
	return readFromState(ctx, d.c, st, full)
}

// NamedContext solves the named context name of the build and returns its
// filesystem; ok is false when the build has no such context. It is the
// one reader of named contexts (policy, exceptions, vulnerability
// database, VEX).
func NamedContext(ctx context.Context, bc *dockerui.Client, c client.Client, name string) (ref client.Reference, ok bool, err error) {
	nc, err := bc.NamedContext(name, dockerui.ContextOpt{})
	if err != nil {
		return nil, false, fmt.Errorf("named context %s: %w", name, err)
	}
	if nc == nil {
		return nil, false, nil
	}
	st, _, err := nc.Load(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("loading named context %s: %w", name, err)
	}
	if st == nil {
		return nil, false, fmt.Errorf("named context %s has no filesystem", name)
	}
	ref, err = solve.Ref(ctx, c, *st, nil)
	if err != nil {
		return nil, false, fmt.Errorf("reading named context %s: %w", name, err)
	}
	return ref, true, nil
}

// readNamedContext reads file from the named context name, if the build
// has one.
func readNamedContext(ctx context.Context, bc *dockerui.Client, c client.Client, name, file string) ([]byte, bool, error) {
	ref, ok, err := NamedContext(ctx, bc, c, name)
	if err != nil || !ok {
		return nil, false, err
	}
	dt, found, err := readFromRef(ctx, ref, file)
	if err != nil {
		return nil, false, fmt.Errorf("named context %s: %w", name, err)
	}
	if !found {
		return nil, false, fmt.Errorf("named context %s has no %s", name, file)
	}
	return dt, true, nil
}

// maxPolicyFileSize bounds what is read from a build context; a policy or
// exceptions file this large is a mistake, not something to truncate.
const maxPolicyFileSize = 4 << 20

// readFromState solves st and reads p from it (readFromRef).
func readFromState(ctx context.Context, c client.Client, st llb.State, p string) ([]byte, bool, error) {
	ref, err := solve.Ref(ctx, c, st, nil)
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", p, err)
	}
	return readFromRef(ctx, ref, p)
}

// readFromRef reads the policy-sized file p of ref and says whether it
// exists.
func readFromRef(ctx context.Context, ref client.Reference, p string) ([]byte, bool, error) {
	if ref == nil {
		return nil, false, nil
	}
	entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: path.Dir(p), IncludePattern: path.Base(p)})
	if err != nil {
		// The directory itself is missing: so is the file.
		return nil, false, nil
	}
	if len(entries) == 0 {
		return nil, false, nil
	}
	if entries[0].Size > maxPolicyFileSize {
		return nil, false, fmt.Errorf("%s is %d bytes, more than the %d a policy file may have", p, entries[0].Size, maxPolicyFileSize)
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: p})
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", p, err)
	}
	return dt, true, nil
}
