// Package ocitar reads the OCI layout tarballs that BuildKit's oci exporter
// writes, so tests can assert what a user would see: the image config, the
// files of the flattened root filesystem and the attestations. Layers are
// decompressed and flattened by go-containerregistry (gzip, zstd or none).
package ocitar

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/containerd/platforms"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layout is an OCI image layout held in memory.
type Layout struct {
	Index ocispecs.Index
	blobs map[digest.Digest][]byte
}

// Read loads an OCI layout tarball.
func Read(r io.Reader) (*Layout, error) {
	l := &Layout{blobs: map[digest.Digest][]byte{}}
	var index []byte
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading OCI tar: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		dt, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", h.Name, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch {
		case name == "index.json":
			index = dt
		case strings.HasPrefix(name, "blobs/"):
			parts := strings.Split(name, "/")
			if len(parts) != 3 {
				continue
			}
			l.blobs[digest.NewDigestFromEncoded(digest.Algorithm(parts[1]), parts[2])] = dt
		}
	}
	if index == nil {
		return nil, errors.New("OCI tar has no index.json")
	}
	if err := json.Unmarshal(index, &l.Index); err != nil {
		return nil, fmt.Errorf("decoding index.json: %w", err)
	}
	return l, nil
}

// Blob returns a blob's bytes.
func (l *Layout) Blob(d digest.Digest) ([]byte, error) {
	dt, ok := l.blobs[d]
	if !ok {
		return nil, fmt.Errorf("blob %s not in layout", d)
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
			if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
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
	if err := walk(l.Index.Manifests); err != nil {
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

// File is one entry of a flattened root filesystem.
type File struct {
	Path     string
	Type     byte
	Mode     int64
	UID, GID int
	Size     int64
	ModTime  int64 // unix seconds
	SHA256   string
	Linkname string
	Content  []byte
}

// Describe is a one-line, timestamp-free description for comparisons.
func (f File) Describe() string {
	return fmt.Sprintf("%c %o %d:%d %d %s %s", f.Type, f.Mode, f.UID, f.GID, f.Size, f.SHA256, f.Linkname)
}

// maxKeptContent bounds how much of each file Files keeps in memory.
const maxKeptContent = 1 << 20

// Files flattens the image's layers into path → File with
// go-containerregistry's mutate.Extract (whiteouts and opaque directories
// applied; gzip, zstd and uncompressed layers). Paths are absolute and
// cleaned.
func (img *Image) Files() (map[string]File, error) {
	gi, err := partial.CompressedToImage(&compressedImage{img: img})
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", img.Descriptor.Digest, err)
	}
	rc := mutate.Extract(gi)
	defer rc.Close()
	files := map[string]File{}
	var links []File
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.Descriptor.Digest, err)
		}
		p := path.Clean("/" + h.Name)
		f := File{Path: p, Type: h.Typeflag, Mode: h.Mode, UID: h.Uid, GID: h.Gid, Linkname: h.Linkname, ModTime: h.ModTime.Unix()}
		if h.Typeflag == tar.TypeReg {
			dt, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("image %s: %s: %w", img.Descriptor.Digest, p, err)
			}
			sum := sha256.Sum256(dt)
			f.SHA256 = hex.EncodeToString(sum[:])
			f.Size = int64(len(dt))
			if len(dt) <= maxKeptContent {
				f.Content = dt
			}
		}
		if h.Typeflag == tar.TypeLink {
			links = append(links, f)
		}
		files[p] = f
	}
	// A hard link has its target's content; describe it by that. The
	// flattened stream lists upper layers first, so targets are resolved
	// once every entry is known.
	for _, f := range links {
		if t, ok := files[path.Clean("/"+f.Linkname)]; ok && t.Type == tar.TypeReg {
			f.Type, f.Size, f.SHA256, f.Content, f.Linkname = tar.TypeReg, t.Size, t.SHA256, t.Content, ""
			files[f.Path] = f
		}
	}
	return files, nil
}

// compressedImage is an image of the in-memory layout as
// go-containerregistry's partial.CompressedImageCore.
type compressedImage struct {
	img *Image
}

func (c *compressedImage) RawConfigFile() ([]byte, error) { return c.img.RawConfig, nil }

func (c *compressedImage) MediaType() (types.MediaType, error) {
	return types.MediaType(c.img.Descriptor.MediaType), nil
}

func (c *compressedImage) RawManifest() ([]byte, error) {
	return c.img.layout.Blob(c.img.Descriptor.Digest)
}

func (c *compressedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range c.img.Manifest.Layers {
		if l.Digest.String() == h.String() {
			return &compressedLayer{layout: c.img.layout, desc: l}, nil
		}
	}
	if c.img.Manifest.Config.Digest.String() == h.String() {
		return &compressedLayer{layout: c.img.layout, desc: c.img.Manifest.Config}, nil
	}
	return nil, fmt.Errorf("blob %s is not in the manifest", h)
}

// compressedLayer is one blob of the layout.
type compressedLayer struct {
	layout *Layout
	desc   ocispecs.Descriptor
}

func (l *compressedLayer) Digest() (v1.Hash, error) { return v1.NewHash(l.desc.Digest.String()) }

func (l *compressedLayer) Compressed() (io.ReadCloser, error) {
	dt, err := l.layout.Blob(l.desc.Digest)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(dt)), nil
}

func (l *compressedLayer) Size() (int64, error) { return l.desc.Size, nil }

func (l *compressedLayer) MediaType() (types.MediaType, error) {
	return types.MediaType(l.desc.MediaType), nil
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
			if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" ||
				d.Annotations["vnd.docker.reference.digest"] != subject.String() {
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
				pt := layer.Annotations["in-toto.io/predicate-type"]
				out[pt] = append(out[pt], b)
			}
		}
		return nil
	}
	return out, walk(l.Index.Manifests)
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
