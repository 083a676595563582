// Package verify is the release gate: given an image reference (or an OCI
// layout on disk) and a trusted public key, it proves what the image is —
// or says why not. For every platform it requires:
//
//   - a signature by the key over the image manifest whose signed statement
//     has cosign's image-signature predicate type (a bundle over some other
//     statement by the same key does not count, unlike `cosign verify`);
//   - a signed attestation manifest BuildKit wrote for that image, holding
//     an SPDX SBOM, SLSA provenance and a hardenkit compliance statement,
//     each naming the image manifest as subject, where the compliance
//     statement's sbom.digest is the digest of the SPDX predicate there;
//   - a compliance statement the release policy accepts: a build policy it
//     accepts, mode enforce, every rule pass or waived (or what the policy
//     tolerates), every exception approved and unexpired now;
//   - the release policy's provenance constraints.
//
// It reports every reason, per platform and per check. Failures to read
// (registry unreachable, malformed data the check cannot interpret as the
// image's answer) are errors, distinct from "not compliant".
package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	attestationv1 "github.com/in-toto/attestation/go/v1"
	intoto "github.com/in-toto/in-toto-golang/in_toto"
	slsa02 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v0.2"
	slsa1 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/evidence/sbom"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/pkg/ocilayout"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/releasepolicy"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// Check names, in report order.
const (
	CheckIndexSignature       = "index-signature"
	CheckImageSignature       = "image-signature"
	CheckAttestationSignature = "attestation-signature"
	CheckAttestations         = "attestations"
	CheckCompliance           = "compliance"
	CheckProvenance           = "provenance"
)

// Predicate types of the statements BuildKit puts beside a hardenkit image.
const (
	PredicateSPDX        = intoto.PredicateSPDX
	PredicateSLSA02      = slsa02.PredicateSLSAProvenance
	PredicateSLSA1       = slsa1.PredicateSLSAProvenance
	annotationPredicate  = ocilayout.AnnotationPredicateType
	intotoStatementV01   = intoto.StatementInTotoV01
	intotoStatementV1    = attestationv1.StatementTypeUri
	maxStatementsPerType = 1
)

// Check is the outcome of one check; Reasons say why it failed.
type Check struct {
	Name    string   `json:"name"`
	OK      bool     `json:"ok"`
	Reasons []string `json:"reasons,omitempty"`
	// Detail is what a passing check established (e.g. the policy digest).
	Detail string `json:"detail,omitempty"`
}

// Platform is the verification of one platform's image.
type Platform struct {
	Platform string  `json:"platform"`
	Digest   string  `json:"digest"`
	Checks   []Check `json:"checks"`
}

// Report is the result of a verification.
type Report struct {
	Image     string     `json:"image"`
	Digest    string     `json:"digest"`
	Compliant bool       `json:"compliant"`
	Checks    []Check    `json:"checks,omitempty"`
	Platforms []Platform `json:"platforms"`
	// Inputs are the attestations the verdict rests on: every signature
	// bundle that verified with the key and every statement read, by digest.
	Inputs []Input `json:"inputs,omitempty"`
}

// Input is one attestation a verification read.
type Input struct {
	// URI says where it is: the image and the manifest holding it.
	URI string `json:"uri"`
	// Digest is the digest of the statement or bundle blob.
	Digest string `json:"digest"`
}

// Failures maps each failed check name to its reasons, over the image's
// checks and every platform's.
func (r *Report) Failures() map[string][]string {
	out := map[string][]string{}
	add := func(cs []Check) {
		for _, c := range cs {
			if !c.OK {
				out[c.Name] = append(out[c.Name], c.Reasons...)
			}
		}
	}
	add(r.Checks)
	for _, p := range r.Platforms {
		add(p.Checks)
	}
	return out
}

// Options configure a verification.
type Options struct {
	// Key is the trusted public key.
	Key *keys.PublicKey
	// Policy is the release policy.
	Policy *releasepolicy.Policy
	// Now is the verification time (exception expiry, provenance age).
	Now time.Time
	// Secrets is the secret detector for annotations; nil means the
	// default one (secrets.New with no allowances).
	Secrets *secrets.Scanner
}

