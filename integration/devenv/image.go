package devenv

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// defaultPath is the PATH of the base images.
	defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

	// createdBy is the history entry of every layer devenv assembles.
	createdBy = "hardenkit devenv"

	// refNameAnnotation names an image in an OCI layout index.
	refNameAnnotation = "org.opencontainers.image.ref.name"

	// inputKeyAnnotation records, in the image cache, the hash of the inputs
	// an image was assembled from.
	inputKeyAnnotation = "dev.hardenkit.devenv.input"

	// assemblyVersion is part of every cache key: bump it whenever the way
	// images are assembled changes, so cached images are rebuilt.
	assemblyVersion = "devenv-image-v1"
)

// epoch is the fixed time stamp of generated files and image configs.
var epoch = time.Unix(0, 0).UTC()

// imageSpec describes a single-layer linux image.
type imageSpec struct {
	Layer   v1.Layer
	Created time.Time
	Config  v1.Config
}

// assembleImage builds an OCI image from spec. The result only depends on
// spec: there is no time stamp or host detail in it besides the
// architecture, which is that of the running Go toolchain (the one that
// builds the binaries inside the images).
func assembleImage(spec imageSpec) (v1.Image, error) {
	created := v1.Time{Time: spec.Created.UTC()}
	cfg := &v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      created,
		Config:       spec.Config,
		RootFS:       v1.RootFS{Type: "layers"},
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("setting image config: %w", err)
	}
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     spec.Layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: created, CreatedBy: createdBy},
	})
	if err != nil {
		return nil, fmt.Errorf("adding layer: %w", err)
	}
	return img, nil
}

// loadCachedImage returns the image in the OCI layout at dir when it was
// stored under the input key key; ok is false when there is no such image.
func loadCachedImage(dir, key string) (img v1.Image, ok bool, err error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		// A missing or damaged layout is a cache miss.
		return nil, false, nil
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, false, nil
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, false, nil
	}
	for _, d := range im.Manifests {
		if d.Annotations[inputKeyAnnotation] != key {
			continue
		}
		img, err := p.Image(d.Digest)
		if err != nil {
			return nil, false, fmt.Errorf("reading cached image %s from %s: %w", d.Digest, dir, err)
		}
		return img, true, nil
	}
	return nil, false, nil
}

// storeCachedImage writes img as the only image of a fresh OCI layout at
// dir, annotated with key, replacing whatever was there, and returns the
// image read back from the layout.
func storeCachedImage(dir, key, refName string, img v1.Image) (v1.Image, error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating image cache dir: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("creating image cache temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return nil, fmt.Errorf("creating OCI layout %s: %w", tmp, err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		inputKeyAnnotation: key,
		refNameAnnotation:  refName,
	})); err != nil {
		return nil, fmt.Errorf("writing image to %s: %w", tmp, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("removing stale image cache %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("moving image cache into place: %w", err)
	}
	cached, ok, err := loadCachedImage(dir, key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("image cache %s: image just written is missing", dir)
	}
	return cached, nil
}

// cachedImage returns the image cached at dir under key, assembling it with
// build and storing it first on a miss.
func cachedImage(dir, key, refName string, build func() (v1.Image, error)) (v1.Image, error) {
	img, ok, err := loadCachedImage(dir, key)
	if err != nil || ok {
		return img, err
	}
	img, err = build()
	if err != nil {
		return nil, err
	}
	return storeCachedImage(dir, key, refName, img)
}

// PushImage makes ref point at img in its registry and returns the digest
// reference of the pushed image. When ref is a tag that already resolves to
// img's digest nothing is uploaded. Credentials come from the docker config;
// registries on loopback addresses are spoken to over plain HTTP.
func PushImage(ctx context.Context, ref string, img v1.Image) (name.Digest, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	dgst, err := img.Digest()
	if err != nil {
		return name.Digest{}, fmt.Errorf("computing digest of image for %s: %w", ref, err)
	}
	pinned := r.Context().Digest(dgst.String())
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
	}
	if _, isTag := r.(name.Tag); isTag {
		desc, err := remote.Head(r, opts...)
		var terr *transport.Error
		switch {
		case err == nil && desc.Digest == dgst:
			return pinned, nil
		case err == nil, errors.As(err, &terr) && terr.StatusCode == 404:
		default:
			return name.Digest{}, fmt.Errorf("looking up %s: %w", ref, err)
		}
	}
	if err := remote.Write(r, img, opts...); err != nil {
		return name.Digest{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	return pinned, nil
}

// imageInRegistry reports whether the manifest ref (tag or digest) exists.
func imageInRegistry(ctx context.Context, ref name.Reference) (bool, error) {
	_, err := remote.Head(ref, remote.WithContext(ctx))
	var terr *transport.Error
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &terr) && terr.StatusCode == 404:
		return false, nil
	default:
		return false, fmt.Errorf("looking up %s: %w", ref, err)
	}
}

// WriteOCILayout adds img to the OCI image layout at dir (created when
// missing) under the reference name refName, replacing an image already
// stored under that name.
func WriteOCILayout(dir, refName string, img v1.Image) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return fmt.Errorf("creating OCI layout %s: %w", dir, err)
		}
	}
	if err := p.ReplaceImage(img, match.Annotation(refNameAnnotation, refName),
		layout.WithAnnotations(map[string]string{refNameAnnotation: refName})); err != nil {
		return fmt.Errorf("writing image to OCI layout %s: %w", dir, err)
	}
	return nil
}

// WriteOCITar writes img as an OCI layout tarball (the format of BuildKit's
// oci exporter and of `skopeo copy oci-archive:`) to file, with its index
// naming it refName. Entries are sorted and time stamps fixed, so the same
// image always yields the same file.
func WriteOCITar(file, refName string, img v1.Image) error {
	tmpDir, err := os.MkdirTemp("", "devenv-oci-")
	if err != nil {
		return fmt.Errorf("creating temp dir: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	if err := WriteOCILayout(tmpDir, refName, img); err != nil {
		return err
	}
	var names []string
	err = filepath.WalkDir(tmpDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == tmpDir {
			return nil
		}
		rel, err := filepath.Rel(tmpDir, p)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing OCI layout: %w", err)
	}
	sort.Strings(names)

	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("creating directory for %s: %w", file, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp-")
	if err != nil {
		return fmt.Errorf("creating %s: %w", file, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	tw := tar.NewWriter(tmp)
	for _, n := range names {
		if err := addFileToTar(tw, filepath.Join(tmpDir, filepath.FromSlash(n)), n); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finishing %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", file, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("setting mode of %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("moving %s into place: %w", file, err)
	}
	return nil
}

// addFileToTar adds the file or directory at p to tw as name, owned by
// root, with a fixed time stamp.
func addFileToTar(tw *tar.Writer, p, name string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	hdr := &tar.Header{Name: name, ModTime: epoch, Mode: 0o644, Format: tar.FormatPAX}
	if fi.IsDir() {
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		hdr.Mode = 0o755
		return tw.WriteHeader(hdr)
	}
	hdr.Typeflag = tar.TypeReg
	hdr.Size = fi.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing tar header for %s: %w", name, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("opening %s: %w", p, err)
	}
	defer f.Close()
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("copying %s: %w", p, err)
	}
	return nil
}
