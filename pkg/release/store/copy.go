package store

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// CopyImage copies the image root of src — every manifest it reaches, its
// configs and layers, and every referrer of any of them — to the registry
// repository of dst, by digest: children before the manifests that list
// them, so the destination never holds a manifest whose blobs are not
// there yet. It returns the destination store and how many referrers it
// copied. Every byte is checked against its digest as src reads it.
func CopyImage(ctx context.Context, src Store, root v1.Descriptor, dst *Remote) (int, error) {
	c := &copier{src: src, dst: dst, done: map[v1.Hash]bool{}}
	if err := c.manifest(ctx, root.Digest); err != nil {
		return 0, err
	}
	return CopyReferrers(ctx, src, dst, c.subjects)
}

type copier struct {
	src      Store
	dst      *Remote
	done     map[v1.Hash]bool
	subjects []v1.Hash
}

func (c *copier) manifest(ctx context.Context, h v1.Hash) error {
	if c.done[h] {
		return nil
	}
	c.done[h] = true
	raw, mt, err := c.src.Manifest(ctx, h)
	if err != nil {
		return err
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", h, err)
	}
	for _, d := range m.Manifests {
		if err := c.manifest(ctx, d.Digest); err != nil {
			return err
		}
	}
	blobs := m.Layers
	if m.Config != nil {
		blobs = append([]v1.Descriptor{*m.Config}, blobs...)
	}
	for _, d := range blobs {
		if c.done[d.Digest] {
			continue
		}
		c.done[d.Digest] = true
		b, err := c.src.Blob(ctx, d.Digest)
		if err != nil {
			return err
		}
		if err := c.dst.PutBlob(ctx, b); err != nil {
			return err
		}
	}
	if m.MediaType != "" {
		mt = m.MediaType
	}
	if err := c.dst.PutManifest(ctx, raw, mt); err != nil {
		return err
	}
	c.subjects = append(c.subjects, h)
	return nil
}
