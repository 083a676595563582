// Package releasetest holds the fixtures of the release tests: an
// in-memory registry, cosign key pairs, a synthetic BuildKit-shaped release
// image with an accepted compliance statement, layout directories and
// tarballs of it — so the store, sign, promote and verify tests need no
// daemon. It also derives tampered release images from a signed one, for
// the tamper matrix of `hardenkit verify` (unit tests against the
// in-memory registry, integration tests against images hardenkit built):
// each mutation copies the image to a new repository and changes one
// thing, at the level of raw manifests and blobs, the way an attacker with
// push access but without the key would.
package releasetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hardenkit/hardenkit/pkg/ocilayout"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// Image is a manifest tree held as raw JSON, edited and pushed back.
type Image struct {
	// Index is the raw root index.
	Index map[string]any
	// Manifests are the raw child manifests by digest.
	Manifests map[string][]byte
	// Blobs are the attestation layers by digest.
	Blobs map[string][]byte
	src   *store.Remote
	root  v1.Descriptor
}

// Load reads the index ref names (a digest), its child manifests and the
// attestation layers.
func Load(ctx context.Context, ref string) (*Image, error) {
	s, err := store.OpenRemote(ref, store.RemoteOptions{})
	if err != nil {
		return nil, err
	}
	root, err := s.Root(ctx)
	if err != nil {
		return nil, err
	}
	raw, _, err := s.Manifest(ctx, root.Digest)
	if err != nil {
		return nil, err
	}
	img := &Image{Manifests: map[string][]byte{}, Blobs: map[string][]byte{}, src: s, root: root}
	if err := json.Unmarshal(raw, &img.Index); err != nil {
		return nil, err
	}
	idx, err := store.ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	for _, d := range idx.Manifests {
		m, _, err := s.Manifest(ctx, d.Digest)
		if err != nil {
			return nil, err
		}
		img.Manifests[d.Digest.String()] = m
		if d.Annotations[sign.AnnotationRefType] != sign.RefTypeAttestation {
			continue
		}
		pm, err := store.ParseManifest(m)
		if err != nil {
			return nil, err
		}
		for _, l := range pm.Layers {
			b, err := s.Blob(ctx, l.Digest)
			if err != nil {
				return nil, err
			}
			img.Blobs[l.Digest.String()] = b
		}
	}
	return img, nil
}

// Root is the loaded root descriptor.
func (img *Image) Root() v1.Descriptor { return img.root }

