// Package buildflags turns the "hardenkit build" command line into BuildKit
// solve options: frontend attributes, local mounts, exports and session
// attachables. It mirrors buildx and buildctl so that their documentation
// applies, and it is kept free of any daemon access so it can be tested in
// isolation.
package buildflags

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/ociindex"
	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
	"github.com/moby/buildkit/identity"
	digest "github.com/opencontainers/go-digest"

	"github.com/hardenkit/hardenkit/frontend/options"
)

// Local mount names the Dockerfile frontend reads the build context and the
// Dockerfile from.
const (
	LocalContext    = "context"
	LocalDockerfile = "dockerfile"
)

// Options is the parsed-but-unresolved build command line.
type Options struct {
	// ContextPath is the CONTEXT argument: a local directory or a remote
	// (git or http) URL.
	ContextPath string
	// DockerfilePath is -f/--file; "" means CONTEXT/Dockerfile. Relative
	// paths are relative to the working directory, as in buildx.
	DockerfilePath string
	// BuildArgs are --build-arg values, "k=v" or "k" (value from env).
	BuildArgs []string
	// BuildContexts are --build-context values, "name=value".
	BuildContexts []string
	// Labels are --label values, "k=v".
	Labels []string
	// Platforms are --platform values, each a comma separated list.
	Platforms []string
	// Attests are --attest values, CSV with a type field.
	Attests []string
	// Opts are raw --opt frontend attributes, "k=v"; applied last so they
	// can override anything the other flags set.
	Opts []string
	// Target is --target.
	Target string
	// NoCache is --no-cache.
	NoCache bool
}

// Plan is everything the solve needs from Options.
type Plan struct {
	// Attrs are the frontend attributes.
	Attrs map[string]string
	// LocalDirs maps local mount names to directories.
	LocalDirs map[string]string
	// OCIStores maps OCI layout store ids (referenced from Attrs) to
	// directories holding an OCI layout.
	OCIStores map[string]string
}

// Resolve maps the options to frontend attributes and local mounts.
// lookupEnv supplies values for build args given without "=" (os.LookupEnv
// in the CLI); it is a parameter so tests need not touch the environment.
func (o Options) Resolve(lookupEnv func(string) (string, bool)) (*Plan, error) {
	p := &Plan{Attrs: map[string]string{}, LocalDirs: map[string]string{}, OCIStores: map[string]string{}}

	if err := p.setContext(o.ContextPath, o.DockerfilePath); err != nil {
		return nil, err
	}

	args, err := ParseBuildArgs(o.BuildArgs, lookupEnv)
	if err != nil {
		return nil, err
	}
	for k, v := range args {
		p.Attrs[options.BuildArgPrefix+k] = v
	}

	labels, err := parseKeyValues("--label", o.Labels)
	if err != nil {
		return nil, err
	}
	for k, v := range labels {
		p.Attrs["label:"+k] = v
	}

	named, err := ParseBuildContexts(o.BuildContexts)
	if err != nil {
		return nil, err
	}
	if err := p.setNamedContexts(named); err != nil {
		return nil, err
	}

	if len(o.Platforms) > 0 {
		ps, err := ParsePlatforms(o.Platforms)
		if err != nil {
			return nil, err
		}
		p.Attrs["platform"] = strings.Join(ps, ",")
	}

	attests, err := ParseAttests(o.Attests)
	if err != nil {
		return nil, err
	}
	for k, v := range attests {
		p.Attrs["attest:"+k] = v
	}

	if o.Target != "" {
		p.Attrs["target"] = o.Target
	}
	if o.NoCache {
		p.Attrs["no-cache"] = ""
	}

	opts, err := ParseOpts(o.Opts)
	if err != nil {
		return nil, err
	}
	for k, v := range opts {
		p.Attrs[k] = v
	}
	return p, nil
}

