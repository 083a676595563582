// Package promote copies a release image from one repository to another
// only when it verifies: it resolves the source once to a digest,
// verifies that digest, and copies exactly that digest — the index, its
// images, attestation manifests and every signature referrer — so a tag
// moved between verification and copy cannot slip another image through.
// When verification fails nothing is written to the destination.
package promote

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// ErrNotCompliant is returned (wrapped) when the source does not verify.
var ErrNotCompliant = errors.New("the image does not verify; nothing was copied")

// Options configure a promotion.
type Options struct {
	// Verify are the verification options.
	Verify verify.Options
	// Remote are the registry options for both repositories.
	Remote store.RemoteOptions
	// BeforeCopy, when set, runs between verification and copy. Tests move
	// the source tag here to show the copy is by digest.
	BeforeCopy func(ctx context.Context) error
}

// Result says what was promoted.
type Result struct {
	// Report is the verification of the source.
	Report *verify.Report
	// Digest is the digest copied.
	Digest string
	// Destination is the destination reference written (by digest, and
	// the tag when DST had one).
	Destination string
	// Referrers is how many signature referrers were copied.
	Referrers int
}

// Promote verifies src (a registry reference, oci-layout://DIR or
// oci-archive://FILE) and copies it to the registry reference dst by
// digest.
func Promote(ctx context.Context, src, dst string, o Options) (*Result, error) {
	s, err := store.Open(src, o.Remote)
	if err != nil {
		return nil, err
	}
	if c, ok := s.(io.Closer); ok {
		defer c.Close()
	}
	d, err := store.OpenRemote(dst, o.Remote)
	if err != nil {
		return nil, err
	}
	root, err := s.Root(ctx)
	if err != nil {
		return nil, err
	}
	rep, err := verify.VerifyDigest(ctx, s, root, o.Verify)
	if err != nil {
		return nil, err
	}
	res := &Result{Report: rep, Digest: root.Digest.String()}
	if !rep.Compliant {
		return res, fmt.Errorf("promoting %s (%s): %w", src, root.Digest, ErrNotCompliant)
	}
	if o.BeforeCopy != nil {
		if err := o.BeforeCopy(ctx); err != nil {
			return res, err
		}
	}
	n, err := copyByDigest(ctx, s, d, root)
	if err != nil {
		return res, fmt.Errorf("copying %s to %s: %w", root.Digest, dst, err)
	}
	res.Referrers = n
	res.Destination = d.Repository().Digest(root.Digest.String()).String()
	if t, ok := dstTag(dst, o.Remote); ok {
		desc, err := remote.Get(d.Repository().Digest(root.Digest.String()), d.Options(ctx)...)
		if err != nil {
			return res, fmt.Errorf("reading back %s: %w", res.Destination, err)
		}
		if err := remote.Tag(t, desc, d.Options(ctx)...); err != nil {
			return res, fmt.Errorf("tagging %s: %w", t, err)
		}
		res.Destination = t.String() + "@" + root.Digest.String()
	}
	return res, nil
}

func dstTag(dst string, ro store.RemoteOptions) (name.Tag, bool) {
	var nopts []name.Option
	if ro.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	t, err := name.NewTag(dst, append(nopts, name.StrictValidation)...)
	if err != nil {
		return name.Tag{}, false
	}
	return t, true
}

// copyByDigest copies the manifest root (with everything it references)
// and then the signature referrers of it and of every manifest it lists.
// Between registries go-containerregistry streams (and mounts) the
// blobs, checking each digest as it reads; from a layout or tarball each
// blob is read and checked by the store.
func copyByDigest(ctx context.Context, st store.Store, d *store.Remote, root v1.Descriptor) (int, error) {
	s, ok := st.(*store.Remote)
	if !ok {
		return store.CopyImage(ctx, st, root, d)
	}
	src := s.Repository().Digest(root.Digest.String())
	dst := d.Repository().Digest(root.Digest.String())
	desc, err := remote.Get(src, s.Options(ctx)...)
	if err != nil {
		return 0, err
	}
	if desc.Digest != root.Digest {
		return 0, fmt.Errorf("the registry served %s for %s", desc.Digest, root.Digest)
	}
	subjects := []v1.Hash{root.Digest}
	if store.IsIndex(desc.MediaType) {
		idx, err := desc.ImageIndex()
		if err != nil {
			return 0, err
		}
		if err := remote.WriteIndex(dst, idx, d.Options(ctx)...); err != nil {
			return 0, err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return 0, err
		}
		for _, m := range im.Manifests {
			subjects = append(subjects, m.Digest)
		}
	} else {
		img, err := desc.Image()
		if err != nil {
			return 0, err
		}
		if err := remote.Write(dst, img, d.Options(ctx)...); err != nil {
			return 0, err
		}
	}
	return store.CopyReferrers(ctx, s, d, subjects)
}