// Verify checks the image st names. The error is non-nil only when the
// image could not be verified at all (exit code 2); a non-compliant image
// is a Report with Compliant false.
func Verify(ctx context.Context, st store.Store, o Options) (*Report, error) {
	root, err := st.Root(ctx)
	if isIntegrity(err) {
		// The layout's index.json points at a blob that is missing or
		// altered, or names more than one image: the image's answer.
		return &Report{Image: st.Name(), Checks: []Check{{Name: CheckIntegrity, Reasons: []string{err.Error()}}}}, nil
	}
	if err != nil {
		return nil, err
	}
	return VerifyDigest(ctx, st, root, o)
}

// VerifyDigest verifies the image with descriptor root in st, so that a
// caller that resolved a tag checks exactly that digest.
func VerifyDigest(ctx context.Context, st store.Store, root v1.Descriptor, o Options) (*Report, error) {
	v := newVerifier(st, o)
	rep := &Report{Image: st.Name(), Digest: root.Digest.String()}
	ic, found, err := v.integrity(ctx, root)
	if err != nil {
		return nil, err
	}
	rep.Checks = append(rep.Checks, ic)
	if !ic.OK {
		// Every other check would read the same bytes: none is made
		// about content that is not what its digest names.
		return rep, nil
	}
	ac, err := v.annotationsCheck(ctx, found)
	if err != nil {
		return nil, err
	}
	rep.Checks = append(rep.Checks, ac)
	if o.Policy.VerificationSummary != nil {
		sc, err := v.summary(ctx, root.Digest)
		if err != nil {
			return nil, err
		}
		rep.Checks = append(rep.Checks, sc)
	}
	type target struct {
		desc        v1.Descriptor
		platform    string
		attestation *v1.Descriptor
	}
	var targets []target
	if store.IsIndex(root.MediaType) {
		c, err := v.signature(ctx, CheckIndexSignature, root.Digest)
		if err != nil {
			return nil, err
		}
		rep.Checks = append(rep.Checks, c)
		raw, err := v.manifest(ctx, root.Digest)
		if err != nil {
			return nil, err
		}
		idx, err := store.ParseManifest(raw)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", root.Digest, err)
		}
		atts := map[string][]v1.Descriptor{}
		for _, d := range idx.Manifests {
			if d.Annotations[sign.AnnotationRefType] == sign.RefTypeAttestation {
				atts[d.Annotations[sign.AnnotationRefDigest]] = append(atts[d.Annotations[sign.AnnotationRefDigest]], d)
			}
		}
		for _, d := range idx.Manifests {
			if d.Annotations[sign.AnnotationRefType] == sign.RefTypeAttestation {
				continue
			}
			t := target{desc: d}
			if d.Platform != nil {
				t.platform = d.Platform.String()
			}
			switch a := atts[d.Digest.String()]; len(a) {
			case 0:
			case 1:
				t.attestation = &a[0]
			default:
				rep.Checks = append(rep.Checks, Check{Name: CheckAttestations, Reasons: []string{fmt.Sprintf("%d attestation manifests name %s, want 1", len(a), d.Digest)}})
			}
			targets = append(targets, t)
		}
		if len(targets) == 0 {
			rep.Checks = append(rep.Checks, Check{Name: CheckAttestations, Reasons: []string{"the index lists no image manifest"}})
		}
	} else {
		targets = append(targets, target{desc: root})
	}
	for _, t := range targets {
		p, err := v.platform(ctx, t.desc, t.platform, t.attestation)
		if err != nil {
			return nil, err
		}
		rep.Platforms = append(rep.Platforms, p)
	}
	rep.Inputs = v.inputs
	rep.Compliant = true
	for _, c := range rep.Checks {
		rep.Compliant = rep.Compliant && c.OK
	}
	for _, p := range rep.Platforms {
		for _, c := range p.Checks {
			rep.Compliant = rep.Compliant && c.OK
		}
	}
	return rep, nil
}

