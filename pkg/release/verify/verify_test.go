package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/sigstore/cosign/v3/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	sigsig "github.com/sigstore/sigstore/pkg/signature"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/releasepolicy"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// The fixtures of releasetest, under the names these tests use.
var (
	keypairFiles = releasetest.Keys
	predicate    = releasetest.Predicate
)

func keypair(t *testing.T, pass string) (*keys.Keypair, *keys.PublicKey) {
	t.Helper()
	kp, pk, _ := releasetest.Keys(t, pass)
	return kp, pk
}

// TestTamperMatrix signs a synthetic BuildKit-shaped image and checks that
// verify accepts it and rejects each tampered copy with the precise
// reason, on a registry with and without the referrers API.
func TestTamperMatrix(t *testing.T) {
	for _, referrersAPI := range []bool{false, true} {
		t.Run(map[bool]string{false: "tag-fallback", true: "referrers-api"}[referrersAPI], func(t *testing.T) {
			tamperMatrix(t, referrersAPI)
		})
	}
}

func tamperMatrix(t *testing.T, referrersAPI bool) {
	ctx := context.Background()
	reg := releasetest.Registry(t, referrersAPI)

	kp, pk, pubFile := keypairFiles(t, "pass-1")
	other, _ := keypair(t, "pass-2")
	now := time.Now()
	expires := now.Add(48 * time.Hour)

	push := func(repo string, pred compliance.Predicate) string {
		ref, err := releasetest.PushSynthetic(ctx, reg+"/"+repo+":v1", pred, now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	signRef := func(ref string, k *keys.Keypair) {
		st, err := store.OpenRemote(ref, store.RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		signed, err := sign.Sign(ctx, st, k, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(signed) != 3 {
			t.Fatalf("signed %d manifests, want index + image + attestation", len(signed))
		}
	}
	clean := push("app", predicate(expires))
	signRef(clean, kp)
	other2 := push("other", predicate(expires))
	signRef(other2, kp)

	derive := func(repo string, edit func(img *releasetest.Image) error) string {
		img, err := releasetest.Load(ctx, clean)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			if err := edit(img); err != nil {
				t.Fatal(err)
			}
		}
		ref, err := img.Push(ctx, reg+"/"+repo+":v1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := releasetest.CopySignatures(ctx, clean, ref); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	root, children, err := releasetest.Descriptors(ctx, clean)
	if err != nil {
		t.Fatal(err)
	}
	imgDesc, attDesc := children[0], children[1]

	unsigned := push("unsigned", predicate(expires))
	otherKey := push("otherkey", predicate(expires))
	signRef(otherKey, other)
	// A signature by the key over another digest, stored as the image's.
	wrongDigest := push("wrongdigest", predicate(expires))
	{
		r, ch, err := releasetest.Descriptors(ctx, wrongDigest)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range append([]v1.Descriptor{r}, ch...) {
			if err := releasetest.SignAs(ctx, wrongDigest, d, imgDesc.Digest, sign.PredicateType, kp); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Only an SPDX attestation signed by the key: cosign verify --key
	// would accept it.
	spdxOnly := push("spdxonly", predicate(expires))
	{
		r, ch, err := releasetest.Descriptors(ctx, spdxOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range append([]v1.Descriptor{r}, ch...) {
			if err := releasetest.SignAs(ctx, spdxOnly, d, d.Digest, intoto.PredicateSPDX, kp); err != nil {
				t.Fatal(err)
			}
		}
	}
	swapped := derive("swapped", func(img *releasetest.Image) error {
		o, err := releasetest.Load(ctx, other2)
		if err != nil {
			return err
		}
		e := img.AttestationOf(imgDesc.Digest.String())
		oe := o.AttestationOf(o.ImageDigests()[0])
		img.SetManifest(e, o.Manifests[oe["digest"].(string)])
		for k, v := range o.Blobs {
			img.Blobs[k] = v
		}
		return nil
	})
	if _, err := releasetest.CopySignatures(ctx, other2, swapped); err != nil {
		t.Fatal(err)
	}
	edited := derive("edited", func(img *releasetest.Image) error {
		return img.EditStatement(compliance.PredicateType, func(st map[string]any) error {
			st["predicate"].(map[string]any)["mode"] = "enforce"
			st["predicate"].(map[string]any)["policy"].(map[string]any)["name"] = "edited"
			return nil
		})
	})
	noSBOM := derive("nosbom", func(img *releasetest.Image) error {
		return img.RemoveStatement(intoto.PredicateSPDX)
	})
	otherSBOM := derive("othersbom", func(img *releasetest.Image) error {
		return img.EditStatement(intoto.PredicateSPDX, func(st map[string]any) error {
			st["predicate"].(map[string]any)["name"] = "another SBOM"
			return nil
		})
	})
	failing := predicate(expires)
	failing.Rules = append(failing.Rules, compliance.Rule{ID: "HK3001", Result: compliance.ResultWarn, Findings: []compliance.Finding{{Level: rules.LevelWarn, Message: "m"}}})
	warned := push("warned", failing)
	signRef(warned, kp)
	off := predicate(expires)
	off.Mode = options.ModeOff
	modeOff := push("modeoff", off)
	signRef(modeOff, kp)
	novuln := predicate(expires)
	novuln.Vulnerabilities = compliance.Vulnerabilities{Status: compliance.VulnNotEvaluated, Reason: "no vulnerability database", FailOn: rules.SeverityHigh}
	noVulnDB := push("novulndb", novuln)
	signRef(noVulnDB, kp)

	allowWarn := &releasepolicy.Policy{Allow: releasepolicy.Allow{Warn: []string{"HK3001"}}}
	otherPolicy := &releasepolicy.Policy{PolicyDigests: []string{"sha256:2222222222222222222222222222222222222222222222222222222222222222"}}
	builder := &releasepolicy.Policy{Provenance: releasepolicy.Provenance{BuilderID: "https://ci.example/builder"}}
	young := &releasepolicy.Policy{Provenance: releasepolicy.Provenance{MaxAge: "30m"}}

	cases := []struct {
		name   string
		ref    string
		policy *releasepolicy.Policy
		at     time.Time
		check  string // the failing check; "" = compliant
		reason string
	}{
		{"clean", clean, nil, now, "", ""},
		{"clean, warn allowed", warned, allowWarn, now, "", ""},
		{"unsigned", unsigned, nil, now, verify.CheckImageSignature, "is not signed"},
		{"signed by another key", otherKey, nil, now, verify.CheckImageSignature, "not a valid signature by the trusted key"},
		{"signature over another digest", wrongDigest, nil, now, verify.CheckImageSignature, "not a valid signature by the trusted key"},
		{"only an SPDX attestation signed", spdxOnly, nil, now, verify.CheckImageSignature, "over a https://spdx.dev/Document statement, not an image signature"},
		{"attestation manifest swapped in", swapped, nil, now, verify.CheckAttestations, "is about another image"},
		{"compliance edited after signing", edited, nil, now, verify.CheckAttestationSignature, "is not signed"},
		{"SBOM layer removed", noSBOM, nil, now, verify.CheckAttestations, "no SPDX SBOM statement"},
		{"SBOM replaced", otherSBOM, nil, now, verify.CheckAttestations, "the SBOM was replaced"},
		{"rule warn refused", warned, nil, now, verify.CheckCompliance, "rule HK3001: warn"},
		{"exception expired after the build", clean, nil, expires.Add(time.Hour), verify.CheckCompliance, "exception EX-1 (rule HK2001) expired"},
		{"policy digest not accepted", clean, otherPolicy, now, verify.CheckCompliance, "which the release policy does not accept"},
		{"mode off", modeOff, nil, now, verify.CheckCompliance, `mode "off"`},
		{"vulnerabilities not evaluated", noVulnDB, nil, now, verify.CheckCompliance, "vulnerabilities not-evaluated"},
		{"builder id", clean, builder, now, verify.CheckProvenance, `builder id is "https://example.test/builder"`},
		{"too old", clean, young, now, verify.CheckProvenance, "older than the release policy's maxAge 30m"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := store.OpenRemote(tc.ref, store.RemoteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pol := tc.policy
			if pol == nil {
				pol = releasepolicy.Default()
			}
			rep, err := verify.Verify(ctx, st, verify.Options{Key: pk, Policy: pol, Now: tc.at})
			if err != nil {
				t.Fatal(err)
			}
			failed := rep.Failures()
			if tc.check == "" {
				if !rep.Compliant {
					t.Fatalf("not compliant: %v", failed)
				}
				return
			}
			if rep.Compliant {
				t.Fatalf("compliant, want %s to fail with %q", tc.check, tc.reason)
			}
			if !strings.Contains(strings.Join(failed[tc.check], "\n"), tc.reason) {
				t.Fatalf("check %s reasons do not contain %q; failures: %v", tc.check, tc.reason, failed)
			}
		})
	}

	// cosign's own `verify --key --insecure-ignore-tlog` accepts what we
	// signed — the index, the image and the attestation manifest — and
	// rejects a signature by another key. It also accepts the SPDX-only
	// bundle, which is why verify checks the predicate type itself.
	t.Run("cosign verify", func(t *testing.T) {
		repo := strings.Split(clean, "@")[0]
		pub, err := os.ReadFile(pubFile)
		if err != nil {
			t.Fatal(err)
		}
		// cosign's key loading (pkg/signature.LoadPublicKeyRaw) is this.
		pubKey, err := cryptoutils.UnmarshalPEMToPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		sv, err := sigsig.LoadVerifier(pubKey, crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		// The options `cosign verify --key K --insecure-ignore-tlog` sets
		// for new-format bundles (cmd/cosign/cli/verify.VerifyCommand.Exec).
		cosignVerify := func(ref string) error {
			r, err := name.ParseReference(ref)
			if err != nil {
				return err
			}
			co := &cosign.CheckOpts{SigVerifier: sv, IgnoreTlog: true, NewBundleFormat: true, ClaimVerifier: cosign.IntotoSubjectClaimVerifier}
			_, verified, err := cosign.VerifyImageAttestations(ctx, r, co)
			if err == nil && !verified {
				err = errors.New("no bundle verified")
			}
			return err
		}
		for _, d := range []v1.Hash{root.Digest, imgDesc.Digest, attDesc.Digest} {
			if err := cosignVerify(repo + "@" + d.String()); err != nil {
				t.Errorf("cosign verify %s: %v", d, err)
			}
		}
		if err := cosignVerify(otherKey); err == nil {
			t.Error("cosign verify accepted a signature by another key")
		}
		if err := cosignVerify(spdxOnly); err != nil {
			t.Errorf("cosign verify of the SPDX-only image: %v (expected cosign to accept it)", err)
		}
	})
}

// TestOfflineLayoutAndArchive signs and verifies an OCI layout directory
// and an OCI layout tarball, with no registry.
func TestOfflineLayoutAndArchive(t *testing.T) {
	ctx := context.Background()
	kp, pk := keypair(t, "pass-offline")
	now := time.Now()
	idx, err := releasetest.Synthetic(predicate(now.Add(48*time.Hour)), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := releasetest.LayoutDir(t, idx)
	tarball := releasetest.ArchiveFile(t, dir)

	check := func(t *testing.T, ref string, wantCompliant bool) {
		t.Helper()
		rep := releasetest.VerifyRef(t, ref, pk, now)
		if rep.Compliant != wantCompliant {
			t.Fatalf("%s: compliant = %v, want %v; failures %v", ref, rep.Compliant, wantCompliant, rep.Failures())
		}
		if !wantCompliant && len(rep.Failures()[verify.CheckImageSignature]) == 0 {
			t.Fatalf("%s: unsigned, but image-signature did not fail: %v", ref, rep.Failures())
		}
	}
	t.Run("unsigned layout", func(t *testing.T) { check(t, "oci-layout://"+dir, false) })
	t.Run("signed layout", func(t *testing.T) {
		st, err := store.OpenLayout(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sign.Sign(ctx, st, kp, now); err != nil {
			t.Fatal(err)
		}
		check(t, "oci-layout://"+dir, true)
	})
	t.Run("archive signed in place", func(t *testing.T) {
		check(t, "oci-archive://"+tarball, false)
		a, err := store.OpenArchive(tarball)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sign.Sign(ctx, a, kp, now); err != nil {
			t.Fatal(err)
		}
		if err := a.Save(); err != nil {
			t.Fatal(err)
		}
		a.Close()
		check(t, "oci-archive://"+tarball, true)
	})
}

// TestSBOMDigestOfEmbeddedPredicate: hardenkit hashes the SPDX document it
// writes (no HTML escaping, trailing newline); BuildKit embeds it with
// encoding/json. The digest must survive that, and only that.
func TestSBOMDigestOfEmbeddedPredicate(t *testing.T) {
	doc := []byte(`{"name":"a<b>&c","comment":"\\u003c stays","x":"\u2028"}` + "\n")
	st, err := json.Marshal(map[string]any{"predicate": json.RawMessage(doc)})
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(st, &back); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(back.Predicate, doc) {
		t.Fatal("encoding/json left the predicate unchanged; the test does not exercise the escaping")
	}
	want := compliance.SBOMOf(doc).Digest
	if !slices.Contains(verify.PredicateDigests(back.Predicate), want) {
		t.Fatalf("digest of the embedded predicate does not match the document's %s", want)
	}
	other := compliance.SBOMOf([]byte(`{"name":"a<b>&d"}` + "\n")).Digest
	if slices.Contains(verify.PredicateDigests(back.Predicate), other) {
		t.Fatal("another document's digest matches")
	}
}
