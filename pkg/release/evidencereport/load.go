package evidencereport

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/ocilayout"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/releasepolicy"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// LoadOptions configure Load.
type LoadOptions struct {
	// Key, when set, runs the release gate (verify) with it and Policy,
	// and the page shows its verdict.
	Key *keys.PublicKey
	// Policy is the release policy (releasepolicy.Default when the
	// caller has none); used only with Key.
	Policy *releasepolicy.Policy
	// Plain, when set, is the same Dockerfile built with
	// HARDENKIT_MODE=off: its size is the "before" of the chart. The
	// evidence does not record it, since the hardened build never
	// exports the plain image.
	Plain store.Store
	// Now is the time exceptions are judged at; zero means time.Now.
	Now time.Time
}

// Load reads the evidence of the image st holds.
func Load(ctx context.Context, st store.Store, o LoadOptions) (*Report, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	root, err := st.Root(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", st.Name(), err)
	}
	rep := &Report{Image: st.Name(), Digest: root.Digest.String(), Now: o.Now.UTC()}
	targets, err := imageTargets(ctx, st, root)
	if err != nil {
		return nil, err
	}
	plain := map[string]int64{}
	if o.Plain != nil {
		if plain, err = platformSizes(ctx, o.Plain); err != nil {
			return nil, fmt.Errorf("the plain image %s: %w", o.Plain.Name(), err)
		}
	}
	for _, t := range targets {
		p, err := loadPlatform(ctx, st, t)
		if err != nil {
			return nil, err
		}
		p.PlainSize = plain[p.Platform]
		if p.PlainSize == 0 && len(plain) == 1 && len(targets) == 1 {
			for _, s := range plain {
				p.PlainSize = s
			}
		}
		rep.Platforms = append(rep.Platforms, p)
	}
	if rep.Signatures, err = countSignatures(ctx, st, root.Digest); err != nil {
		return nil, err
	}
	if o.Key != nil {
		rep.Release, err = verify.VerifyDigest(ctx, st, root, verify.Options{Key: o.Key, Policy: o.Policy, Now: o.Now})
		if err != nil {
			return nil, fmt.Errorf("release gate: %w", err)
		}
	}
	rep.Verdict, rep.Why = verdict(rep)
	return rep, nil
}

// target is one platform's image manifest and its attestation manifest.
type target struct {
	image       v1.Descriptor
	platform    string
	attestation *v1.Descriptor
}

// imageTargets lists the image manifests root names, each with the
// attestation manifest BuildKit wrote for it.
func imageTargets(ctx context.Context, st store.Store, root v1.Descriptor) ([]target, error) {
	if !store.IsIndex(root.MediaType) {
		return []target{{image: root}}, nil
	}
	raw, _, err := st.Manifest(ctx, root.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading index %s: %w", root.Digest, err)
	}
	idx, err := store.ParseManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", root.Digest, err)
	}
	atts := map[string]v1.Descriptor{}
	for _, d := range idx.Manifests {
		if d.Annotations[sign.AnnotationRefType] == sign.RefTypeAttestation {
			atts[d.Annotations[sign.AnnotationRefDigest]] = d
		}
	}
	var out []target
	for _, d := range idx.Manifests {
		if d.Annotations[sign.AnnotationRefType] == sign.RefTypeAttestation {
			continue
		}
		t := target{image: d}
		if d.Platform != nil {
			t.platform = d.Platform.String()
		}
		if a, ok := atts[d.Digest.String()]; ok {
			t.attestation = &a
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("index %s lists no image manifest", root.Digest)
	}
	return out, nil
}

// imageSize is the size of an image as pulled: its config and its
// (compressed) layers.
func imageSize(ctx context.Context, st store.Store, d v1.Hash) (int64, error) {
	raw, _, err := st.Manifest(ctx, d)
	if err != nil {
		return 0, fmt.Errorf("reading manifest %s: %w", d, err)
	}
	m, err := store.ParseManifest(raw)
	if err != nil {
		return 0, err
	}
	var n int64
	if m.Config != nil {
		n += m.Config.Size
	}
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}