type verifier struct {
	st store.Store
	o  Options
	// What the integrity walk read, by digest, so the checks after it
	// make no second round trip (and read exactly the bytes it hashed).
	manifests map[v1.Hash][]byte
	blobs     map[v1.Hash][]byte
	refs      map[v1.Hash][]v1.Descriptor
	inputs    []Input
}

// input records an attestation blob the verdict reads, held by manifest m.
func (v *verifier) input(m, blob v1.Hash) {
	v.inputs = append(v.inputs, Input{URI: v.st.Name() + "@" + m.String(), Digest: blob.String()})
}

func newVerifier(st store.Store, o Options) *verifier {
	return &verifier{st: st, o: o, manifests: map[v1.Hash][]byte{}, blobs: map[v1.Hash][]byte{}, refs: map[v1.Hash][]v1.Descriptor{}}
}

// manifest reads the manifest h (checked against h by the store), once.
func (v *verifier) manifest(ctx context.Context, h v1.Hash) ([]byte, error) {
	if b, ok := v.manifests[h]; ok {
		return b, nil
	}
	b, _, err := v.st.Manifest(ctx, h)
	if err != nil {
		return nil, err
	}
	v.manifests[h] = b
	return b, nil
}

// blob reads the blob h (checked against h by the store), once.
func (v *verifier) blob(ctx context.Context, h v1.Hash) ([]byte, error) {
	if b, ok := v.blobs[h]; ok {
		return b, nil
	}
	b, err := v.st.Blob(ctx, h)
	if err != nil {
		return nil, err
	}
	v.blobs[h] = b
	return b, nil
}

// verifyBlob checks that the blob d names has its size and digest: a
// small one is read (and kept), a large one streamed.
func (v *verifier) verifyBlob(ctx context.Context, d v1.Descriptor) error {
	if d.Size < 0 || d.Size > smallBlob {
		return v.st.VerifyBlob(ctx, d)
	}
	b, err := v.blob(ctx, d.Digest)
	if err != nil {
		return err
	}
	if int64(len(b)) != d.Size {
		return fmt.Errorf("blob %s: %w: %d bytes, its descriptor says %d", d.Digest, store.ErrDigestMismatch, len(b), d.Size)
	}
	return nil
}

// referrers lists the referrers of h, once.
func (v *verifier) referrers(ctx context.Context, h v1.Hash) ([]v1.Descriptor, error) {
	if r, ok := v.refs[h]; ok {
		return r, nil
	}
	r, err := v.st.Referrers(ctx, h)
	if err != nil {
		return nil, err
	}
	v.refs[h] = r
	return r, nil
}

// signature checks that a bundle by the key signs a cosign image-signature
// statement over digest d.
func (v *verifier) signature(ctx context.Context, name string, d v1.Hash) (Check, error) {
	c := Check{Name: name}
	refs, err := v.referrers(ctx, d)
	if err != nil {
		return c, err
	}
	var reasons []string
	bundles := 0
	for _, r := range refs {
		// Registries differ in the artifactType they report (the
		// manifest's, or its config media type), so the manifest decides.
		if r.ArtifactType != "" && r.ArtifactType != sign.BundleMediaType && r.ArtifactType != sign.EmptyMediaType {
			continue
		}
		pt, err := v.verifyBundle(ctx, r.Digest, d)
		if errors.Is(err, errNotBundle) {
			continue
		}
		bundles++
		if errors.Is(err, store.ErrUnreachable) {
			return c, err
		}
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("bundle %s: %v", r.Digest, err))
			continue
		}
		if pt != sign.PredicateType {
			reasons = append(reasons, fmt.Sprintf("bundle %s is signed by the key but over a %s statement, not an image signature (%s)", r.Digest, pt, sign.PredicateType))
			continue
		}
		c.OK = true
		c.Detail = "signed by the key (bundle " + r.Digest.String() + ")"
		return c, nil
	}
	if bundles == 0 {
		reasons = append(reasons, fmt.Sprintf("%s is not signed: no sigstore bundle refers to it", d))
	}
	c.Reasons = reasons
	return c, nil
}

