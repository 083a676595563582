package releasetest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	intoto "github.com/in-toto/in-toto-golang/in_toto"
	slsa02 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v0.2"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/ocilayout"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// SyntheticSPDX is the SBOM predicate of PushSynthetic's image.
const SyntheticSPDX = `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"synthetic","packages":[]}`

// PushSynthetic pushes to tag an index shaped like the one BuildKit
// exports for a hardenkit build — one linux/amd64 image and its
// attestation manifest with an SPDX SBOM, SLSA v0.2 provenance and the
// compliance statement pred (its SBOM digest set to the SBOM's) — for unit
// tests that need no daemon. finished is the provenance's build time.
func PushSynthetic(ctx context.Context, tag string, pred compliance.Predicate, finished time.Time) (string, error) {
	t, err := name.NewTag(tag)
	if err != nil {
		return "", err
	}
	idx, err := Synthetic(pred, finished)
	if err != nil {
		return "", err
	}
	if err := remote.WriteIndex(t, idx, remote.WithContext(ctx)); err != nil {
		return "", err
	}
	h, err := idx.Digest()
	if err != nil {
		return "", err
	}
	return t.Context().Digest(h.String()).String(), nil
}

// Synthetic is the index PushSynthetic pushes.
func Synthetic(pred compliance.Predicate, finished time.Time) (v1.ImageIndex, error) {
	img, err := random.Image(512, 1)
	if err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	pred.SBOM = compliance.SBOMOf([]byte(SyntheticSPDX))
	comp, err := pred.Marshal()
	if err != nil {
		return nil, err
	}
	prov, err := json.Marshal(map[string]any{
		"builder":    map[string]any{"id": "https://example.test/builder"},
		"buildType":  "https://mobyproject.org/buildkit@v1",
		"invocation": map[string]any{"configSource": map[string]any{"uri": "https://example.test/app.git", "digest": map[string]any{"sha1": "0123456789abcdef0123456789abcdef01234567"}}},
		"metadata":   map[string]any{"buildFinishedOn": finished.UTC().Format(time.RFC3339)},
	})
	if err != nil {
		return nil, err
	}
	att := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	att = mutate.ConfigMediaType(att, types.OCIConfigJSON)
	for _, s := range []struct {
		pt   string
		pred string
	}{{intoto.PredicateSPDX, SyntheticSPDX}, {slsa02.PredicateSLSAProvenance, string(prov)}, {compliance.PredicateType, string(comp)}} {
		st, err := json.Marshal(map[string]any{
			"_type":         "https://in-toto.io/Statement/v0.1",
			"predicateType": s.pt,
			"subject":       []any{map[string]any{"name": "pkg:docker/synthetic", "digest": map[string]string{"sha256": d.Hex}}},
			"predicate":     json.RawMessage(s.pred),
		})
		if err != nil {
			return nil, err
		}
		att, err = mutate.Append(att, mutate.Addendum{
			Layer:       static.NewLayer(st, "application/vnd.in-toto+json"),
			Annotations: map[string]string{ocilayout.AnnotationPredicateType: s.pt},
		})
		if err != nil {
			return nil, err
		}
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{sign.AnnotationRefType: sign.RefTypeAttestation, sign.AnnotationRefDigest: d.String()},
		}})
	return idx, nil
}

// SignAs stores a bundle signed by kp over an in-toto statement of
// predicate type pt whose subject is statementSubject, as a referrer of
// the manifest target in ref's repository — to forge what an honest
// signer would never produce (a signature over another digest, an SBOM
// statement posing as the image signature).
func SignAs(ctx context.Context, ref string, target v1.Descriptor, statementSubject v1.Hash, pt string, kp sgsign.Keypair) error {
	st, err := store.OpenRemote(ref, store.RemoteOptions{})
	if err != nil {
		return err
	}
	payload, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"digest": map[string]string{statementSubject.Algorithm: statementSubject.Hex}}},
		"predicateType": pt,
		"predicate":     map[string]any{},
	})
	if err != nil {
		return err
	}
	b, err := sign.Bundle(payload, kp)
	if err != nil {
		return err
	}
	raw, err := sign.ReferrerManifest(target, b, pt, time.Now())
	if err != nil {
		return err
	}
	if err := st.PutReferrer(ctx, raw, [][]byte{[]byte("{}"), b}); err != nil {
		return fmt.Errorf("storing the forged signature: %w", err)
	}
	return nil
}

// Descriptors returns the root and child descriptors of the index ref.
func Descriptors(ctx context.Context, ref string) (v1.Descriptor, []v1.Descriptor, error) {
	st, err := store.OpenRemote(ref, store.RemoteOptions{})
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	root, err := st.Root(ctx)
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	raw, _, err := st.Manifest(ctx, root.Digest)
	if err != nil {
		return root, nil, err
	}
	m, err := store.ParseManifest(raw)
	if err != nil {
		return root, nil, err
	}
	return root, m.Manifests, nil
}
