package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hardenkit/hardenkit/pkg/ocilayout"
)

// Layout is an image in an OCI image layout directory. Its root is the one
// entry of index.json that is not a referrer (hardenkit and cosign list
// referrers in index.json, as the image-layout spec allows); referrers are
// the entries whose manifest has a subject.
type Layout struct {
	name string
	path layout.Path
}

// OpenLayout opens an OCI layout directory.
func OpenLayout(dir string) (*Layout, error) {
	l, err := ocilayout.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return &Layout{name: "oci-layout://" + dir, path: l.Path()}, nil
}

// Name implements Store.
func (l *Layout) Name() string { return l.name }

func (l *Layout) index() (*v1.IndexManifest, error) {
	idx, err := l.path.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", l.name, ErrUnreachable, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s index.json: %w", l.name, err)
	}
	return im, nil
}

// entries splits index.json into images and referrers (with subjects).
func (l *Layout) entries(ctx context.Context) (roots []v1.Descriptor, refs map[v1.Hash][]v1.Descriptor, err error) {
	im, err := l.index()
	if err != nil {
		return nil, nil, err
	}
	refs = map[v1.Hash][]v1.Descriptor{}
	for _, d := range im.Manifests {
		raw, _, err := l.Manifest(ctx, d.Digest)
		if err != nil {
			return nil, nil, err
		}
		m, err := ParseManifest(raw)
		if err != nil {
			return nil, nil, err
		}
		if m.Subject != nil {
			refs[m.Subject.Digest] = append(refs[m.Subject.Digest], d)
		} else {
			roots = append(roots, d)
		}
	}
	return roots, refs, nil
}

// Root implements Store.
func (l *Layout) Root(ctx context.Context) (v1.Descriptor, error) {
	roots, _, err := l.entries(ctx)
	if err != nil {
		return v1.Descriptor{}, err
	}
	if len(roots) != 1 {
		return v1.Descriptor{}, fmt.Errorf("%s: index.json names %d images, want exactly 1: %w", l.name, len(roots), ErrUncovered)
	}
	return roots[0], nil
}

// Manifest implements Store.
func (l *Layout) Manifest(ctx context.Context, h v1.Hash) ([]byte, types.MediaType, error) {
	b, err := l.Blob(ctx, h)
	if err != nil {
		return nil, "", err
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, "", fmt.Errorf("manifest %s: %w", h, err)
	}
	return b, m.MediaType, nil
}

// Blob implements Store.
func (l *Layout) Blob(_ context.Context, h v1.Hash) ([]byte, error) {
	rc, err := l.open(h)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := readAllLimited(rc, maxBlob)
	if err != nil {
		return nil, fmt.Errorf("%s blob %s: %w", l.name, h, err)
	}
	if err := checkDigest(h, b); err != nil {
		return nil, err
	}
	return b, nil
}

func (l *Layout) open(h v1.Hash) (io.ReadCloser, error) {
	rc, err := l.path.Blob(h)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("blob %s is %w from %s", h, ErrMissing, l.name)
		}
		return nil, fmt.Errorf("%s blob %s: %w: %w", l.name, h, ErrUnreachable, err)
	}
	return rc, nil
}

// VerifyBlob implements Store.
func (l *Layout) VerifyBlob(_ context.Context, d v1.Descriptor) error {
	rc, err := l.open(d.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	return checkStream(d, rc)
}

// IndexJSON is the layout's index.json: the manifests it lists (the image,
// the referrers stored beside it, anything else someone added) and its
// annotations.
func (l *Layout) IndexJSON(context.Context) (*v1.IndexManifest, error) {
	return l.index()
}

// Referrers implements Store.
func (l *Layout) Referrers(ctx context.Context, h v1.Hash) ([]v1.Descriptor, error) {
	_, refs, err := l.entries(ctx)
	if err != nil {
		return nil, err
	}
	return refs[h], nil
}

// PutReferrer implements Store.
func (l *Layout) PutReferrer(_ context.Context, manifest []byte, blobs [][]byte) error {
	for _, b := range append(blobs, manifest) {
		h, _, err := v1.SHA256(bytes.NewReader(b))
		if err != nil {
			return err
		}
		if err := l.path.WriteBlob(h, io.NopCloser(bytes.NewReader(b))); err != nil {
			return fmt.Errorf("%s: writing blob: %w", l.name, err)
		}
	}
	m, err := ParseManifest(manifest)
	if err != nil {
		return err
	}
	h, size, err := v1.SHA256(bytes.NewReader(manifest))
	if err != nil {
		return err
	}
	at := m.ArtifactType
	if at == "" && m.Config != nil {
		at = string(m.Config.MediaType)
	}
	if at == "" {
		return errors.New("a referrer needs an artifactType")
	}
	if err := l.path.AppendDescriptor(v1.Descriptor{MediaType: m.MediaType, Digest: h, Size: size, ArtifactType: at, Annotations: m.Annotations}); err != nil {
		return fmt.Errorf("%s: adding the referrer to index.json: %w", l.name, err)
	}
	return nil
}

// Archive is an OCI layout tarball (what `hardenkit build --output
// type=oci` writes), unpacked into a temporary directory; Save writes it
// back after signing.
type Archive struct {
	*Layout
	file string
	dir  string
}

// OpenArchive unpacks an OCI layout tarball. Close removes the copy.
func OpenArchive(file string) (*Archive, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("OCI archive: %w: %w", ErrUnreachable, err)
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "hardenkit-oci-archive-")
	if err != nil {
		return nil, err
	}
	if err := ocilayout.Extract(f, dir); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("OCI archive %s: %w", file, err)
	}
	l, err := OpenLayout(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	l.name = "oci-archive://" + file
	return &Archive{Layout: l, file: file, dir: dir}, nil
}

// Close removes the unpacked copy.
func (a *Archive) Close() error { return os.RemoveAll(a.dir) }

// Save writes the layout back to the tarball (atomically, by rename).
func (a *Archive) Save() error {
	tmp, err := os.CreateTemp(filepath.Dir(a.file), ".hardenkit-oci-*.tar")
	if err != nil {
		return fmt.Errorf("saving %s: %w", a.file, err)
	}
	defer os.Remove(tmp.Name())
	err = ocilayout.WriteArchive(tmp, a.dir)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), a.file)
	}
	if err != nil {
		return fmt.Errorf("saving %s: %w", a.file, err)
	}
	return nil
}
