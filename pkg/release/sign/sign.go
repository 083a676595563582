// Package sign signs a hardenkit release image offline with a cosign key:
// the image index, every platform's image manifest and every attestation
// manifest BuildKit wrote, so one chain of signatures covers the image,
// its SBOMs, its provenance and its compliance statement.
//
// Each signature is what `cosign sign --key` writes with the new bundle
// format: an in-toto Statement v1 with predicate type
// https://sigstore.dev/cosign/sign/v1, an empty predicate and the signed
// manifest's digest as subject, in a DSSE envelope inside a sigstore
// bundle v0.3 (no transparency log, no timestamps), stored as an OCI 1.1
// referrer of that manifest.
package sign

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	intotov1 "github.com/in-toto/attestation/go/v1"
	"github.com/moby/buildkit/util/attestation"
	cosigntypes "github.com/sigstore/cosign/v3/pkg/types"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// Media and predicate types of cosign's new bundle format.
const (
	// PredicateType is cosign's image-signature predicate.
	PredicateType = cosigntypes.CosignSignPredicateType
	// BundleMediaType is the media type of a sigstore bundle v0.3, also
	// the referrer's artifactType.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// EmptyMediaType is the OCI empty config descriptor's media type.
	EmptyMediaType = "application/vnd.oci.empty.v1+json"
	// AnnotationPredicateType names the bundle's predicate type on the
	// referrer, so readers can filter without fetching the bundle.
	AnnotationPredicateType = "dev.sigstore.bundle.predicateType"
	// AnnotationContent says what the bundle holds.
	AnnotationContent = "dev.sigstore.bundle.content"
	// InTotoPayloadType is the DSSE payload type of in-toto statements.
	InTotoPayloadType = "application/vnd.in-toto+json"
)

// Annotations BuildKit puts on an attestation manifest's index entry.
const (
	AnnotationRefType   = attestation.DockerAnnotationReferenceType
	AnnotationRefDigest = attestation.DockerAnnotationReferenceDigest
	RefTypeAttestation  = attestation.DockerAnnotationReferenceTypeDefault
)

// Signed is one manifest signed.
type Signed struct {
	// Digest of the signed manifest.
	Digest v1.Hash
	// Kind is "index", "image" or "attestation".
	Kind string
	// Platform of an image or, for an attestation, of its subject.
	Platform string
	// Referrer is the digest of the signature's referrer manifest.
	Referrer v1.Hash
}

