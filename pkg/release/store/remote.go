package store

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
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
	// base carries the raw reads (fetch): go-containerregistry's
	// readers check digests themselves and say so only in an error
	// string, and integrity failures must be told from network ones.
	base http.RoundTripper
	// rt is the authenticated transport for the repository, made on the
	// first raw read (it pings the registry) and kept for the store's life.
	rt http.RoundTripper
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
	base := remote.DefaultTransport
	if ro.Transport != nil {
		base = ro.Transport
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
	return &Remote{ref: r, opts: opts, base: base}, nil
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

// acceptManifests are the manifest media types a read asks for.
var acceptManifests = strings.Join([]string{
	string(types.OCIImageIndex), string(types.OCIManifestSchema1),
	string(types.DockerManifestList), string(types.DockerManifestSchema2),
}, ", ")

// fetch GETs the manifest or blob h (kind "manifests" or "blobs") of the
// repository. A 404 is ErrMissing; any other failure ErrUnreachable.
func (r *Remote) fetch(ctx context.Context, kind string, h v1.Hash) (*http.Response, error) {
	what := strings.TrimSuffix(kind, "s") + " " + h.String()
	repo := r.ref.Context()
	if r.rt == nil {
		rt, err := transport.NewWithContext(ctx, repo.Registry, authFor(repo), r.base, []string{repo.Scope(transport.PullScope)})
		if err != nil {
			return nil, unreachable("reading "+what, err)
		}
		r.rt = rt
	}
	u := url.URL{Scheme: repo.Registry.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/" + kind + "/" + h.String()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, unreachable("reading "+what, err)
	}
	if kind == "manifests" {
		req.Header.Set("Accept", acceptManifests)
	}
	resp, err := (&http.Client{Transport: r.rt}).Do(req)
	if err != nil {
		return nil, unreachable("reading "+what, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp, nil
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("%s is %w from %s", what, ErrMissing, repo)
	default:
		resp.Body.Close()
		return nil, unreachable("reading "+what, fmt.Errorf("registry answered %s", resp.Status))
	}
}

// authFor resolves the credentials for repo; none is anonymous access.
func authFor(repo name.Repository) authn.Authenticator {
	a, err := authn.DefaultKeychain.Resolve(repo)
	if err != nil {
		return authn.Anonymous
	}
	return a
}

// Manifest implements Store.
func (r *Remote) Manifest(ctx context.Context, h v1.Hash) ([]byte, types.MediaType, error) {
	resp, err := r.fetch(ctx, "manifests", h)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := readAllLimited(resp.Body, maxManifest)
	if err != nil {
		return nil, "", unreachable("reading manifest "+h.String(), err)
	}
	if err := checkDigest(h, b); err != nil {
		return nil, "", fmt.Errorf("manifest %w", err)
	}
	mt := types.MediaType(resp.Header.Get("Content-Type"))
	if m, err := ParseManifest(b); err == nil && m.MediaType != "" {
		mt = m.MediaType
	}
	return b, mt, nil
}

// Blob implements Store.
func (r *Remote) Blob(ctx context.Context, h v1.Hash) ([]byte, error) {
	resp, err := r.fetch(ctx, "blobs", h)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := readAllLimited(resp.Body, maxBlob)
	if err != nil {
		return nil, unreachable("reading blob "+h.String(), err)
	}
	if err := checkDigest(h, b); err != nil {
		return nil, fmt.Errorf("blob %w", err)
	}
	return b, nil
}

// VerifyBlob implements Store.
func (r *Remote) VerifyBlob(ctx context.Context, d v1.Descriptor) error {
	resp, err := r.fetch(ctx, "blobs", d.Digest)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := checkStream(d, resp.Body); err != nil {
		return fmt.Errorf("blob %w", err)
	}
	return nil
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
