package compliance

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// MaxContextFiles bounds the per-file list of Context.Files: a larger
// context records only its tree digest, and a verifier can then say that
// the checkout differs but not which files do.
const MaxContextFiles = 5000

// Rebuild is what a rebuild needs beyond the fields the statement already
// has (hardenkit.version, hardenkit.frontendImage, sourceDateEpoch): the
// request as the frontend saw it, every image the build pulled by digest,
// and a digest of the build context as the build used it.
type Rebuild struct {
	// Dockerfile is the Dockerfile's name in its context.
	Dockerfile string `json:"dockerfile,omitempty"`
	// Target is the stage built; empty for the last.
	Target string `json:"target,omitempty"`
	// Platform is this statement's platform ("linux/amd64").
	Platform string `json:"platform"`
	// Platforms are every platform the build was asked for, so one
	// rebuild produces the same index.
	Platforms []string `json:"platforms,omitempty"`
	// BuildArgs are the build args the request gave (SOURCE_DATE_EPOCH
	// and hardenkit's own included), without those the secret scan
	// flagged: their names are in RedactedArgs.
	BuildArgs map[string]string `json:"buildArgs"`
	// RedactedArgs are build args left out because their value is a
	// secret; a verifier must supply them.
	RedactedArgs []string `json:"redactedArgs,omitempty"`
	// Images are every image the build pulled, resolved to a digest
	// (base images of every stage, COPY --from images, named contexts of
	// type docker-image).
	Images []PinnedImage `json:"images"`
	// NamedContexts are the named contexts of the request (name →
	// value as given; a docker-image value is also in Images).
	NamedContexts map[string]string `json:"namedContexts,omitempty"`
	// Context is the digest of the main build context after .dockerignore.
	Context *ContextTree `json:"context,omitempty"`
	// VCS is where the source came from, when the client said.
	VCS *VCS `json:"vcs,omitempty"`
	// Secrets and SSH are the ids of the secret and SSH mounts the
	// Dockerfile uses; never their content.
	Secrets []string `json:"secrets,omitempty"`
	SSH     []string `json:"ssh,omitempty"`
}

// PinnedImage is one image a build pulled.
type PinnedImage struct {
	// Ref is the reference as the Dockerfile or request named it.
	Ref string `json:"ref"`
	// Digest is the manifest digest it resolved to.
	Digest string `json:"digest"`
}

// VCS is the source repository and revision (BuildKit's vcs:source and
// vcs:revision).
type VCS struct {
	Source   string `json:"source,omitempty"`
	Revision string `json:"revision,omitempty"`
}

// ContextTree is a canonical digest of a build context.
type ContextTree struct {
	// Digest is ContextDigest over every regular file and symlink.
	Digest string `json:"digest"`
	// Count is how many entries it covers.
	Count int `json:"count"`
	// Files are the entries, when there are at most MaxContextFiles.
	Files []ContextFile `json:"files,omitempty"`
}

// ContextFile is one entry of a build context.
type ContextFile struct {
	// Path is slash-separated and relative to the context root.
	Path string `json:"path"`
	// Mode is the canonical mode (ContextMode).
	Mode string `json:"mode"`
	// Digest is "sha256:…" of a regular file's content, or of a
	// symlink's target.
	Digest string `json:"digest"`
}

// ContextMode is the canonical mode string of an entry: "f" or "l" and
// the permission and special bits in octal. Owners and times are left
// out: they depend on the checkout, not on the source.
func ContextMode(m fs.FileMode) string {
	kind := "f"
	if m&fs.ModeSymlink != 0 {
		kind = "l"
		// A symlink's permission bits mean nothing and differ between
		// systems.
		return kind
	}
	return fmt.Sprintf("%s%04o", kind, rootfs.UnixPerm(m))
}