// Sign signs the root of st and every manifest the root index lists
// (referrers excepted). now stamps the referrer's creation annotation, as
// cosign does; it is not signed.
func Sign(ctx context.Context, st store.Store, kp sgsign.Keypair, now time.Time) ([]Signed, error) {
	root, err := st.Root(ctx)
	if err != nil {
		return nil, err
	}
	var out []Signed
	signOne := func(d v1.Descriptor, kind, platform string) error {
		ref, err := SignManifest(ctx, st, d, kp, now)
		if err != nil {
			return fmt.Errorf("signing %s %s: %w", kind, d.Digest, err)
		}
		out = append(out, Signed{Digest: d.Digest, Kind: kind, Platform: platform, Referrer: ref})
		return nil
	}
	if !store.IsIndex(root.MediaType) {
		return out, signOne(root, "image", "")
	}
	raw, _, err := st.Manifest(ctx, root.Digest)
	if err != nil {
		return nil, err
	}
	idx, err := store.ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	if err := signOne(root, "index", ""); err != nil {
		return nil, err
	}
	platforms := map[string]string{}
	for _, d := range idx.Manifests {
		if d.Platform != nil && d.Annotations[AnnotationRefType] != RefTypeAttestation {
			platforms[d.Digest.String()] = d.Platform.String()
		}
	}
	for _, d := range idx.Manifests {
		kind, platform := "image", ""
		if d.Platform != nil {
			platform = d.Platform.String()
		}
		if d.Annotations[AnnotationRefType] == RefTypeAttestation {
			kind, platform = "attestation", platforms[d.Annotations[AnnotationRefDigest]]
		}
		if err := signOne(d, kind, platform); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SignRef signs the image ref names (a registry reference,
// oci-layout://DIR or oci-archive://FILE) as Sign does; a tarball is
// unpacked, signed and written back in place.
func SignRef(ctx context.Context, ref string, ro store.RemoteOptions, kp sgsign.Keypair, now time.Time) (signed []Signed, err error) {
	st, err := store.Open(ref, ro)
	if err != nil {
		return nil, err
	}
	if c, ok := st.(io.Closer); ok {
		defer func() {
			if cerr := c.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("cleaning up after signing %s: %w", ref, cerr)
			}
		}()
	}
	if signed, err = Sign(ctx, st, kp, now); err != nil {
		return nil, fmt.Errorf("signing %s: %w", ref, err)
	}
	if a, ok := st.(*store.Archive); ok {
		if err := a.Save(); err != nil {
			return nil, err
		}
	}
	return signed, nil
}

// Statement returns the in-toto statement cosign signs for an image
// manifest digest, serialised as cosign does (protojson).
func Statement(d v1.Hash) ([]byte, error) {
	st := &intotov1.Statement{
		Type:          intotov1.StatementTypeUri,
		Subject:       []*intotov1.ResourceDescriptor{{Digest: map[string]string{d.Algorithm: d.Hex}}},
		PredicateType: PredicateType,
		Predicate:     &structpb.Struct{},
	}
	b, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding the signed statement: %w", err)
	}
	return b, nil
}

// Bundle signs payload (an in-toto statement) with kp into a sigstore
// bundle v0.3 holding a DSSE envelope: key only, no log, no timestamp.
func Bundle(payload []byte, kp sgsign.Keypair) ([]byte, error) {
	b, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: InTotoPayloadType}, kp, sgsign.BundleOptions{})
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	out, err := protojson.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encoding the bundle: %w", err)
	}
	// Check it parses as a bundle before anything is stored.
	var pb sgbundle.Bundle
	if err := pb.UnmarshalJSON(out); err != nil {
		return nil, fmt.Errorf("the bundle does not parse: %w", err)
	}
	return out, nil
}

// SignManifest signs the manifest d and stores the signature as its
// referrer; it returns the referrer's digest.
func SignManifest(ctx context.Context, st store.Store, d v1.Descriptor, kp sgsign.Keypair, now time.Time) (v1.Hash, error) {
	payload, err := Statement(d.Digest)
	if err != nil {
		return v1.Hash{}, err
	}
	bundle, err := Bundle(payload, kp)
	if err != nil {
		return v1.Hash{}, err
	}
	raw, err := ReferrerManifest(d, bundle, PredicateType, now)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := st.PutReferrer(ctx, raw, [][]byte{[]byte("{}"), bundle}); err != nil {
		return v1.Hash{}, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	return h, err
}

// ReferrerManifest is the OCI 1.1 manifest cosign's
// WriteAttestationNewBundleFormat writes: empty config, the bundle as
// only layer, subject the signed manifest.
func ReferrerManifest(subject v1.Descriptor, bundle []byte, predicateType string, now time.Time) ([]byte, error) {
	bh, bsize, err := v1.SHA256(bytes.NewReader(bundle))
	if err != nil {
		return nil, err
	}
	eh, esize, err := v1.SHA256(strings.NewReader("{}"))
	if err != nil {
		return nil, err
	}
	m := struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     types.MediaType   `json:"mediaType"`
		ArtifactType  string            `json:"artifactType"`
		Config        v1.Descriptor     `json:"config"`
		Layers        []v1.Descriptor   `json:"layers"`
		Subject       v1.Descriptor     `json:"subject"`
		Annotations   map[string]string `json:"annotations"`
	}{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  BundleMediaType,
		Config:        v1.Descriptor{MediaType: EmptyMediaType, Digest: eh, Size: esize},
		Layers:        []v1.Descriptor{{MediaType: BundleMediaType, Digest: bh, Size: bsize}},
		Subject:       v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: map[string]string{
			"org.opencontainers.image.created": now.UTC().Format(time.RFC3339),
			AnnotationContent:                  "dsse-envelope",
			AnnotationPredicateType:            predicateType,
		},
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding the referrer manifest: %w", err)
	}
	return b, nil
}
