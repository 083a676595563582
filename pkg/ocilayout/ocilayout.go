// Package ocilayout is hardenkit's one reader of OCI image layouts: a
// layout directory (go-containerregistry's layout.Path) or a tarball of
// one, as BuildKit's oci exporter writes it. It reads what a user would
// see — the image config, the files of the flattened root filesystem, the
// attestations — for `hardenkit inspect`, the integration tests and the
// benchmarks, and it unpacks and repacks tarballs for the release store
// (pkg/release/store), which signs them in place. Layers are decompressed
// and flattened by go-containerregistry (gzip, zstd or none).
package ocilayout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/containerd/platforms"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/moby/buildkit/util/attestation"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// AnnotationPredicateType is the annotation BuildKit puts on each layer
// of an attestation manifest: the predicate type of the in-toto statement
// the layer holds.
const AnnotationPredicateType = "in-toto.io/predicate-type"

// Layout is an OCI image layout: a directory read through
// go-containerregistry, or a tarball held in memory.
type Layout struct {
	// dir is the layout directory; "" for a tarball read into blobs.
	dir   layout.Path
	index []byte
	blobs map[digest.Digest][]byte
}

// Open opens the OCI layout directory dir (it must hold index.json).
// Blobs are read from disk when asked for.
func Open(dir string) (*Layout, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return &Layout{dir: p}, nil
}

// Read loads an OCI layout tarball into memory.
func Read(r io.Reader) (*Layout, error) {
	l := &Layout{blobs: map[digest.Digest][]byte{}}
	err := walkArchive(r, func(name string, body io.Reader) error {
		// A directory (body nil) holds nothing of a layout, whatever its name.
		if body == nil || name != "index.json" && !strings.HasPrefix(name, "blobs/") {
			return nil
		}
		parts := strings.Split(name, "/")
		if name != "index.json" && len(parts) != 3 {
			return nil
		}
		dt, err := io.ReadAll(body)
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		if name == "index.json" {
			l.index = dt
		} else {
			l.blobs[digest.NewDigestFromEncoded(digest.Algorithm(parts[1]), parts[2])] = dt
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading OCI tar: %w", err)
	}
	if l.index == nil {
		return nil, errors.New("OCI tar has no index.json")
	}
	return l, nil
}

// Path is the layout directory, for writing blobs and index entries with
// go-containerregistry; "" for a tarball read into memory.
func (l *Layout) Path() layout.Path { return l.dir }

// Index decodes the layout's index.json.
func (l *Layout) Index() (ocispecs.Index, error) {
	raw := l.index
	if l.dir != "" {
		ii, err := l.dir.ImageIndex()
		if err != nil {
			return ocispecs.Index{}, fmt.Errorf("OCI layout %s: %w", l.dir, err)
		}
		if raw, err = ii.RawManifest(); err != nil {
			return ocispecs.Index{}, fmt.Errorf("OCI layout %s: index.json: %w", l.dir, err)
		}
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return ocispecs.Index{}, fmt.Errorf("decoding index.json: %w", err)
	}
	return idx, nil
}

// Blob returns a blob's bytes.
func (l *Layout) Blob(d digest.Digest) ([]byte, error) {
	if l.dir == "" {
		dt, ok := l.blobs[d]
		if !ok {
			return nil, fmt.Errorf("blob %s not in layout", d)
		}
		return dt, nil
	}
	h, err := v1.NewHash(d.String())
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", d, err)
	}
	rc, err := l.dir.Blob(h)
	if err != nil {
		return nil, fmt.Errorf("blob %s not in layout: %w", d, err)
	}
	defer rc.Close()
	dt, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", d, err)
	}
	return dt, nil
}

// Image is one platform's image manifest with its config.
type Image struct {
	Descriptor ocispecs.Descriptor
	Manifest   ocispecs.Manifest
	Config     map[string]any
	RawConfig  []byte
	layout     *Layout
}

