package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// TestAnnotationSecrets: a token in an annotation of the index, of an
// image manifest, of an index entry, of a referrer or of the layout's
// index.json fails a signed image's verification; the report names the
// rule, the place and the fingerprint, never the token.
func TestAnnotationSecrets(t *testing.T) {
	ctx := context.Background()
	kp, pk := keypair(t, "pass-annotations")
	now := time.Now()
	planted := secretstest.Generate(t)
	token := planted.GitHubToken
	reg := releasetest.Registry(t, true)
	base, err := releasetest.PushSynthetic(ctx, reg+"/base:v1", predicate(now.Add(48*time.Hour)), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// derive pushes base edited to repo, signs it and returns its reference.
	derive := func(t *testing.T, repo string, edit func(img *releasetest.Image)) string {
		img, err := releasetest.Load(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		edit(img)
		ref, err := img.Push(ctx, reg+"/"+repo+":v1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sign.SignRef(ctx, ref, store.RemoteOptions{}, kp, now); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	cases := map[string]string{
		"index": derive(t, "index", func(img *releasetest.Image) {
			img.Index["annotations"] = map[string]any{"org.example.deploy": token}
		}),
		"image manifest": derive(t, "manifest", func(img *releasetest.Image) {
			d := img.ImageDigests()[0]
			var m map[string]any
			if err := json.Unmarshal(img.Manifests[d], &m); err != nil {
				t.Fatal(err)
			}
			m["annotations"] = map[string]any{"org.example.token": token}
			raw, _ := json.Marshal(m)
			for _, e := range img.Index["manifests"].([]any) {
				if e.(map[string]any)["digest"] == d {
					img.SetManifest(e.(map[string]any), raw)
				}
			}
			// The attestation manifest follows its image.
			img.AttestationOf(d)["annotations"].(map[string]any)[sign.AnnotationRefDigest] = digestOfBytes(raw)
		}),
		"index entry": derive(t, "entry", func(img *releasetest.Image) {
			e := img.Index["manifests"].([]any)[0].(map[string]any)
			e["annotations"] = map[string]any{"org.example.note": "deploy with " + token}
		}),
	}
	// A referrer someone attached beside the signatures.
	withReferrer := derive(t, "referrer", func(*releasetest.Image) {})
	st, err := store.OpenRemote(withReferrer, store.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := st.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := sign.ReferrerManifest(root, []byte(`{}`), "https://example.test/note", now)
	if err != nil {
		t.Fatal(err)
	}
	var rm map[string]any
	_ = json.Unmarshal(ref, &rm)
	rm["annotations"].(map[string]any)["org.example.credentials"] = token
	ref, _ = json.Marshal(rm)
	if err := st.PutReferrer(ctx, ref, [][]byte{[]byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	cases["referrer"] = withReferrer

	// An OCI layout whose index.json entry carries the token.
	idx, err := releasetest.Synthetic(predicate(now.Add(48*time.Hour)), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := releasetest.LayoutDir(t, idx)
	l, err := store.OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Sign(ctx, l, kp, now); err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	setEntryAnnotation(t, filepath.Join(dir, "index.json"), d.String(), "org.example.token", token)
	cases["index.json"] = "oci-layout://" + dir

	for name, ref := range cases {
		t.Run(name, func(t *testing.T) {
			rep := releasetest.VerifyRef(t, ref, pk, now)
			got := rep.Failures()[verify.CheckAnnotations]
			if rep.Compliant || len(got) == 0 {
				t.Fatalf("compliant=%v, annotations failures %q (all %v)", rep.Compliant, got, rep.Failures())
			}
			out, _ := json.Marshal(rep)
			secretstest.AssertNoLeak(t, planted, "the report", string(out))
			if !strings.Contains(string(out), "fingerprint") {
				t.Fatalf("the report gives no fingerprint: %s", out)
			}
		})
	}
	t.Run("no secret, no failure", func(t *testing.T) {
		rep := releasetest.VerifyRef(t, base, pk, now)
		if len(rep.Failures()[verify.CheckAnnotations]) != 0 {
			t.Fatalf("an unsigned but clean image fails the annotations check: %v", rep.Failures())
		}
	})
}

func digestOfBytes(b []byte) string {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h.String()
}

// setEntryAnnotation sets an annotation of the index.json entry digest.
func setEntryAnnotation(t *testing.T, file, digest, key, value string) {
	t.Helper()
	dt, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var idx map[string]any
	if err := json.Unmarshal(dt, &idx); err != nil {
		t.Fatal(err)
	}
	for _, e := range idx["manifests"].([]any) {
		if m := e.(map[string]any); m["digest"] == digest {
			ann, _ := m["annotations"].(map[string]any)
			if ann == nil {
				ann = map[string]any{}
			}
			ann[key] = value
			m["annotations"] = ann
		}
	}
	if dt, err = json.Marshal(idx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, dt, 0o644); err != nil {
		t.Fatal(err)
	}
}
