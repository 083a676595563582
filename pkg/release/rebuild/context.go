package rebuild

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// ContextCheck is the supplied checkout against the recorded context.
type ContextCheck struct {
	// Want is the recorded tree digest, Got the checkout's.
	Want, Got string
	// Changes are the files that differ; empty when the digests match,
	// or when the record lists no files (a context of more than
	// compliance.MaxContextFiles).
	Changes []compliance.ContextChange
}

// Matches reports whether the checkout is the context the build used.
func (c ContextCheck) Matches() bool { return c.Want == c.Got }

// CheckContext hashes dir as BuildKit sends it (the Dockerfile's own
// NAME.dockerignore, else .dockerignore, applied) and compares it with
// want.
func CheckContext(ctx context.Context, dir, dockerfile string, want *compliance.ContextTree) (ContextCheck, error) {
	if want == nil {
		return ContextCheck{}, fmt.Errorf("%w: the statement records no build context digest", ErrNoRecord)
	}
	skip, err := dockerignore(dir, dockerfile)
	if err != nil {
		return ContextCheck{}, err
	}
	got, err := compliance.HashContext(ctx, rootfs.DirSource(dir), skip)
	if err != nil {
		return ContextCheck{}, fmt.Errorf("hashing %s: %w", dir, err)
	}
	c := ContextCheck{Want: want.Digest, Got: got.Digest}
	if !c.Matches() && want.Files != nil {
		c.Changes = compliance.DiffContexts(want.Files, got.Files)
	}
	return c, nil
}

// dockerignore returns the exclusion BuildKit applies to the context:
// dockerui reads DOCKERFILE.dockerignore beside the Dockerfile first, else
// .dockerignore at the context root.
func dockerignore(dir, dockerfile string) (func(string) bool, error) {
	candidates := []string{filepath.Join(dir, filepath.FromSlash(dockerfile)+".dockerignore"), filepath.Join(dir, ".dockerignore")}
	for _, p := range candidates {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		defer f.Close()
		patterns, err := ignorefile.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return func(rel string) bool {
			excluded, err := pm.MatchesOrParentMatches(rel)
			return err == nil && excluded
		}, nil
	}
	return nil, nil
}
