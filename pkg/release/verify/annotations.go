// Control: annotations (check "annotations", exit 1 when it fails).
//
// The annotations of the image index, of every manifest it reaches, of
// every descriptor listing one, of every referrer and of any other entry
// of an OCI layout's index.json are scanned with the one secret detector
// (frontend/secrets, through pkg/release/annotations) and reported with
// its redaction: rule id, place and key, fingerprint. Exporter
// annotations (`--output …,annotation.KEY=…`) never reach the frontend,
// so the gate is the first check that reads them; a token there is a
// secret shipped with a signed image. CIS Docker Benchmark 4.10.
package verify

import (
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/pkg/release/annotations"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// CheckAnnotations is the check that no annotation carries a secret.
const CheckAnnotations = "annotations"

// annotated is one set of annotations the walk met, and what carries it.
type annotated struct {
	place string
	ann   map[string]string
}

// noteManifest records the annotations of manifest h and of the
// descriptors it lists.
func (w *integrityWalk) noteManifest(h v1.Hash, m *store.Manifest) {
	w.note("manifest "+h.String(), m.Annotations)
	for _, d := range append(append(m.Manifests, m.Layers...), derefs(m.Config, m.Subject)...) {
		w.note(fmt.Sprintf("descriptor of %s in manifest %s", d.Digest, h), d.Annotations)
	}
}

func derefs(ds ...*v1.Descriptor) []v1.Descriptor {
	var out []v1.Descriptor
	for _, d := range ds {
		if d != nil {
			out = append(out, *d)
		}
	}
	return out
}

func (w *integrityWalk) note(place string, ann map[string]string) {
	if len(ann) > 0 {
		w.annotations = append(w.annotations, annotated{place: place, ann: ann})
	}
}

// annotationsCheck scans every annotation the integrity walk met.
func (v *verifier) annotationsCheck(ctx context.Context, found []annotated) (Check, error) {
	c := Check{Name: CheckAnnotations}
	sc := v.o.Secrets
	if sc == nil {
		var err error
		if sc, err = secrets.New(secrets.Options{}); err != nil {
			return c, fmt.Errorf("secret detector: %w", err)
		}
	}
	n := 0
	for _, a := range found {
		n += len(a.ann)
		for _, f := range annotations.Scan(sc, a.place, a.ann) {
			key := strings.TrimPrefix(f.Where, annotations.WhereAnnotation+a.place+":")
			c.Reasons = append(c.Reasons, fmt.Sprintf("a secret (%s) in annotation %s of %s (fingerprint %s)", f.Rule, key, a.place, f.Fingerprint))
		}
	}
	c.OK = len(c.Reasons) == 0
	if c.OK {
		c.Detail = fmt.Sprintf("%d annotations on %d manifests and descriptors, no secret", n, len(found))
	}
	return c, ctx.Err()
}
