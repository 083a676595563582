package releasetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// Part is a kind of blob of a release image a tamper test changes.
type Part string

// The parts of a release image whose blobs the verdict depends on.
const (
	PartManifest         Part = "manifest"          // a platform's image manifest
	PartConfig           Part = "config"            // its image config
	PartLayer            Part = "layer"             // its last (application) layer
	PartAttestationLayer Part = "attestation layer" // a statement of its attestation manifest
)

// Parts lists every Part, in test order.
var Parts = []Part{PartManifest, PartConfig, PartLayer, PartAttestationLayer}

// Tamper is how a blob is changed under the digest that names it.
type Tamper string

// The ways a blob is tampered with.
const (
	Altered   Tamper = "altered"   // one byte changed, same size
	Truncated Tamper = "truncated" // cut to half its size
	Removed   Tamper = "removed"   // gone
	Swapped   Tamper = "swapped"   // another blob of the image in its place
)

// Tampers lists every Tamper, in test order.
var Tampers = []Tamper{Altered, Truncated, Removed, Swapped}

// Targets finds, in the image st holds, the digest of each Part of its
// first platform image, and a blob of the image (of another digest) that
// a Swapped tamper puts in place of each.
func Targets(ctx context.Context, st store.Store) (map[Part]v1.Hash, map[Part][]byte, error) {
	root, err := st.Root(ctx)
	if err != nil {
		return nil, nil, err
	}
	idx, err := readManifest(ctx, st, root.Digest)
	if err != nil {
		return nil, nil, err
	}
	out := map[Part]v1.Hash{}
	var att v1.Hash
	for _, d := range idx.Manifests {
		if d.Annotations[sign.AnnotationRefType] == sign.RefTypeAttestation {
			att = d.Digest
		} else if _, ok := out[PartManifest]; !ok {
			out[PartManifest] = d.Digest
		}
	}
	img, err := readManifest(ctx, st, out[PartManifest])
	if err != nil {
		return nil, nil, err
	}
	am, err := readManifest(ctx, st, att)
	if err != nil {
		return nil, nil, err
	}
	if img.Config == nil || len(img.Layers) == 0 || len(am.Layers) == 0 {
		return nil, nil, fmt.Errorf("image %s has no config, layers or statements to tamper with", out[PartManifest])
	}
	out[PartConfig], out[PartLayer], out[PartAttestationLayer] = img.Config.Digest, img.Layers[len(img.Layers)-1].Digest, am.Layers[0].Digest
	// Each part is swapped for a blob of its own kind where the image has
	// one (another statement, the attestation manifest), else another part.
	swapFrom := map[Part]v1.Hash{PartManifest: att, PartConfig: am.Layers[0].Digest, PartLayer: img.Config.Digest, PartAttestationLayer: am.Layers[len(am.Layers)-1].Digest}
	if len(img.Layers) > 1 {
		swapFrom[PartLayer] = img.Layers[0].Digest
	}
	others := map[Part][]byte{}
	for p, h := range swapFrom {
		var b []byte
		if p == PartManifest {
			b, _, err = st.Manifest(ctx, h)
		} else {
			b, err = st.Blob(ctx, h)
		}
		if err != nil {
			return nil, nil, err
		}
		others[p] = b
	}
	return out, others, nil
}

func readManifest(ctx context.Context, st store.Store, h v1.Hash) (*store.Manifest, error) {
	raw, _, err := st.Manifest(ctx, h)
	if err != nil {
		return nil, err
	}
	return store.ParseManifest(raw)
}

// Apply returns orig tampered with as how says (other is what Swapped puts
// in its place); ok is false for Removed.
func Apply(orig, other []byte, how Tamper) (b []byte, ok bool) {
	switch how {
	case Altered:
		b = bytes.Clone(orig)
		b[len(b)/2] ^= 0x20
		return b, true
	case Truncated:
		return orig[:len(orig)/2], true
	case Swapped:
		return other, true
	default:
		return nil, false
	}
}

// TamperLayout changes the blob h of the OCI layout dir in place, as
// someone with write access to the files (not the key) would.
func TamperLayout(dir string, h v1.Hash, how Tamper, other []byte) error {
	p := filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
	orig, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	b, ok := Apply(orig, other, how)
	if !ok {
		return os.Remove(p)
	}
	return os.WriteFile(p, b, 0o644)
}

// TamperProxy serves the registry at upstream (host:port, plain HTTP)
// with the manifest or blob h tampered with, as a compromised registry or
// a man in the middle would (claiming the requested digest); it returns
// its own host:port.
func TamperProxy(t testing.TB, upstream string, h v1.Hash, how Tamper, other []byte) string {
	t.Helper()
	u := &url.URL{Scheme: "http", Host: upstream}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		p := resp.Request.URL.Path
		if resp.StatusCode != http.StatusOK || !strings.HasSuffix(p, "/"+h.String()) ||
			!(strings.Contains(p, "/blobs/") || strings.Contains(p, "/manifests/")) {
			return nil
		}
		if resp.Request.Method == http.MethodHead && how != Removed {
			return nil
		}
		orig, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		b, ok := Apply(orig, other, how)
		if !ok {
			resp.StatusCode, resp.Status = http.StatusNotFound, "404 Not Found"
			b = []byte(`{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}`)
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", fmt.Sprint(len(b)))
		resp.Header.Set("Docker-Content-Digest", h.String())
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