func digestOf(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

// entries returns the index's manifest list.
func (img *Image) entries() []any {
	l, _ := img.Index["manifests"].([]any)
	return l
}

// ImageDigests are the digests of the platform image manifests.
func (img *Image) ImageDigests() []string {
	var out []string
	for _, e := range img.entries() {
		m := e.(map[string]any)
		if ann, _ := m["annotations"].(map[string]any); ann[sign.AnnotationRefType] == sign.RefTypeAttestation {
			continue
		}
		out = append(out, m["digest"].(string))
	}
	return out
}

// AttestationOf returns the index entry of the attestation manifest of
// the image with digest d.
func (img *Image) AttestationOf(d string) map[string]any {
	for _, e := range img.entries() {
		m := e.(map[string]any)
		if ann, _ := m["annotations"].(map[string]any); ann[sign.AnnotationRefType] == sign.RefTypeAttestation && ann[sign.AnnotationRefDigest] == d {
			return m
		}
	}
	return nil
}

// SetManifest stores a new raw manifest for the index entry e.
func (img *Image) SetManifest(e map[string]any, raw []byte) {
	d := digestOf(raw)
	img.Manifests[d.String()] = raw
	e["digest"] = d.String()
	e["size"] = len(raw)
}

// EditStatements rewrites the layers of the attestation manifest of every
// platform image: edit gets the layer descriptors and the blobs, and
// returns the new descriptors (adding blobs to img.Blobs as needed).
func (img *Image) EditStatements(edit func(layers []map[string]any) ([]map[string]any, error)) error {
	for _, d := range img.ImageDigests() {
		e := img.AttestationOf(d)
		if e == nil {
			return fmt.Errorf("no attestation manifest for %s", d)
		}
		var m map[string]any
		if err := json.Unmarshal(img.Manifests[e["digest"].(string)], &m); err != nil {
			return err
		}
		var layers []map[string]any
		for _, l := range m["layers"].([]any) {
			layers = append(layers, l.(map[string]any))
		}
		nl, err := edit(layers)
		if err != nil {
			return err
		}
		out := make([]any, len(nl))
		for i, l := range nl {
			out[i] = l
		}
		m["layers"] = out
		raw, err := json.Marshal(m)
		if err != nil {
			return err
		}
		img.SetManifest(e, raw)
	}
	return nil
}

// RemoveStatement drops the statement of predicate type pt from every
// attestation manifest.
func (img *Image) RemoveStatement(pt string) error {
	return img.EditStatements(func(ls []map[string]any) ([]map[string]any, error) {
		var out []map[string]any
		for _, l := range ls {
			if ann, _ := l["annotations"].(map[string]any); ann[ocilayout.AnnotationPredicateType] != pt {
				out = append(out, l)
			}
		}
		return out, nil
	})
}

// AddBlob stores b and returns a layer descriptor for it.
func (img *Image) AddBlob(b []byte, mediaType string, annotations map[string]any) map[string]any {
	d := digestOf(b)
	img.Blobs[d.String()] = b
	return map[string]any{"mediaType": mediaType, "digest": d.String(), "size": len(b), "annotations": annotations}
}

// EditStatement rewrites the statement of predicate type pt in every
// attestation manifest with edit (which gets and returns the statement).
func (img *Image) EditStatement(pt string, edit func(st map[string]any) error) error {
	return img.EditStatements(func(layers []map[string]any) ([]map[string]any, error) {
		found := false
		for i, l := range layers {
			ann, _ := l["annotations"].(map[string]any)
			if ann[ocilayout.AnnotationPredicateType] != pt {
				continue
			}
			var st map[string]any
			if err := json.Unmarshal(img.Blobs[l["digest"].(string)], &st); err != nil {
				return nil, err
			}
			if err := edit(st); err != nil {
				return nil, err
			}
			b, err := json.Marshal(st)
			if err != nil {
				return nil, err
			}
			layers[i] = img.AddBlob(b, l["mediaType"].(string), ann)
			found = true
		}
		if !found {
			return nil, fmt.Errorf("no %s statement", pt)
		}
		return layers, nil
	})
}

// Push writes every manifest and blob to dst (a tag) and tags the new
// index; it returns the pushed index's digest reference.
func (img *Image) Push(ctx context.Context, dst string) (string, error) {
	d, err := store.OpenRemote(dst, store.RemoteOptions{})
	if err != nil {
		return "", err
	}
	for _, b := range img.Blobs {
		if err := d.PutBlob(ctx, b); err != nil {
			return "", err
		}
	}
	// Child manifests reference blobs in the source repository (image
	// layers, configs): mount them by copying each child that is an image.
	idx, err := remote.Index(img.src.Repository().Digest(img.root.Digest.String()), img.src.Options(ctx)...)
	if err != nil {
		return "", err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return "", err
	}
	for _, desc := range im.Manifests {
		if store.IsIndex(desc.MediaType) {
			continue
		}
		child, err := idx.Image(desc.Digest)
		if err != nil {
			return "", err
		}
		if err := remote.Write(d.Repository().Digest(desc.Digest.String()), child, d.Options(ctx)...); err != nil {
			return "", err
		}
	}
	for _, raw := range img.Manifests {
		m, err := store.ParseManifest(raw)
		if err != nil {
			return "", err
		}
		mt := m.MediaType
		if mt == "" {
			mt = types.OCIManifestSchema1
		}
		if err := d.PutManifest(ctx, raw, mt); err != nil {
			return "", err
		}
	}
	raw, err := json.Marshal(img.Index)
	if err != nil {
		return "", err
	}
	mt, _ := img.Index["mediaType"].(string)
	if mt == "" {
		mt = string(types.OCIImageIndex)
	}
	t, err := name.NewTag(dst)
	if err != nil {
		return "", err
	}
	if err := remote.Put(t, rawManifest{raw, types.MediaType(mt)}, d.Options(ctx)...); err != nil {
		return "", err
	}
	return t.Context().Digest(digestOf(raw).String()).String(), nil
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// CopySignatures copies the signature referrers of every manifest digest
// of src that dst's index still lists (an attacker keeps the signatures
// that still match).
func CopySignatures(ctx context.Context, src, dst string) (int, error) {
	s, err := store.OpenRemote(src, store.RemoteOptions{})
	if err != nil {
		return 0, err
	}
	d, err := store.OpenRemote(dst, store.RemoteOptions{})
	if err != nil {
		return 0, err
	}
	droot, err := d.Root(ctx)
	if err != nil {
		return 0, err
	}
	digests := []v1.Hash{droot.Digest}
	raw, _, err := d.Manifest(ctx, droot.Digest)
	if err != nil {
		return 0, err
	}
	idx, err := store.ParseManifest(raw)
	if err != nil {
		return 0, err
	}
	for _, m := range idx.Manifests {
		digests = append(digests, m.Digest)
	}
	return store.CopyReferrers(ctx, s, d, digests)
}

// Retag points tag at the manifest ref names (both in one registry).
func Retag(ctx context.Context, ref, tag string) (v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, err
	}
	t, err := name.NewTag(tag)
	if err != nil {
		return v1.Hash{}, err
	}
	desc, err := remote.Get(r, remote.WithContext(ctx))
	if err != nil {
		return v1.Hash{}, err
	}
	if t.Context() != r.Context() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return v1.Hash{}, err
		}
		if err := remote.WriteIndex(t, idx, remote.WithContext(ctx)); err != nil {
			return v1.Hash{}, err
		}
		return desc.Digest, nil
	}
	return desc.Digest, remote.Tag(t, desc, remote.WithContext(ctx))
}
