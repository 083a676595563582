package store_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// synthetic is a BuildKit-shaped release index for the tests.
func synthetic(t *testing.T) v1.ImageIndex {
	t.Helper()
	now := time.Now()
	idx, err := releasetest.Synthetic(releasetest.Predicate(now.Add(48*time.Hour)), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// where is one place a release image lives: ref opens it, reopen (after
// the store was written to) reads it again as a later command would.
type where struct {
	name string
	ref  func(t *testing.T, idx v1.ImageIndex) string
}

var places = []where{
	{"registry, referrers API", func(t *testing.T, idx v1.ImageIndex) string { return push(t, releasetest.Registry(t, true), idx) }},
	{"registry, tag fallback", func(t *testing.T, idx v1.ImageIndex) string { return push(t, releasetest.Registry(t, false), idx) }},
	{"layout directory", func(t *testing.T, idx v1.ImageIndex) string { return "oci-layout://" + releasetest.LayoutDir(t, idx) }},
	{"layout tarball", func(t *testing.T, idx v1.ImageIndex) string {
		return "oci-archive://" + releasetest.ArchiveFile(t, releasetest.LayoutDir(t, idx))
	}},
}

func push(t *testing.T, reg string, idx v1.ImageIndex) string {
	t.Helper()
	tag, err := name.NewTag(reg + "/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(tag, idx); err != nil {
		t.Fatal(err)
	}
	return tag.String()
}

// open opens ref and closes it (removing an unpacked tarball) when the
// test ends; a tarball written to is saved first.
func open(t *testing.T, ref string) store.Store {
	t.Helper()
	st, err := store.Open(ref, store.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := st.(io.Closer); ok {
		t.Cleanup(func() { c.Close() })
	}
	return st
}

// TestStoreReadsBackWhatWasWritten: every kind of store resolves the
// image to the digest written, returns its manifests byte for byte, and
// lists a referrer added to it when opened again.
func TestStoreReadsBackWhatWasWritten(t *testing.T) {
	ctx := context.Background()
	for _, w := range places {
		t.Run(w.name, func(t *testing.T) {
			idx := synthetic(t)
			want, err := idx.Digest()
			if err != nil {
				t.Fatal(err)
			}
			wantRaw, err := idx.RawManifest()
			if err != nil {
				t.Fatal(err)
			}
			ref := w.ref(t, idx)
			st := open(t, ref)
			root, err := st.Root(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if root.Digest != want || !store.IsIndex(root.MediaType) {
				t.Fatalf("Root = %s %s, want the index %s", root.MediaType, root.Digest, want)
			}
			raw, _, err := st.Manifest(ctx, root.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, wantRaw) {
				t.Fatalf("Manifest(root) is not the index written:\n%s\nwant:\n%s", raw, wantRaw)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range im.Manifests {
				if _, _, err := st.Manifest(ctx, d.Digest); err != nil {
					t.Errorf("Manifest(%s): %v", d.Digest, err)
				}
			}

			referrer, err := sign.ReferrerManifest(root, []byte(`{"bundle":1}`), sign.PredicateType, time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.PutReferrer(ctx, referrer, [][]byte{[]byte("{}"), []byte(`{"bundle":1}`)}); err != nil {
				t.Fatal(err)
			}
			if a, ok := st.(*store.Archive); ok {
				if err := a.Save(); err != nil {
					t.Fatal(err)
				}
			}
			again := open(t, ref)
			refs, err := again.Referrers(ctx, root.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 1 {
				t.Fatalf("Referrers after reopening = %+v, want the one bundle referrer", refs)
			}
			back, _, err := again.Manifest(ctx, refs[0].Digest)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, referrer) {
				t.Fatal("the referrer read back differs from the one written")
			}
			if got, err := again.Root(ctx); err != nil || got.Digest != want {
				t.Fatalf("Root after adding a referrer = %v, %v; want %s (a referrer is not the image)", got.Digest, err, want)
			}
		})
	}
}

// TestTamperedBlobRefused: a blob whose bytes do not hash to its digest
// is refused, whether a file on disk or a registry serves it.
func TestTamperedBlobRefused(t *testing.T) {
	ctx := context.Background()
	idx := synthetic(t)
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	target := im.Manifests[0].Digest

	t.Run("layout directory", func(t *testing.T) {
		dir := releasetest.LayoutDir(t, idx)
		if err := os.WriteFile(filepath.Join(dir, "blobs", target.Algorithm, target.Hex), []byte(`{"tampered":true}`), 0o644); err != nil {
			t.Fatal(err)
		}
		st := open(t, "oci-layout://"+dir)
		if _, _, err := st.Manifest(ctx, target); err == nil || !strings.Contains(err.Error(), "hashes to") {
			t.Fatalf("Manifest of a tampered blob: err = %v, want a digest mismatch", err)
		}
	})
	t.Run("registry", func(t *testing.T) {
		reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/manifests/"+target.String()) {
				w.Header().Set("Content-Type", string(im.Manifests[0].MediaType))
				w.Header().Set("Docker-Content-Digest", target.String())
				_, _ = w.Write([]byte(`{"tampered":true}`))
				return
			}
			reg.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		ref := push(t, strings.TrimPrefix(srv.URL, "http://"), idx)
		st := open(t, ref)
		if _, _, err := st.Manifest(ctx, target); err == nil {
			t.Fatal("Manifest of a tampered manifest succeeded")
		}
	})
}