// platformSizes maps each platform of the image st holds to its size.
func platformSizes(ctx context.Context, st store.Store) (map[string]int64, error) {
	root, err := st.Root(ctx)
	if err != nil {
		return nil, err
	}
	targets, err := imageTargets(ctx, st, root)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, t := range targets {
		if out[t.platform], err = imageSize(ctx, st, t.image.Digest); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func loadPlatform(ctx context.Context, st store.Store, t target) (Platform, error) {
	p := Platform{Platform: t.platform, Digest: t.image.Digest.String()}
	var err error
	if p.Size, err = imageSize(ctx, st, t.image.Digest); err != nil {
		return p, err
	}
	if t.attestation == nil {
		return p, nil
	}
	stmts, err := statements(ctx, st, t.attestation.Digest)
	if err != nil {
		return p, err
	}
	if raw, ok := stmts[compliance.PredicateType]; ok {
		var c compliance.Predicate
		if err := json.Unmarshal(raw, &c); err != nil {
			return p, fmt.Errorf("compliance statement of %s: %w", p.Digest, err)
		}
		p.Compliance = &c
		p.Families = families(c.Rules)
		p.CIS = cisTable(c.Rules)
		p.Removed = removed(c.Distroless)
		p.Rebuild = Rebuild{SourceDateEpoch: c.SourceDateEpoch, Policy: c.Policy.Name, PolicyDigest: c.Policy.Digest, BaseImages: c.BaseImages}
		p.SBOM.Digest = c.SBOM.Digest
	}
	if raw, ok := stmts[verify.PredicateSPDX]; ok {
		if err := summariseSPDX(raw, &p.SBOM); err != nil {
			return p, fmt.Errorf("SPDX SBOM of %s: %w", p.Digest, err)
		}
	}
	provenance(stmts, &p.Rebuild)
	if c := p.Compliance; c != nil && p.Rebuild.Frontend == "" {
		// hardenkit build runs the frontend in-process: the provenance
		// names no frontend, the compliance statement names hardenkit.
		p.Rebuild.Frontend = "hardenkit " + c.Hardenkit.Version + " in-process (hardenkit build)"
		if c.Hardenkit.FrontendDigest != "" {
			p.Rebuild.Frontend = "hardenkit frontend image " + c.Hardenkit.FrontendDigest
		}
	}
	return p, nil
}

// statements reads the predicates of the attestation manifest att, by
// predicate type.
func statements(ctx context.Context, st store.Store, att v1.Hash) (map[string]json.RawMessage, error) {
	raw, _, err := st.Manifest(ctx, att)
	if err != nil {
		return nil, fmt.Errorf("reading attestation manifest %s: %w", att, err)
	}
	m, err := store.ParseManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("attestation manifest %s: %w", att, err)
	}
	out := map[string]json.RawMessage{}
	for _, l := range m.Layers {
		pt := l.Annotations[ocilayout.AnnotationPredicateType]
		if pt == "" {
			continue
		}
		data, err := st.Blob(ctx, l.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading the %s statement: %w", pt, err)
		}
		var s struct {
			PredicateType string          `json:"predicateType"`
			Predicate     json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("the %s statement (layer %s): %w", pt, l.Digest, err)
		}
		if s.PredicateType != pt {
			return nil, fmt.Errorf("layer %s is annotated %s but holds a %s statement", l.Digest, pt, s.PredicateType)
		}
		out[pt] = s.Predicate
	}
	return out, nil
}

// countSignatures counts the sigstore bundles referring to d.
func countSignatures(ctx context.Context, st store.Store, d v1.Hash) (int, error) {
	refs, err := st.Referrers(ctx, d)
	if err != nil {
		return 0, fmt.Errorf("listing the signatures of %s: %w", d, err)
	}
	n := 0
	for _, r := range refs {
		if r.ArtifactType == sign.BundleMediaType {
			n++
		}
	}
	return n, nil
}