// setContext sets up the main context and the Dockerfile location.
func (p *Plan) setContext(contextPath, dockerfilePath string) error {
	if contextPath == "" {
		return errors.New("please specify the build context (e.g. \".\" for the current directory)")
	}
	if isLocalDir(contextPath) {
		p.LocalDirs[LocalContext] = contextPath
		dir, name := contextPath, "Dockerfile"
		if dockerfilePath != "" {
			dir, name = filepath.Dir(dockerfilePath), filepath.Base(dockerfilePath)
		}
		if err := checkDockerfile(filepath.Join(dir, name)); err != nil {
			return err
		}
		p.LocalDirs[LocalDockerfile] = dir
		p.Attrs["filename"] = name
		return nil
	}
	if IsRemoteURL(contextPath) {
		p.Attrs["context"] = contextPath
		switch {
		case dockerfilePath == "":
		case filepath.IsAbs(dockerfilePath):
			// An absolute path can only mean a local file; a relative one
			// names a file inside the remote context, as in buildx.
			if err := checkDockerfile(dockerfilePath); err != nil {
				return err
			}
			p.LocalDirs[LocalDockerfile] = filepath.Dir(dockerfilePath)
			p.Attrs["dockerfilekey"] = LocalDockerfile
			p.Attrs["filename"] = filepath.Base(dockerfilePath)
		default:
			p.Attrs["filename"] = dockerfilePath
		}
		return nil
	}
	if _, err := os.Stat(contextPath); err == nil {
		return fmt.Errorf("build context %s is not a directory", contextPath)
	}
	return fmt.Errorf("build context %s not found (it must be a local directory or a git/http URL)", contextPath)
}

func checkDockerfile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("reading Dockerfile: %w", err)
	}
	if fi.IsDir() {
		return fmt.Errorf("the Dockerfile path %s is a directory", path)
	}
	return nil
}

// setNamedContexts maps --build-context values the way buildx does: remote
// sources and image/target references pass through, OCI layouts become a
// session content store, and local directories become local mounts named
// after the context.
func (p *Plan) setNamedContexts(named map[string]string) error {
	if len(named) == 0 {
		return nil
	}
	p.Attrs[options.OptFrontendCaps] = options.CapContextsForward
	for _, name := range sortedKeys(named) {
		v := named[name]
		key := options.ContextPrefix + name
		switch {
		case strings.HasPrefix(v, "docker-image://"), strings.HasPrefix(v, "target:"), strings.HasPrefix(v, "input:"):
			p.Attrs[key] = v
		case strings.HasPrefix(v, "oci-layout://"):
			attr, storeID, dir, err := resolveOCILayout(v)
			if err != nil {
				return fmt.Errorf("build context %s: %w", name, err)
			}
			p.OCIStores[storeID] = dir
			p.Attrs[key] = attr
		case isLocalDir(v):
			// A local directory wins over the URL heuristics below, so that
			// a directory named like "github.com/x/y" is not fetched.
			local := name
			if name == LocalContext || name == LocalDockerfile {
				local = "_" + name // avoid colliding with the main mounts
			}
			p.LocalDirs[local] = v
			p.Attrs[key] = "local:" + local
		case IsRemoteURL(v):
			p.Attrs[key] = v
		default:
			if _, err := os.Stat(v); err == nil {
				return fmt.Errorf("build context %s: %s is not a directory", name, v)
			}
			return fmt.Errorf("build context %s: %q is not a local directory, a git/http URL, docker-image://, target: or oci-layout:// reference", name, v)
		}
	}
	return nil
}

// resolveOCILayout turns oci-layout://PATH[:TAG][@DIGEST] into the attribute
// value the frontend expects, resolving the digest from the layout's index
// when it is not given.
func resolveOCILayout(v string) (attr, storeID, dir string, err error) {
	rest := strings.TrimPrefix(v, "oci-layout://")
	rest, dgst, hasDigest := strings.Cut(rest, "@")
	dir, tag, hasTag := strings.Cut(rest, ":")
	if !hasTag {
		tag = "latest"
	}
	if !isLocalDir(dir) {
		return "", "", "", fmt.Errorf("OCI layout directory %s not found", dir)
	}
	if hasDigest {
		if _, err := digest.Parse(dgst); err != nil {
			return "", "", "", fmt.Errorf("invalid digest %q: %w", dgst, err)
		}
	} else {
		idx := ociindex.NewStoreIndex(dir)
		desc, err := idx.Get(tag)
		if err != nil {
			return "", "", "", fmt.Errorf("reading OCI layout index in %s: %w", dir, err)
		}
		if desc == nil {
			desc, err = idx.GetSingle()
			if err != nil {
				return "", "", "", fmt.Errorf("reading OCI layout index in %s: %w", dir, err)
			}
		}
		if desc == nil {
			return "", "", "", fmt.Errorf("OCI layout %s has no image tagged %q and more than one image", dir, tag)
		}
		dgst = desc.Digest.String()
	}
	storeID = identity.NewID()
	return "oci-layout://" + storeID + ":" + tag + "@" + dgst, storeID, dir, nil
}

