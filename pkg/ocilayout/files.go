package ocilayout

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

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
