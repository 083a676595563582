package vsa_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/policy/strictyaml/schematest"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/releasepolicy"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
	"github.com/hardenkit/hardenkit/pkg/release/vsa"
)

// TestSummaryValidatesAndAttaches: the summary of a passing and of a
// failing verification validates against the VSA v1 schema, names the
// image digest, the policy and every input attestation; attached, it is a
// signed referrer the image still verifies with.
func TestSummaryValidatesAndAttaches(t *testing.T) {
	ctx := context.Background()
	kp, pk, _ := releasetest.Keys(t, "pass-vsa")
	now := time.Now()
	idx, err := releasetest.Synthetic(releasetest.Predicate(now.Add(48*time.Hour)), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := releasetest.LayoutDir(t, idx)
	schema := schematest.Compile(t, "testdata/vsa-v1.schema.json")
	unsigned := releasetest.VerifyRef(t, "oci-layout://"+dir, pk, now)
	st, err := store.OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Sign(ctx, st, kp, now); err != nil {
		t.Fatal(err)
	}
	signed := releasetest.VerifyRef(t, "oci-layout://"+dir, pk, now)
	for _, tc := range []struct {
		rep    *verify.Report
		result string
		inputs bool
	}{{signed, vsa.Passed, true}, {unsigned, vsa.Failed, false}} {
		b, err := vsa.Summarize(tc.rep, vsa.Options{Version: "test", PolicyURI: "file:///release.yaml", PolicyDigest: "sha256:" + string(bytes.Repeat([]byte("ab"), 32)), Time: now})
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(schematest.Instance(t, b)); err != nil {
			t.Fatalf("the %s summary does not validate: %v\n%s", tc.result, err, b)
		}
		var s vsa.Statement
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		// The schema is not vacuous: a result outside PASSED/FAILED fails it.
		if err := schema.Validate(schematest.Instance(t, bytes.Replace(b, []byte(`"verificationResult":"`+tc.result), []byte(`"verificationResult":"OK`), 1))); err == nil {
			t.Fatal("the schema accepts verificationResult OK")
		}
		if s.Predicate.VerificationResult != tc.result || "sha256:"+s.Subject[0].Digest["sha256"] != tc.rep.Digest {
			t.Fatalf("summary says %s about %v, want %s about %s", s.Predicate.VerificationResult, s.Subject, tc.result, tc.rep.Digest)
		}
		if got := len(s.Predicate.InputAttestations); (got >= 6) != tc.inputs {
			t.Fatalf("%d input attestations recorded for a %s verification", got, tc.result)
		}
	}
	b, err := vsa.Summarize(signed, vsa.Options{Version: "test", Time: now})
	if err != nil {
		t.Fatal(err)
	}
	root, err := st.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vsa.Attach(ctx, st, root, b, kp, now); err != nil {
		t.Fatal(err)
	}
	refs, err := st.Referrers(ctx, root.Digest)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range refs {
		found = found || r.Annotations[sign.AnnotationPredicateType] == vsa.PredicateType
	}
	if !found {
		t.Fatalf("no VSA referrer of %s among %v", root.Digest, refs)
	}
	if rep := releasetest.VerifyRef(t, "oci-layout://"+dir, pk, now); !rep.Compliant {
		t.Fatalf("the image with its summary attached does not verify: %v", rep.Failures())
	}
}

// TestPolicyRequiresSummary: a release policy with verificationSummary
// rejects an image without a summary, one whose summary FAILED or was
// signed by another key, and accepts one a first gate attested.
func TestPolicyRequiresSummary(t *testing.T) {
	ctx := context.Background()
	kp, pk, _ := releasetest.Keys(t, "pass-chain")
	other, _, _ := releasetest.Keys(t, "pass-chain-other")
	now := time.Now()
	rp, err := releasepolicy.Parse("chain.yaml", []byte("apiVersion: hardenkit.dev/v1alpha1\nkind: ReleasePolicy\nverificationSummary:\n  verifierId: "+vsa.VerifierID+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	gate := func(t *testing.T, dir string) *verify.Report {
		st, err := store.OpenLayout(dir)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Verify(ctx, st, verify.Options{Key: pk, Policy: rp, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for _, tc := range []struct {
		name   string
		signer *keys.Keypair
		passed bool
		want   bool
	}{{"no summary", nil, false, false}, {"failed summary", kp, false, false}, {"summary by another key", other, true, false}, {"attested by the first gate", kp, true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := releasetest.Synthetic(releasetest.Predicate(now.Add(48*time.Hour)), now.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			dir := releasetest.LayoutDir(t, idx)
			st, err := store.OpenLayout(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sign.Sign(ctx, st, kp, now); err != nil {
				t.Fatal(err)
			}
			first := releasetest.VerifyRef(t, "oci-layout://"+dir, pk, now)
			first.Compliant = tc.passed
			if tc.signer != nil {
				b, err := vsa.Summarize(first, vsa.Options{Version: "test", Time: now})
				if err != nil {
					t.Fatal(err)
				}
				root, err := st.Root(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := vsa.Attach(ctx, st, root, b, tc.signer, now); err != nil {
					t.Fatal(err)
				}
			}
			rep := gate(t, dir)
			if rep.Compliant != tc.want {
				t.Fatalf("compliant = %v, want %v: %v", rep.Compliant, tc.want, rep.Failures())
			}
			if !tc.want && len(rep.Failures()[verify.CheckVerificationSummary]) == 0 {
				t.Fatalf("rejected, but not by the summary check: %v", rep.Failures())
			}
		})
	}
}
