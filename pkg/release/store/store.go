// Package store is where a release image lives for sign, verify and
// promote: a registry repository (go-containerregistry's remote, with the
// OCI 1.1 referrers API and its tag fallback) or an OCI image layout on
// disk (a directory, or a tarball of one). Every read is by digest and
// checked against it, so nothing a registry or a file says is trusted
// without its hash.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Store reads and writes the manifests and blobs of one image.
type Store interface {
	// Name is the image reference as the user gave it, for reports.
	Name() string
	// Root resolves the reference to the descriptor it names now (a tag
	// is read once; everything after is by digest).
	Root(ctx context.Context) (v1.Descriptor, error)
	// Manifest returns the raw manifest or index with digest h.
	Manifest(ctx context.Context, h v1.Hash) ([]byte, types.MediaType, error)
	// Blob returns the blob with digest h.
	Blob(ctx context.Context, h v1.Hash) ([]byte, error)
	// VerifyBlob streams the blob d names (of any size: an image layer
	// is never held in memory) and fails unless it has d's size and
	// digest. A blob the store does not have is ErrMissing, one with
	// other content ErrDigestMismatch.
	VerifyBlob(ctx context.Context, d v1.Descriptor) error
	// Referrers lists the manifests whose subject is h.
	Referrers(ctx context.Context, h v1.Hash) ([]v1.Descriptor, error)
	// PutReferrer stores a referrer manifest and its blobs.
	PutReferrer(ctx context.Context, manifest []byte, blobs [][]byte) error
}

// ErrUnreachable marks errors reading the store itself (network,
// registry, file system) as opposed to what the image says: verify turns
// them into "could not verify", not "not compliant".
var ErrUnreachable = errors.New("store unreachable")

// ErrMissing marks a manifest or blob the store does not hold: the image
// is incomplete, which is the image's answer (not compliant), not a
// failure to read the store.
var ErrMissing = errors.New("missing")

// ErrUncovered marks a manifest the image carries that no signature
// covers (e.g. a second image in an OCI layout's index.json).
var ErrUncovered = errors.New("not covered by the image's signatures")

// ErrDigestMismatch marks content that does not hash to the digest that
// names it (altered, truncated or swapped).
var ErrDigestMismatch = errors.New("content does not match its digest")

// Manifest is the part of an OCI manifest or index this package reads.
type Manifest struct {
	MediaType    types.MediaType   `json:"mediaType"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Config       *v1.Descriptor    `json:"config,omitempty"`
	Layers       []v1.Descriptor   `json:"layers,omitempty"`
	Manifests    []v1.Descriptor   `json:"manifests,omitempty"`
	Subject      *v1.Descriptor    `json:"subject,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// ParseManifest decodes a manifest or index.
func ParseManifest(raw []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decoding manifest: %w", err)
	}
	return &m, nil
}

// IsIndex reports whether mt is an image index media type.
func IsIndex(mt types.MediaType) bool {
	return mt == types.OCIImageIndex || mt == types.DockerManifestList
}

// checkDigest fails when data does not hash to h.
func checkDigest(h v1.Hash, data []byte) error {
	return checkStream(v1.Descriptor{Digest: h, Size: -1}, bytes.NewReader(data))
}

// checkStream reads r to its end and fails unless it holds d.Size bytes
// (when d.Size is not negative) hashing to d.Digest. It reads at most one
// byte past the size, so a padded blob costs no more than the real one.
func checkStream(d v1.Descriptor, r io.Reader) error {
	if d.Digest.Algorithm != "sha256" {
		return fmt.Errorf("blob %s: %w: digest algorithm %q is not supported", d.Digest, ErrDigestMismatch, d.Digest.Algorithm)
	}
	if d.Size >= 0 {
		r = io.LimitReader(r, d.Size+1)
	}
	got, n, err := v1.SHA256(r)
	if err != nil {
		return fmt.Errorf("reading %s: %w: %w", d.Digest, ErrUnreachable, err)
	}
	switch {
	case d.Size >= 0 && n != d.Size:
		return fmt.Errorf("%s: %w: %d bytes, its descriptor says %d", d.Digest, ErrDigestMismatch, n, d.Size)
	case got != d.Digest:
		return fmt.Errorf("%s: %w: it hashes to %s", d.Digest, ErrDigestMismatch, got)
	}
	return nil
}

// Open returns the store for ref: oci-layout://DIR[:TAG] and
// oci-archive://FILE[:TAG] are on disk, anything else is a registry
// reference.
func Open(ref string, ro RemoteOptions) (Store, error) {
	switch {
	case strings.HasPrefix(ref, "oci-layout://"):
		return OpenLayout(strings.TrimPrefix(ref, "oci-layout://"))
	case strings.HasPrefix(ref, "oci-archive://"):
		return OpenArchive(strings.TrimPrefix(ref, "oci-archive://"))
	default:
		return OpenRemote(ref, ro)
	}
}

// readAllLimited reads r fully; manifests and attestation blobs are small,
// and a bound keeps a hostile registry from exhausting memory.
func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// CopyReferrers copies every referrer of each subject digest from src to
// dst, with its config and layer blobs; it returns how many it copied.
func CopyReferrers(ctx context.Context, src, dst Store, subjects []v1.Hash) (int, error) {
	n := 0
	for _, h := range subjects {
		refs, err := src.Referrers(ctx, h)
		if err != nil {
			return n, err
		}
		for _, r := range refs {
			raw, _, err := src.Manifest(ctx, r.Digest)
			if err != nil {
				return n, err
			}
			m, err := ParseManifest(raw)
			if err != nil {
				return n, err
			}
			descs := m.Layers
			if m.Config != nil {
				descs = append([]v1.Descriptor{*m.Config}, descs...)
			}
			var blobs [][]byte
			for _, d := range descs {
				b, err := src.Blob(ctx, d.Digest)
				if err != nil {
					return n, err
				}
				blobs = append(blobs, b)
			}
			if err := dst.PutReferrer(ctx, raw, blobs); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