// errNotBundle marks referrers that are not sigstore bundles (other
// artifacts attached to the image), which the signature check ignores.
var errNotBundle = errors.New("not a sigstore bundle referrer")

// verifyBundle reads the bundle referrer ref and verifies it with the key
// against subject; it returns the signed statement's predicate type.
// Errors are verification failures, except store errors.
func (v *verifier) verifyBundle(ctx context.Context, ref, subject v1.Hash) (string, error) {
	st, err := v.verifiedStatement(ctx, ref, subject)
	if err != nil {
		return "", err
	}
	return st.GetPredicateType(), nil
}

// verifiedStatement reads the bundle referrer ref, verifies it with the
// key against subject and returns the statement it signs.
func (v *verifier) verifiedStatement(ctx context.Context, ref, subject v1.Hash) (*attestationv1.Statement, error) {
	raw, err := v.manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	m, err := store.ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	if m.Subject == nil || m.Subject.Digest != subject {
		return nil, errors.New("the referrer's subject is another manifest")
	}
	if len(m.Layers) == 0 || string(m.Layers[0].MediaType) != sign.BundleMediaType {
		return nil, errNotBundle
	}
	if len(m.Layers) != 1 {
		return nil, errors.New("the referrer holds more than one layer beside the sigstore bundle")
	}
	data, err := v.blob(ctx, m.Layers[0].Digest)
	if err != nil {
		return nil, err
	}
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("not a sigstore bundle: %w", err)
	}
	sv, err := sgverify.NewVerifier(v.o.Key.Material, sgverify.WithNoObserverTimestamps())
	if err != nil {
		return nil, fmt.Errorf("verifier: %w", err)
	}
	dg, err := hex.DecodeString(subject.Hex)
	if err != nil {
		return nil, err
	}
	res, err := sv.Verify(&b, sgverify.NewPolicy(sgverify.WithArtifactDigest(subject.Algorithm, dg), sgverify.WithKey()))
	if err != nil {
		return nil, fmt.Errorf("not a valid signature by the trusted key over %s: %w", subject, err)
	}
	v.input(ref, m.Layers[0].Digest)
	if res.Statement == nil {
		return nil, errors.New("the bundle signs no in-toto statement")
	}
	return res.Statement, nil
}

