package rebuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"

	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// Entry is one filesystem object of a flattened image, with every
// attribute the file-by-file comparison looks at.
type Entry struct {
	Type     byte   `json:"-"`
	Kind     string `json:"kind"`
	Mode     int64  `json:"mode"`
	UID      int    `json:"uid"`
	GID      int    `json:"gid"`
	Size     int64  `json:"size"`
	ModTime  int64  `json:"mtime"`
	Digest   string `json:"digest,omitempty"`
	Linkname string `json:"linkname,omitempty"`
	Xattrs   string `json:"xattrs,omitempty"`
}

// xattrPrefix marks an extended attribute in a tar header's PAX records.
const xattrPrefix = "SCHILY.xattr."

// flatten applies the layers of manifest m in order (whiteouts and opaque
// directories included) and returns path → Entry.
func flatten(ctx context.Context, st store.Store, layers []v1.Descriptor) (map[string]Entry, error) {
	files := map[string]Entry{}
	for _, l := range layers {
		blob, err := st.Blob(ctx, l.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading layer %s: %w", l.Digest, err)
		}
		r, err := decompress(string(l.MediaType), blob)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		if err := applyLayer(files, tar.NewReader(r)); err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
		}
	}
	return files, nil
}

// decompress opens a layer blob by its media type.
func decompress(mediaType string, blob []byte) (io.Reader, error) {
	switch {
	case strings.Contains(mediaType, "zstd"):
		return zstd.NewReader(bytes.NewReader(blob))
	case strings.Contains(mediaType, "gzip"):
		return gzip.NewReader(bytes.NewReader(blob))
	default:
		return bytes.NewReader(blob), nil
	}
}

// applyLayer applies one layer's tar stream to files.
func applyLayer(files map[string]Entry, tr *tar.Reader) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := path.Clean("/" + h.Name)
		dir, base := path.Split(p)
		if base == ".wh..wh..opq" {
			removeBelow(files, path.Clean(dir), false)
			continue
		}
		if name, ok := strings.CutPrefix(base, ".wh."); ok {
			removeBelow(files, path.Join(dir, name), true)
			continue
		}
		e := Entry{Type: h.Typeflag, Kind: kindOf(h.Typeflag), Mode: h.Mode, UID: h.Uid, GID: h.Gid, ModTime: h.ModTime.Unix(), Linkname: h.Linkname, Xattrs: xattrs(h)}
		if h.Typeflag == tar.TypeReg {
			sum := sha256.New()
			n, err := io.Copy(sum, tr)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			e.Size, e.Digest = n, "sha256:"+hex.EncodeToString(sum.Sum(nil))
		}
		files[p] = e
	}
}

// removeBelow deletes p's descendants, and p itself when self.
func removeBelow(files map[string]Entry, p string, self bool) {
	for k := range files {
		if (self && k == p) || strings.HasPrefix(k, strings.TrimSuffix(p, "/")+"/") {
			delete(files, k)
		}
	}
}

func kindOf(t byte) string {
	switch t {
	case tar.TypeReg:
		return "file"
	case tar.TypeDir:
		return "dir"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hardlink"
	default:
		return fmt.Sprintf("type %c", t)
	}
}

// xattrs is a header's extended attributes as one sorted string, values
// hashed (a capability set is binary).
func xattrs(h *tar.Header) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(h.PAXRecords)) {
		if name, ok := strings.CutPrefix(k, xattrPrefix); ok {
			sum := sha256.Sum256([]byte(h.PAXRecords[k]))
			parts = append(parts, name+"="+hex.EncodeToString(sum[:6]))
		}
	}
	return strings.Join(parts, ",")
}