// ParseBuildArgs parses --build-arg values. "k" alone takes its value from
// lookupEnv and is dropped when the variable is unset, like buildx.
func ParseBuildArgs(values []string, lookupEnv func(string) (string, bool)) (map[string]string, error) {
	out := make(map[string]string, len(values))
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid --build-arg %q: empty name", v)
		}
		if ok {
			out[k] = val
			continue
		}
		if lookupEnv == nil {
			continue
		}
		if env, found := lookupEnv(k); found {
			out[k] = env
		}
	}
	return out, nil
}

// ParseBuildContexts parses --build-context values into name -> value.
// Names are normalised like image references, as buildx does, so that
// "docker.io/library/alpine:latest" and "alpine" name the same context.
func ParseBuildContexts(values []string) (map[string]string, error) {
	out := make(map[string]string, len(values))
	for _, v := range values {
		name, val, ok := strings.Cut(v, "=")
		if !ok || name == "" || val == "" {
			return nil, fmt.Errorf("invalid --build-context %q: expected name=value", v)
		}
		// "name::os/arch" is BuildKit's per-platform named context
		// (dockerui reads context:NAME::PLATFORM); only the name part is
		// an image reference.
		ref, platform, perPlatform := strings.Cut(name, "::")
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			return nil, fmt.Errorf("invalid --build-context name %q: %w", name, err)
		}
		key := strings.TrimSuffix(reference.FamiliarString(named), ":latest")
		if perPlatform {
			key += "::" + platform
		}
		out[key] = val
	}
	return out, nil
}

// ParsePlatforms parses --platform values (each may be a comma separated
// list) into normalised platform strings, dropping duplicates. "local"
// means the platform hardenkit runs on.
func ParsePlatforms(values []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			var f string
			if s == "local" {
				f = platforms.Format(platforms.DefaultSpec())
			} else {
				p, err := platforms.Parse(s)
				if err != nil {
					return nil, fmt.Errorf("invalid --platform %q: %w", s, err)
				}
				f = platforms.Format(p)
			}
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--platform was given but names no platform")
	}
	return out, nil
}

// ParseAttests parses --attest values into type -> attribute value, where
// the value is the CSV the frontend expects (including type=). Disabled
// attestations are left out.
func ParseAttests(values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		fields, err := splitCSV(v)
		if err != nil {
			return nil, fmt.Errorf("invalid --attest %q: %w", v, err)
		}
		var typ string
		disabled := false
		attrs := map[string]string{}
		for _, f := range fields {
			k, val, ok := strings.Cut(f, "=")
			if !ok {
				return nil, fmt.Errorf("invalid --attest field %q: expected key=value", f)
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "type":
				typ = val
			case "disabled":
				disabled = val == "true" || val == "1"
			default:
				attrs[k] = val
			}
		}
		if typ == "" {
			return nil, fmt.Errorf("invalid --attest %q: type is required (e.g. type=sbom or type=provenance)", v)
		}
		if disabled {
			delete(out, typ)
			continue
		}
		fieldsOut := []string{"type=" + typ}
		for _, k := range sortedKeys(attrs) {
			fieldsOut = append(fieldsOut, k+"="+attrs[k])
		}
		out[typ] = joinCSV(fieldsOut)
	}
	return out, nil
}

// ParseOpts parses raw --opt frontend attributes. "k" alone sets k to ""
// because several frontend options are flags (e.g. no-cache).
func ParseOpts(values []string) (map[string]string, error) {
	out := make(map[string]string, len(values))
	for _, v := range values {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid --opt %q: empty key", v)
		}
		out[k] = val
	}
	return out, nil
}

func parseKeyValues(flag string, values []string) (map[string]string, error) {
	out := make(map[string]string, len(values))
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid %s %q: expected key=value", flag, v)
		}
		out[k] = val
	}
	return out, nil
}

// IsRemoteURL reports whether s is a context the daemon fetches itself: an
// http(s) URL or a git reference.
func IsRemoteURL(s string) bool {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return true
	}
	_, ok, _ := dfgitutil.ParseGitRef(s)
	return ok
}

func isLocalDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
