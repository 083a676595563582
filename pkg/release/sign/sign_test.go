package sign_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// verified reports whether ref verifies with pk, and the failures if not.
func verified(t *testing.T, ref string, pk *keys.PublicKey, now time.Time) (bool, map[string][]string) {
	t.Helper()
	rep := releasetest.VerifyRef(t, ref, pk, now)
	return rep.Compliant, rep.Failures()
}

// TestSignRef signs a release image where a user keeps one — a registry,
// a layout directory, a layout tarball (rewritten in place) — and checks
// that it then verifies with the signer's public key and only with it.
func TestSignRef(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	kp, pk, _ := releasetest.Keys(t, "pass-sign")
	_, otherPK, _ := releasetest.Keys(t, "pass-other")
	idx, err := releasetest.Synthetic(releasetest.Predicate(now.Add(48*time.Hour)), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]func(t *testing.T) string{
		"registry": func(t *testing.T) string {
			tag, err := name.NewTag(releasetest.Registry(t, false) + "/app:v1")
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.WriteIndex(tag, idx); err != nil {
				t.Fatal(err)
			}
			return tag.String()
		},
		"layout directory": func(t *testing.T) string { return "oci-layout://" + releasetest.LayoutDir(t, idx) },
		"layout tarball": func(t *testing.T) string {
			return "oci-archive://" + releasetest.ArchiveFile(t, releasetest.LayoutDir(t, idx))
		},
	}
	for where, mk := range refs {
		t.Run(where, func(t *testing.T) {
			ref := mk(t)
			if ok, _ := verified(t, ref, pk, now); ok {
				t.Fatal("the unsigned image verifies")
			}
			signed, err := sign.SignRef(ctx, ref, store.RemoteOptions{}, kp, now)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for _, s := range signed {
				kinds[s.Kind]++
				if s.Kind != "index" && s.Platform != "linux/amd64" {
					t.Errorf("%s %s: platform %q, want linux/amd64", s.Kind, s.Digest, s.Platform)
				}
			}
			if kinds["index"] != 1 || kinds["image"] != 1 || kinds["attestation"] != 1 {
				t.Fatalf("signed %v, want the index, the image and its attestation manifest", kinds)
			}
			want, err := idx.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if signed[0].Digest != want {
				t.Errorf("first signed %s, want the index %s", signed[0].Digest, want)
			}
			if ok, failures := verified(t, ref, pk, now); !ok {
				t.Fatalf("the signed image does not verify: %v", failures)
			}
			if ok, _ := verified(t, ref, otherPK, now); ok {
				t.Fatal("the signed image verifies with another key")
			}
		})
	}
}

// TestStatementNamesTheManifest: the signed statement is cosign's image
// signature over exactly the manifest digest.
func TestStatementNamesTheManifest(t *testing.T) {
	h, err := v1.NewHash("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	payload, err := sign.Statement(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{sign.PredicateType, h.Hex} {
		if !strings.Contains(string(payload), want) {
			t.Errorf("statement %s does not contain %q", payload, want)
		}
	}
}
