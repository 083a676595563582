// Control: verification-summary (check "verification-summary", only when
// the release policy has verificationSummary; exit 1 when it fails).
//
// A promotion chain (build → staging → prod) is only as strong as its
// first gate if a later gate can ask for the earlier verdict: the image
// must carry a SLSA verification summary (VSA v1) about its digest,
// signed by the trusted key, that PASSED, from the verifier and under a
// release policy the release policy names. SLSA v1.0 "verification
// summary"; CIS Software Supply Chain Security Guide 5.x (verify
// artifacts before deployment).
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// CheckVerificationSummary is the check for an earlier gate's summary.
const CheckVerificationSummary = "verification-summary"

// PredicateVSA is the SLSA verification summary v1 predicate type.
const PredicateVSA = "https://slsa.dev/verification_summary/v1"

// summaryFacts are what the check reads from a summary.
type summaryFacts struct {
	Verifier struct {
		ID string `json:"id"`
	} `json:"verifier"`
	Policy struct {
		Digest map[string]string `json:"digest"`
	} `json:"policy"`
	VerificationResult string `json:"verificationResult"`
}

// summary checks the referrers of root for a summary the policy accepts.
func (v *verifier) summary(ctx context.Context, root v1.Hash) (Check, error) {
	c := Check{Name: CheckVerificationSummary}
	want := v.o.Policy.VerificationSummary
	refs, err := v.referrers(ctx, root)
	if err != nil {
		return c, err
	}
	for _, r := range refs {
		if r.Annotations[sign.AnnotationPredicateType] != "" && r.Annotations[sign.AnnotationPredicateType] != PredicateVSA {
			continue
		}
		st, err := v.verifiedStatement(ctx, r.Digest, root)
		switch {
		case errors.Is(err, store.ErrUnreachable):
			return c, err
		case errors.Is(err, errNotBundle):
			continue
		case err != nil:
			if r.Annotations[sign.AnnotationPredicateType] == PredicateVSA {
				c.Reasons = append(c.Reasons, fmt.Sprintf("summary %s: %v", r.Digest, err))
			}
			continue
		case st.GetPredicateType() != PredicateVSA:
			continue
		}
		raw, err := protojson.Marshal(st.GetPredicate())
		var f summaryFacts
		if err == nil {
			err = json.Unmarshal(raw, &f)
		}
		switch {
		case err != nil:
			c.Reasons = append(c.Reasons, fmt.Sprintf("summary %s does not parse: %v", r.Digest, err))
		case f.VerificationResult != "PASSED":
			c.Reasons = append(c.Reasons, fmt.Sprintf("summary %s says %s", r.Digest, f.VerificationResult))
		case want.VerifierID != "" && f.Verifier.ID != want.VerifierID:
			c.Reasons = append(c.Reasons, fmt.Sprintf("summary %s is by verifier %q, the release policy requires %q", r.Digest, f.Verifier.ID, want.VerifierID))
		case len(want.PolicyDigests) > 0 && !slices.Contains(want.PolicyDigests, "sha256:"+f.Policy.Digest["sha256"]):
			c.Reasons = append(c.Reasons, fmt.Sprintf("summary %s applied release policy sha256:%s, which the release policy does not accept", r.Digest, f.Policy.Digest["sha256"]))
		default:
			c.OK, c.Reasons = true, nil
			c.Detail = fmt.Sprintf("PASSED by %s (summary %s)", f.Verifier.ID, r.Digest)
			return c, nil
		}
	}
	if len(c.Reasons) == 0 {
		c.Reasons = []string{fmt.Sprintf("no verification summary signed by the key refers to %s: the release policy requires one from an earlier gate", root)}
	}
	return c, nil
}
