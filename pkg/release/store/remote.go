package store

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxManifest and maxBlob bound what is read into memory: manifests, and
// the attestation and bundle blobs verify reads (never image layers).
const (
	maxManifest = 4 << 20
	maxBlob     = 256 << 20
)

// RemoteOptions configure registry access.
type RemoteOptions struct {
	// Insecure allows plain HTTP (and unverified TLS) to the registry.
	Insecure bool
	// Transport, when set, carries every request (e.g. to count them).
	Transport http.RoundTripper
}

// Remote is an image in a registry repository.
type Remote struct {
	ref  name.Reference
	opts []remote.Option
}

// OpenRemote parses a registry reference.
func OpenRemote(ref string, ro RemoteOptions) (*Remote, error) {
	var nopts []name.Option
	if ro.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", ref, err)
	}
	opts := []remote.Option{
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		// Registries without the referrers API get the referrers tag
		// (sha256-<hex>), as cosign writes and reads it.
		remote.WithReferrersTagFallback(true),
	}
	if ro.Transport != nil {
		opts = append(opts, remote.WithTransport(ro.Transport))
	}
	// One puller and one pusher for the store's life: the registry is
	// pinged and authenticated once, not on every read.
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, fmt.Errorf("registry client for %s: %w", ref, err)
	}
	pusher, err := remote.NewPusher(opts...)
	if err != nil {
		return nil, fmt.Errorf("registry client for %s: %w", ref, err)
	}
	opts = append(opts, remote.Reuse(puller), remote.Reuse(pusher))
	return &Remote{ref: r, opts: opts}, nil
}

// Name implements Store.
func (r *Remote) Name() string { return r.ref.String() }

// Repository is the repository of the reference.
func (r *Remote) Repository() name.Repository { return r.ref.Context() }

func (r *Remote) with(ctx context.Context) []remote.Option {
	return append(r.opts[:len(r.opts):len(r.opts)], remote.WithContext(ctx))
}

func unreachable(what string, err error) error {
	return fmt.Errorf("%s: %w: %w", what, ErrUnreachable, err)
}

// Root implements Store.
func (r *Remote) Root(ctx context.Context) (v1.Descriptor, error) {
	d, err := remote.Head(r.ref, r.with(ctx)...)
	if err != nil {
		return v1.Descriptor{}, unreachable("resolving "+r.ref.String(), err)
	}
	if dg, ok := r.ref.(name.Digest); ok && dg.DigestStr() != d.Digest.String() {
		return v1.Descriptor{}, fmt.Errorf("registry answered %s for %s", d.Digest, dg)
	}
	return *d, nil
}

// Manifest implements Store.
func (r *Remote) Manifest(ctx context.Context, h v1.Hash) ([]byte, types.MediaType, error) {
	d, err := remote.Get(r.ref.Context().Digest(h.String()), r.with(ctx)...)
	if err != nil {
		return nil, "", unreachable("reading manifest "+h.String(), err)
	}
	if err := checkDigest(h, d.Manifest); err != nil {
		return nil, "", err
	}
	return d.Manifest, d.MediaType, nil
}

// Blob implements Store.
func (r *Remote) Blob(ctx context.Context, h v1.Hash) ([]byte, error) {
	l, err := remote.Layer(r.ref.Context().Digest(h.String()), r.with(ctx)...)
	if err != nil {
		return nil, unreachable("reading blob "+h.String(), err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, unreachable("reading blob "+h.String(), err)
	}
	defer rc.Close()
	b, err := readAllLimited(rc, maxBlob)
	if err != nil {
		return nil, unreachable("reading blob "+h.String(), err)
	}
	if err := checkDigest(h, b); err != nil {
		return nil, err
	}
	return b, nil
}

// Referrers implements Store.
func (r *Remote) Referrers(ctx context.Context, h v1.Hash) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(r.ref.Context().Digest(h.String()), r.with(ctx)...)
	if err != nil {
		return nil, unreachable("listing referrers of "+h.String(), err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, unreachable("listing referrers of "+h.String(), err)
	}
	return im.Manifests, nil
}

// rawManifest is a manifest to put as it is.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// PutReferrer implements Store. go-containerregistry updates the
// referrers tag itself when the registry has no referrers API.
func (r *Remote) PutReferrer(ctx context.Context, manifest []byte, blobs [][]byte) error {
	for _, b := range blobs {
		if err := r.PutBlob(ctx, b); err != nil {
			return err
		}
	}
	m, err := ParseManifest(manifest)
	if err != nil {
		return err
	}
	return r.PutManifest(ctx, manifest, m.MediaType)
}

// PutBlob uploads one blob.
func (r *Remote) PutBlob(ctx context.Context, b []byte) error {
	if err := remote.WriteLayer(r.ref.Context(), static.NewLayer(b, types.OCILayer), r.with(ctx)...); err != nil {
		return unreachable("uploading blob", err)
	}
	return nil
}

// PutManifest uploads a manifest by its digest.
func (r *Remote) PutManifest(ctx context.Context, raw []byte, mt types.MediaType) error {
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if err := remote.Put(r.ref.Context().Digest(h.String()), rawManifest{raw, mt}, r.with(ctx)...); err != nil {
		return unreachable("uploading manifest "+h.String(), err)
	}
	return nil
}

// Options are the go-containerregistry options of this store (auth,
// transport, referrers fallback) for ctx, for callers that copy images.
func (r *Remote) Options(ctx context.Context) []remote.Option { return r.with(ctx) }