// ContentDigest is the digest a ContextFile records for content.
func ContentDigest(content []byte) string {
	sum := sha256.Sum256(content)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ContextDigest returns the canonical tree of files: sorted by path, one
// line "path NUL mode NUL digest LF" per entry, hashed with SHA-256. The
// same files give the same digest on every system.
func ContextDigest(files []ContextFile) ContextTree {
	sorted := slices.SortedFunc(slices.Values(files), func(a, b ContextFile) int { return cmp.Compare(a.Path, b.Path) })
	h := sha256.New()
	for _, f := range sorted {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", f.Path, f.Mode, f.Digest)
	}
	t := ContextTree{Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), Count: len(sorted)}
	if len(sorted) <= MaxContextFiles {
		t.Files = sorted
	}
	return t
}

// ContextChange is one way two context trees differ.
type ContextChange struct {
	// Path is the entry.
	Path string `json:"path"`
	// Change is "added", "removed", "content" or "mode".
	Change string `json:"change"`
}

// DiffContexts lists the entries of got that differ from want, sorted by
// path. It needs want's file list (ContextTree.Files).
func DiffContexts(want, got []ContextFile) []ContextChange {
	wm, gm := map[string]ContextFile{}, map[string]ContextFile{}
	for _, f := range want {
		wm[f.Path] = f
	}
	for _, f := range got {
		gm[f.Path] = f
	}
	var out []ContextChange
	for _, p := range slices.Sorted(maps.Keys(wm)) {
		g, ok := gm[p]
		switch {
		case !ok:
			out = append(out, ContextChange{Path: p, Change: "removed"})
		case g.Digest != wm[p].Digest:
			out = append(out, ContextChange{Path: p, Change: "content"})
		case g.Mode != wm[p].Mode:
			out = append(out, ContextChange{Path: p, Change: "mode"})
		}
	}
	for _, p := range slices.Sorted(maps.Keys(gm)) {
		if _, ok := wm[p]; !ok {
			out = append(out, ContextChange{Path: p, Change: "added"})
		}
	}
	slices.SortStableFunc(out, func(a, b ContextChange) int { return cmp.Compare(a.Path, b.Path) })
	return out
}

// normalized returns a copy of r with its lists sorted and non-nil.
func (r *Rebuild) normalized() *Rebuild {
	if r == nil {
		return nil
	}
	c := *r
	c.Platforms = sorted(r.Platforms, cmp.Compare[string])
	c.RedactedArgs = sorted(r.RedactedArgs, cmp.Compare[string])
	c.Secrets = sorted(r.Secrets, cmp.Compare[string])
	c.SSH = sorted(r.SSH, cmp.Compare[string])
	c.Images = sorted(r.Images, func(a, b PinnedImage) int { return cmp.Or(cmp.Compare(a.Ref, b.Ref), cmp.Compare(a.Digest, b.Digest)) })
	c.Images = slices.Compact(c.Images)
	if c.BuildArgs == nil {
		c.BuildArgs = map[string]string{}
	}
	return &c
}

// validate reports the ways r breaks the documented contract.
func (r *Rebuild) validate() []error {
	if r == nil {
		return nil
	}
	var errs []error
	if r.Platform == "" {
		errs = append(errs, fmt.Errorf("rebuild.platform is empty"))
	}
	for _, img := range r.Images {
		if img.Ref == "" || !digestRe.MatchString(img.Digest) {
			errs = append(errs, fmt.Errorf("rebuild image %q: ref and sha256 digest are required", img.Ref))
		}
	}
	if r.Context != nil && !digestRe.MatchString(r.Context.Digest) {
		errs = append(errs, fmt.Errorf("rebuild.context.digest %q is not sha256:<hex>", r.Context.Digest))
	}
	for k := range r.BuildArgs {
		if slices.Contains(r.RedactedArgs, k) {
			errs = append(errs, fmt.Errorf("rebuild build arg %s is both recorded and redacted", k))
		}
		if strings.TrimSpace(k) == "" {
			errs = append(errs, fmt.Errorf("rebuild build arg with an empty name"))
		}
	}
	return errs
}