// Images returns every image manifest in the layout (walking nested
// indexes), without attestation manifests and referrers (signatures).
func (l *Layout) Images() ([]*Image, error) {
	var out []*Image
	var walk func(descs []ocispecs.Descriptor) error
	walk = func(descs []ocispecs.Descriptor) error {
		for _, d := range descs {
			if d.Annotations[attestation.DockerAnnotationReferenceType] == attestation.DockerAnnotationReferenceTypeDefault {
				continue
			}
			dt, err := l.Blob(d.Digest)
			if err != nil {
				return err
			}
			switch d.MediaType {
			case ocispecs.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
				var idx ocispecs.Index
				if err := json.Unmarshal(dt, &idx); err != nil {
					return fmt.Errorf("decoding index %s: %w", d.Digest, err)
				}
				if err := walk(idx.Manifests); err != nil {
					return err
				}
			default:
				img := &Image{Descriptor: d, layout: l}
				if err := json.Unmarshal(dt, &img.Manifest); err != nil {
					return fmt.Errorf("decoding manifest %s: %w", d.Digest, err)
				}
				if img.Manifest.Subject != nil {
					continue // a referrer (e.g. a signature hardenkit sign added), not an image
				}
				if img.RawConfig, err = l.Blob(img.Manifest.Config.Digest); err != nil {
					return err
				}
				if err := json.Unmarshal(img.RawConfig, &img.Config); err != nil {
					return fmt.Errorf("decoding config %s: %w", img.Manifest.Config.Digest, err)
				}
				out = append(out, img)
			}
		}
		return nil
	}
	idx, err := l.Index()
	if err != nil {
		return nil, err
	}
	if err := walk(idx.Manifests); err != nil {
		return nil, err
	}
	return out, nil
}

// Platform returns the image of one platform (e.g. "linux/amd64").
func (l *Layout) Platform(p string) (*Image, error) {
	want, err := platforms.Parse(p)
	if err != nil {
		return nil, err
	}
	imgs, err := l.Images()
	if err != nil {
		return nil, err
	}
	for _, img := range imgs {
		var got ocispecs.Platform
		if img.Descriptor.Platform != nil {
			got = *img.Descriptor.Platform
		} else {
			os, _ := img.Config["os"].(string)
			arch, _ := img.Config["architecture"].(string)
			got = ocispecs.Platform{OS: os, Architecture: arch}
		}
		if platforms.OnlyStrict(want).Match(got) {
			return img, nil
		}
	}
	return nil, fmt.Errorf("no image for platform %s among %d images", p, len(imgs))
}

// Single returns the only image of the layout.
func (l *Layout) Single() (*Image, error) {
	imgs, err := l.Images()
	if err != nil {
		return nil, err
	}
	if len(imgs) != 1 {
		return nil, fmt.Errorf("layout has %d images, want 1", len(imgs))
	}
	return imgs[0], nil
}

// Attestations returns the in-toto statements attached to the image with
// the given manifest digest, keyed by predicate type.
func (l *Layout) Attestations(subject digest.Digest) (map[string][][]byte, error) {
	out := map[string][][]byte{}
	var walk func(descs []ocispecs.Descriptor) error
	walk = func(descs []ocispecs.Descriptor) error {
		for _, d := range descs {
			dt, err := l.Blob(d.Digest)
			if err != nil {
				return err
			}
			if d.MediaType == ocispecs.MediaTypeImageIndex {
				var idx ocispecs.Index
				if err := json.Unmarshal(dt, &idx); err != nil {
					return err
				}
				if err := walk(idx.Manifests); err != nil {
					return err
				}
				continue
			}
			if d.Annotations[attestation.DockerAnnotationReferenceType] != attestation.DockerAnnotationReferenceTypeDefault ||
				d.Annotations[attestation.DockerAnnotationReferenceDigest] != subject.String() {
				continue
			}
			var m ocispecs.Manifest
			if err := json.Unmarshal(dt, &m); err != nil {
				return err
			}
			for _, layer := range m.Layers {
				b, err := l.Blob(layer.Digest)
				if err != nil {
					return err
				}
				pt := layer.Annotations[AnnotationPredicateType]
				out[pt] = append(out[pt], b)
			}
		}
		return nil
	}
	idx, err := l.Index()
	if err != nil {
		return nil, err
	}
	return out, walk(idx.Manifests)
}

// SortedPaths returns the paths of files in order.
func SortedPaths(files map[string]File) []string {
	out := make([]string, 0, len(files))
	for p := range files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