// statement is an in-toto statement as BuildKit writes it.
type statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []subject       `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

func (v *verifier) platform(ctx context.Context, img v1.Descriptor, platform string, att *v1.Descriptor) (Platform, error) {
	p := Platform{Platform: platform, Digest: img.Digest.String()}
	c, err := v.signature(ctx, CheckImageSignature, img.Digest)
	if err != nil {
		return p, err
	}
	p.Checks = append(p.Checks, c)
	if att == nil {
		reason := "no attestation manifest names " + img.Digest.String() + " (no SBOM, provenance or compliance statement)"
		for _, n := range []string{CheckAttestationSignature, CheckAttestations, CheckCompliance, CheckProvenance} {
			p.Checks = append(p.Checks, Check{Name: n, Reasons: []string{reason}})
		}
		return p, nil
	}
	c, err = v.signature(ctx, CheckAttestationSignature, att.Digest)
	if err != nil {
		return p, err
	}
	p.Checks = append(p.Checks, c)

	stmts, ac, err := v.attestations(ctx, img.Digest, att.Digest)
	if err != nil {
		return p, err
	}
	p.Checks = append(p.Checks, ac)
	var comp *compliance.Predicate
	if s, ok := stmts[compliance.PredicateType]; ok {
		comp = &compliance.Predicate{}
		if err := json.Unmarshal(s.Predicate, comp); err != nil {
			comp = nil
		}
	}
	p.Checks = append(p.Checks, v.compliance(comp))
	prov, ok := stmts[PredicateSLSA1]
	if !ok {
		prov, ok = stmts[PredicateSLSA02]
	}
	var provp *statement
	if ok {
		provp = &prov
	}
	p.Checks = append(p.Checks, v.provenance(provp, comp))
	return p, nil
}

// attestations reads the attestation manifest and checks the statements
// BuildKit wrote: present, about the image, SBOM digest bound.
func (v *verifier) attestations(ctx context.Context, img, att v1.Hash) (map[string]statement, Check, error) {
	c := Check{Name: CheckAttestations}
	raw, err := v.manifest(ctx, att)
	if err != nil {
		return nil, c, err
	}
	m, err := store.ParseManifest(raw)
	if err != nil {
		return nil, c, fmt.Errorf("attestation manifest %s: %w", att, err)
	}
	out := map[string]statement{}
	for _, l := range m.Layers {
		pt := l.Annotations[annotationPredicate]
		data, err := v.blob(ctx, l.Digest)
		if err != nil {
			if errors.Is(err, store.ErrUnreachable) {
				return nil, c, err
			}
			c.Reasons = append(c.Reasons, fmt.Sprintf("%s statement (layer %s) cannot be read: %v", pt, l.Digest, err))
			continue
		}
		var s statement
		if err := json.Unmarshal(data, &s); err != nil {
			c.Reasons = append(c.Reasons, fmt.Sprintf("layer %s is not an in-toto statement: %v", l.Digest, err))
			continue
		}
		if s.Type != intotoStatementV1 && s.Type != intotoStatementV01 {
			c.Reasons = append(c.Reasons, fmt.Sprintf("layer %s: statement type %q", l.Digest, s.Type))
			continue
		}
		if s.PredicateType != pt {
			c.Reasons = append(c.Reasons, fmt.Sprintf("layer %s is annotated %s but holds a %s statement", l.Digest, pt, s.PredicateType))
			continue
		}
		// BuildKit's oci exporter writes statements without subjects; then
		// only the index entry (vnd.docker.reference.digest) binds them to
		// the image, and the index signature, always required (attestation
		// manifests only exist in an index), covers that entry.
		if len(s.Subject) > 0 && !slices.ContainsFunc(s.Subject, func(sb subject) bool { return sb.Digest[img.Algorithm] == img.Hex }) {
			c.Reasons = append(c.Reasons, fmt.Sprintf("the %s statement is about another image, not %s", pt, img))
			continue
		}
		if _, dup := out[pt]; dup && (pt == PredicateSPDX || pt == compliance.PredicateType) {
			c.Reasons = append(c.Reasons, fmt.Sprintf("more than %d %s statements", maxStatementsPerType, pt))
			continue
		}
		out[pt] = s
		v.input(att, l.Digest)
	}
	spdx, hasSPDX := out[PredicateSPDX]
	if !hasSPDX {
		c.Reasons = append(c.Reasons, "no SPDX SBOM statement ("+PredicateSPDX+")")
	}
	if _, ok := out[PredicateSLSA1]; !ok {
		if _, ok := out[PredicateSLSA02]; !ok {
			c.Reasons = append(c.Reasons, "no SLSA provenance statement")
		}
	}
	comp, hasComp := out[compliance.PredicateType]
	if !hasComp {
		c.Reasons = append(c.Reasons, "no hardenkit compliance statement ("+compliance.PredicateType+"): not built with hardenkit enforcing (HARDENKIT_MODE=off?)")
	}
	if hasSPDX && hasComp {
		var cp struct {
			SBOM compliance.SBOM `json:"sbom"`
		}
		if err := json.Unmarshal(comp.Predicate, &cp); err != nil {
			c.Reasons = append(c.Reasons, fmt.Sprintf("compliance statement: %v", err))
		} else if got := PredicateDigests(spdx.Predicate); !slices.Contains(got, cp.SBOM.Digest) {
			c.Reasons = append(c.Reasons, fmt.Sprintf("the compliance statement's sbom.digest %s is not the SPDX SBOM attached (%s): the SBOM was replaced", cp.SBOM.Digest, got[0]))
		}
	}
	c.OK = len(c.Reasons) == 0
	if c.OK {
		c.Detail = fmt.Sprintf("%d statements about %s; SBOM bound to the compliance statement", len(out), img)
	}
	return out, c, nil
}

// PredicateDigests are the digests the compliance statement may record
// for the SBOM attached: hardenkit hashes the SPDX document it wrote
// (compact JSON without HTML escaping, a trailing newline). BuildKit's
// image exporter adds its creator and layer comments (undone by
// sbom.AttachedSPDX), and embeds the predicate with encoding/json, which
// drops the newline and escapes <, > and &. Every candidate is derived
// from the attached bytes, so none admits other content.
func PredicateDigests(raw json.RawMessage) []string {
	var out []string
	// What BuildKit's image exporter added to the SBOM, undone.
	if doc, err := sbom.AttachedSPDX(raw); err == nil {
		out = append(out, compliance.SBOMOf(doc).Digest)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		compact.Reset()
		compact.Write(raw)
	}
	plain := unescapeHTML(compact.Bytes())
	for _, b := range [][]byte{plain, append(slices.Clip(plain), '\n'), compact.Bytes()} {
		sum := sha256.Sum256(b)
		out = append(out, "sha256:"+hex.EncodeToString(sum[:]))
	}
	return out
}

// unescapeHTML turns the \u003c, \u003e and \u0026 escapes encoding/json
// writes inside strings back into <, > and &, leaving every other escape
// (an escaped backslash before "u003c" included) as it is.
func unescapeHTML(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch string(b[i+2 : i+6]) {
			case "003c":
				out, i = append(out, '<'), i+5
				continue
			case "003e":
				out, i = append(out, '>'), i+5
				continue
			case "0026":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		out, i = append(out, b[i], b[i+1]), i+1
	}
	return out
}

// compliance checks the compliance predicate against the release policy.
func (v *verifier) compliance(p *compliance.Predicate) Check {
	c := Check{Name: CheckCompliance}
	if p == nil {
		c.Reasons = []string{"no readable compliance statement"}
		return c
	}
	rp := v.o.Policy
	if !rp.AcceptsPolicy(p.Policy.Digest) {
		c.Reasons = append(c.Reasons, fmt.Sprintf("built with policy %q digest %s, which the release policy does not accept", p.Policy.Name, p.Policy.Digest))
	}
	if p.Mode != options.ModeEnforce {
		c.Reasons = append(c.Reasons, fmt.Sprintf("mode %q, want %q", p.Mode, options.ModeEnforce))
	}
	for _, r := range p.Rules {
		switch r.Result {
		case compliance.ResultPass, compliance.ResultWaived:
		case compliance.ResultWarn:
			if !rp.AllowsWarn(r.ID) {
				c.Reasons = append(c.Reasons, fmt.Sprintf("rule %s: warn (%d findings), which the release policy does not allow", r.ID, len(r.Findings)))
			}
		case compliance.ResultNotEvaluated:
			if !rp.AllowsNotEvaluated(r.ID) {
				c.Reasons = append(c.Reasons, fmt.Sprintf("rule %s: not-evaluated, which the release policy does not allow", r.ID))
			}
		default:
			c.Reasons = append(c.Reasons, fmt.Sprintf("rule %s: %s", r.ID, r.Result))
		}
	}
	if p.Vulnerabilities.Status != compliance.VulnEvaluated && !rp.Allow.VulnerabilitiesNotEvaluated {
		c.Reasons = append(c.Reasons, fmt.Sprintf("vulnerabilities %s (%s), which the release policy does not allow", p.Vulnerabilities.Status, p.Vulnerabilities.Reason))
	}
	for _, e := range p.Exceptions {
		if strings.TrimSpace(e.ApprovedBy) == "" {
			c.Reasons = append(c.Reasons, fmt.Sprintf("exception %s (rule %s) has no approver", e.ID, e.Rule))
		}
		if !e.Expires.After(v.o.Now) {
			c.Reasons = append(c.Reasons, fmt.Sprintf("exception %s (rule %s) expired %s (verified at %s)", e.ID, e.Rule, e.Expires.UTC().Format(time.RFC3339), v.o.Now.UTC().Format(time.RFC3339)))
		}
	}
	c.OK = len(c.Reasons) == 0
	if c.OK {
		c.Detail = fmt.Sprintf("policy %s (%s), mode %s, %d rules, %d exceptions", p.Policy.Name, p.Policy.Digest, p.Mode, len(p.Rules), len(p.Exceptions))
	}
	return c
}

// provenanceFacts are what the constraints compare, from SLSA v0.2 or v1.
type provenanceFacts struct {
	builderID, repo, revision string
	finished                  *time.Time
}

func readProvenance(s *statement) (provenanceFacts, error) {
	var f provenanceFacts
	switch s.PredicateType {
	case PredicateSLSA02:
		var p struct {
			Builder    struct{ ID string } `json:"builder"`
			Invocation struct {
				ConfigSource struct {
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"configSource"`
			} `json:"invocation"`
			Metadata struct {
				BuildFinishedOn *time.Time `json:"buildFinishedOn"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(s.Predicate, &p); err != nil {
			return f, err
		}
		f = provenanceFacts{p.Builder.ID, p.Invocation.ConfigSource.URI, p.Invocation.ConfigSource.Digest["sha1"], p.Metadata.BuildFinishedOn}
	default:
		var p struct {
			BuildDefinition struct {
				ExternalParameters struct {
					ConfigSource struct {
						URI    string            `json:"uri"`
						Digest map[string]string `json:"digest"`
					} `json:"configSource"`
				} `json:"externalParameters"`
			} `json:"buildDefinition"`
			RunDetails struct {
				Builder  struct{ ID string } `json:"builder"`
				Metadata struct {
					FinishedOn *time.Time `json:"finishedOn"`
				} `json:"metadata"`
			} `json:"runDetails"`
		}
		if err := json.Unmarshal(s.Predicate, &p); err != nil {
			return f, err
		}
		cs := p.BuildDefinition.ExternalParameters.ConfigSource
		f = provenanceFacts{p.RunDetails.Builder.ID, cs.URI, cs.Digest["sha1"], p.RunDetails.Metadata.FinishedOn}
	}
	return f, nil
}

// provenance checks the release policy's provenance constraints.
func (v *verifier) provenance(s *statement, comp *compliance.Predicate) Check {
	c := Check{Name: CheckProvenance}
	if s == nil {
		c.Reasons = []string{"no SLSA provenance statement"}
		return c
	}
	f, err := readProvenance(s)
	if err != nil {
		c.Reasons = []string{fmt.Sprintf("provenance does not parse: %v", err)}
		return c
	}
	want := v.o.Policy.Provenance
	eq := func(what, want, got string) {
		if want != "" && want != got {
			c.Reasons = append(c.Reasons, fmt.Sprintf("%s is %q, the release policy requires %q", what, got, want))
		}
	}
	eq("builder id", want.BuilderID, f.builderID)
	eq("source repository", want.SourceRepository, f.repo)
	eq("source revision", want.SourceRevision, f.revision)
	if want.FrontendDigest != "" {
		got := ""
		if comp != nil {
			got = comp.Hardenkit.FrontendDigest
		}
		eq("frontend image digest", want.FrontendDigest, got)
	}
	if max := v.o.Policy.MaxAge(); max > 0 {
		switch {
		case f.finished == nil:
			c.Reasons = append(c.Reasons, "the provenance records no build finish time, so its age cannot be checked")
		case v.o.Now.Sub(*f.finished) > max:
			c.Reasons = append(c.Reasons, fmt.Sprintf("built %s, older than the release policy's maxAge %s", f.finished.UTC().Format(time.RFC3339), v.o.Policy.Provenance.MaxAge))
		}
	}
	c.OK = len(c.Reasons) == 0
	if c.OK {
		c.Detail = fmt.Sprintf("builder %s, source %s@%s", f.builderID, f.repo, f.revision)
	}
	return c
}
