// Package rebuild verifies an image's reproducibility from its own
// evidence: it reads the compliance statement of every platform (the
// rebuild record: frontend, args, pinned images, the build context's tree
// digest), checks a checkout against the recorded context, plans a
// --no-cache rebuild with exactly those inputs, and compares the result
// with the original — index, manifests, config and history, layers, and
// file by file — naming, where it can, the Dockerfile instruction that
// wrote a differing file.
//
// It builds nothing itself: the caller runs the plan (cmd/hardenkit
// rebuild runs hardenkit's own build) and hands the result back.
package rebuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// Annotations of BuildKit's attestation manifests.
const (
	annotationRefType       = "vnd.docker.reference.type"
	annotationRefDigest     = "vnd.docker.reference.digest"
	refTypeAttestation      = "attestation-manifest"
	annotationPredicateType = "in-toto.io/predicate-type"
)

// Platform is one platform's image and what it says about its build.
type Platform struct {
	// Platform is "os/arch[/variant]".
	Platform string
	// Manifest is the platform's image manifest descriptor.
	Manifest v1.Descriptor
	// Compliance is the platform's compliance predicate; nil when the
	// image has none.
	Compliance *compliance.Predicate
}

// Image is an image as a store holds it.
type Image struct {
	// Root is the index (or single manifest) the reference names.
	Root v1.Descriptor
	// Platforms are the image manifests, in index order, attestation
	// manifests left out.
	Platforms []Platform
}

// Read reads the image st names with the compliance predicate of each
// platform.
func Read(ctx context.Context, st store.Store) (*Image, error) {
	root, err := st.Root(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", st.Name(), err)
	}
	img := &Image{Root: root}
	raw, mt, err := st.Manifest(ctx, root.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", st.Name(), err)
	}
	if !store.IsIndex(mt) {
		img.Platforms = []Platform{{Manifest: root}}
		return img, nil
	}
	idx, err := store.ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	for _, d := range idx.Manifests {
		if d.Annotations[annotationRefType] == refTypeAttestation {
			continue
		}
		p := Platform{Manifest: d}
		if d.Platform != nil {
			p.Platform = d.Platform.String()
		}
		if p.Compliance, err = complianceOf(ctx, st, idx.Manifests, d.Digest); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Platform, err)
		}
		img.Platforms = append(img.Platforms, p)
	}
	return img, nil
}

// complianceOf returns the compliance predicate of the attestation
// manifest whose subject is subject, or nil.
func complianceOf(ctx context.Context, st store.Store, all []v1.Descriptor, subject v1.Hash) (*compliance.Predicate, error) {
	for _, d := range all {
		if d.Annotations[annotationRefType] != refTypeAttestation || d.Annotations[annotationRefDigest] != subject.String() {
			continue
		}
		raw, _, err := st.Manifest(ctx, d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading attestation manifest %s: %w", d.Digest, err)
		}
		m, err := store.ParseManifest(raw)
		if err != nil {
			return nil, err
		}
		for _, l := range m.Layers {
			if l.Annotations[annotationPredicateType] != compliance.PredicateType {
				continue
			}
			blob, err := st.Blob(ctx, l.Digest)
			if err != nil {
				return nil, fmt.Errorf("reading the compliance statement: %w", err)
			}
			var stmt struct {
				Predicate compliance.Predicate `json:"predicate"`
			}
			if err := json.Unmarshal(blob, &stmt); err != nil {
				return nil, fmt.Errorf("decoding the compliance statement: %w", err)
			}
			return &stmt.Predicate, nil
		}
	}
	return nil, nil
}

// ErrNoRecord is returned for an image whose statements cannot drive a
// rebuild: none, or from a hardenkit that did not record the inputs.
var ErrNoRecord = errors.New("no rebuild record")

// Records returns each platform's rebuild record, failing when one is
// missing.
func (img *Image) Records() ([]*compliance.Predicate, error) {
	var out []*compliance.Predicate
	for _, p := range img.Platforms {
		if p.Compliance == nil {
			return nil, fmt.Errorf("%w: platform %s has no hardenkit compliance statement (built without hardenkit, or with HARDENKIT_MODE=off)", ErrNoRecord, p.Platform)
		}
		if p.Compliance.Rebuild == nil {
			return nil, fmt.Errorf("%w: the compliance statement of %s has no rebuild record (built by hardenkit %s, before rebuild records)", ErrNoRecord, p.Platform, p.Compliance.Hardenkit.Version)
		}
		out = append(out, p.Compliance)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: the image has no platform manifests", ErrNoRecord)
	}
	return out, nil
}

// platform returns the platform named p, or nil.
func (img *Image) platform(p string) *Platform {
	i := slices.IndexFunc(img.Platforms, func(x Platform) bool { return x.Platform == p })
	if i < 0 {
		return nil
	}
	return &img.Platforms[i]
}
