// Control: integrity (check "integrity", exit 1 when it fails).
//
// Every blob the verdict depends on is the blob its digest names: the
// index, every manifest it lists (images, attestation manifests), every
// image's config and layers, every attestation layer, and every referrer
// of any of them (signatures, attestations, verification summaries) with
// its blobs. A blob altered, truncated, swapped for another or removed
// fails the image, naming the blob — a verdict about bytes other than the
// ones a user would run is worthless. So does a manifest entry no check
// covers: an attestation manifest for an image the index does not list, a
// layout entry that is neither the image nor a referrer of a part of it.
// Maps to CIS Docker Benchmark 4.2 and 4.11 (trusted images, verified
// content) and SLSA's "verify artifacts by digest".
package verify

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// CheckIntegrity is the check that every blob matches its digest.
const CheckIntegrity = "integrity"

// maxDepth bounds index nesting (an index of indexes) and referrer chains
// (a signature of a signature), so a hostile graph cannot loop.
const maxDepth = 4

// smallBlob is the size up to which a blob is read whole (and kept for
// the checks after this one); larger ones, image layers, are streamed.
const smallBlob = 4 << 20

// entryLister is a store that lists manifests beside the image (an OCI
// layout's index.json), which must all be covered by a check.
type entryLister interface {
	IndexJSON(ctx context.Context) (*v1.IndexManifest, error)
}

// integrityWalk is one walk over the image's graph.
type integrityWalk struct {
	v       *verifier
	reasons []string
	seen    map[v1.Hash]bool
	// annotations are every annotation met, for the annotations check.
	annotations []annotated
}

// isIntegrity reports whether err is the image's answer (a blob missing or
// not matching its digest, an entry nothing covers), not a read failure.
func isIntegrity(err error) bool {
	return errors.Is(err, store.ErrMissing) || errors.Is(err, store.ErrDigestMismatch) || errors.Is(err, store.ErrUncovered)
}

// integrity walks everything root reaches and hashes it; it returns the
// annotations met, for the annotations check.
func (v *verifier) integrity(ctx context.Context, root v1.Descriptor) (Check, []annotated, error) {
	w := &integrityWalk{v: v, seen: map[v1.Hash]bool{}}
	if err := w.manifest(ctx, root, "the image", 0); err != nil {
		return Check{}, nil, err
	}
	if l, ok := v.st.(entryLister); ok && len(w.reasons) == 0 {
		idx, err := l.IndexJSON(ctx)
		if err != nil {
			return Check{}, nil, err
		}
		w.note("index.json", idx.Annotations)
		for _, e := range idx.Manifests {
			w.note("index.json entry "+e.Digest.String(), e.Annotations)
			if !w.seen[e.Digest] {
				w.reasons = append(w.reasons, fmt.Sprintf("the layout lists %s (%s), which is neither the image nor a referrer of a part of it: no signature covers it", e.Digest, e.MediaType))
			}
		}
	}
	c := Check{Name: CheckIntegrity, Reasons: w.reasons, OK: len(w.reasons) == 0}
	if c.OK {
		c.Detail = fmt.Sprintf("%d manifests and blobs match their digests", len(w.seen))
	}
	return c, w.annotations, nil
}

// fail records an integrity failure, or returns err when it is a read
// failure (exit 2).
func (w *integrityWalk) fail(role string, err error) error {
	if !isIntegrity(err) {
		return err
	}
	w.reasons = append(w.reasons, fmt.Sprintf("%s: %v", role, err))
	return nil
}

// manifest checks the manifest d names and everything it references.
func (w *integrityWalk) manifest(ctx context.Context, d v1.Descriptor, role string, depth int) error {
	if w.seen[d.Digest] {
		return nil
	}
	w.seen[d.Digest] = true
	if depth > maxDepth {
		w.reasons = append(w.reasons, fmt.Sprintf("%s: nested more than %d levels deep", role, maxDepth))
		return nil
	}
	raw, err := w.v.manifest(ctx, d.Digest)
	if err != nil {
		return w.fail(role, err)
	}
	if d.Size > 0 && int64(len(raw)) != d.Size {
		w.reasons = append(w.reasons, fmt.Sprintf("%s: manifest %s: %d bytes, its descriptor says %d", role, d.Digest, len(raw), d.Size))
	}
	m, err := store.ParseManifest(raw)
	if err != nil {
		w.reasons = append(w.reasons, fmt.Sprintf("%s: manifest %s: %v", role, d.Digest, err))
		return nil
	}
	w.noteManifest(d.Digest, m)
	if d.MediaType != "" && m.MediaType != "" && d.MediaType != m.MediaType {
		w.reasons = append(w.reasons, fmt.Sprintf("%s: manifest %s is a %s, its descriptor says %s", role, d.Digest, m.MediaType, d.MediaType))
	}
	if err := w.children(ctx, d.Digest, m, role, depth); err != nil {
		return err
	}
	return w.referrers(ctx, d.Digest, role, depth)
}

// children checks an index's manifests or a manifest's config and layers.
func (w *integrityWalk) children(ctx context.Context, h v1.Hash, m *store.Manifest, role string, depth int) error {
	if len(m.Manifests) > 0 {
		images := map[string]bool{}
		for _, e := range m.Manifests {
			if e.Annotations[sign.AnnotationRefType] != sign.RefTypeAttestation {
				images[e.Digest.String()] = true
			}
		}
		for _, e := range m.Manifests {
			r := "manifest listed by index " + h.String()
			if e.Annotations[sign.AnnotationRefType] == sign.RefTypeAttestation && !images[e.Annotations[sign.AnnotationRefDigest]] {
				w.reasons = append(w.reasons, fmt.Sprintf("%s (%s) is an attestation manifest for %q, which the index does not list: no check covers it", e.Digest, r, e.Annotations[sign.AnnotationRefDigest]))
			}
			if err := w.manifest(ctx, e, r, depth+1); err != nil {
				return err
			}
		}
	}
	blobs := m.Layers
	if m.Config != nil {
		blobs = append([]v1.Descriptor{*m.Config}, blobs...)
	}
	for i, b := range blobs {
		kind := fmt.Sprintf("layer %d", i)
		if m.Config != nil {
			kind = fmt.Sprintf("layer %d", i-1)
			if i == 0 {
				kind = "config"
			}
		}
		if w.seen[b.Digest] {
			continue
		}
		w.seen[b.Digest] = true
		if err := w.v.verifyBlob(ctx, b); err != nil {
			if err := w.fail(fmt.Sprintf("%s of manifest %s", kind, h), err); err != nil {
				return err
			}
		}
	}
	return nil
}

// referrers checks every referrer of h (signatures, attestations and
// summaries stored beside the image).
func (w *integrityWalk) referrers(ctx context.Context, h v1.Hash, role string, depth int) error {
	refs, err := w.v.referrers(ctx, h)
	if err != nil {
		return w.fail("referrers of "+role, err)
	}
	for _, r := range refs {
		if err := w.manifest(ctx, r, "referrer of "+h.String(), depth+1); err != nil {
			return err
		}
	}
	return nil
}
