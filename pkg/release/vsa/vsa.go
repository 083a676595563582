// Package vsa writes and reads SLSA Verification Summary Attestations
// (https://slsa.dev/verification_summary/v1): the verdict of `hardenkit
// verify --attest` as an in-toto Statement v1 about the verified image —
// verifier id and version, time, resource URI and digest, the release
// policy's URI and digest, the digests of every attestation the verdict
// read, PASSED or FAILED and the levels verified — signed into a sigstore
// bundle and stored as an OCI 1.1 referrer of the image, beside the
// signatures, so promote carries it and a later gate can require it.
package vsa

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// PredicateType is the VSA v1 predicate type.
const PredicateType = verify.PredicateVSA

// VerifierID is the verifier id hardenkit's summaries carry.
const VerifierID = "https://hardenkit.dev/verify"

// Results of a verification.
const (
	Passed = "PASSED"
	Failed = "FAILED"
)

// LevelBuild1 is the SLSA build level a passing verification establishes:
// provenance exists, is signed (over the attestation manifest) and meets
// the release policy. Higher levels need a hosted, isolated builder that
// signs provenance itself, which a key-based gate cannot tell.
const LevelBuild1 = "SLSA_BUILD_LEVEL_1"

// Predicate is a VSA v1 predicate.
type Predicate struct {
	Verifier           Verifier  `json:"verifier"`
	TimeVerified       time.Time `json:"timeVerified"`
	ResourceURI        string    `json:"resourceUri"`
	Policy             Ref       `json:"policy"`
	InputAttestations  []Ref     `json:"inputAttestations,omitempty"`
	VerificationResult string    `json:"verificationResult"`
	VerifiedLevels     []string  `json:"verifiedLevels"`
	SLSAVersion        string    `json:"slsaVersion,omitempty"`
}

// Verifier identifies who verified.
type Verifier struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// Ref is a resource by URI and digest.
type Ref struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest,omitempty"`
}

// Statement is an in-toto Statement v1 carrying a Predicate.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Subject is an in-toto subject.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Options say what a summary records beside the report.
type Options struct {
	// Version is hardenkit's version.
	Version string
	// PolicyURI and PolicyDigest name the release policy applied
	// ("sha256:…" of its bytes); both empty for the built-in default.
	PolicyURI, PolicyDigest string
	// Time is the verification time.
	Time time.Time
}

// digestMap turns "alg:hex" into an in-toto digest set.
func digestMap(d string) map[string]string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok {
		return nil
	}
	return map[string]string{alg: hex}
}

// Summarize is the VSA statement of rep.
func Summarize(rep *verify.Report, o Options) ([]byte, error) {
	resource := strings.TrimSuffix(rep.Image, "@"+rep.Digest)
	p := Predicate{
		Verifier:           Verifier{ID: VerifierID, Version: map[string]string{"hardenkit": o.Version}},
		TimeVerified:       o.Time.UTC().Truncate(time.Second),
		ResourceURI:        resource + "@" + rep.Digest,
		Policy:             Ref{URI: o.PolicyURI, Digest: digestMap(o.PolicyDigest)},
		VerificationResult: Failed,
		VerifiedLevels:     []string{},
		SLSAVersion:        "1.0",
	}
	if p.Policy.URI == "" {
		p.Policy.URI = "https://hardenkit.dev/release-policy/default"
	}
	if rep.Compliant {
		p.VerificationResult, p.VerifiedLevels = Passed, []string{LevelBuild1}
	}
	for _, in := range rep.Inputs {
		p.InputAttestations = append(p.InputAttestations, Ref{URI: in.URI, Digest: digestMap(in.Digest)})
	}
	st := Statement{
		Type:          "https://in-toto.io/Statement/v1",
		Subject:       []Subject{{Name: resource, Digest: digestMap(rep.Digest)}},
		PredicateType: PredicateType,
		Predicate:     p,
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding the verification summary: %w", err)
	}
	return b, nil
}

// Attach signs the summary statement with kp and stores it in st as a
// referrer of the image manifest root; it returns the referrer's digest.
func Attach(ctx context.Context, st store.Store, root v1.Descriptor, statement []byte, kp sgsign.Keypair, now time.Time) (v1.Hash, error) {
	bundle, err := sign.Bundle(statement, kp)
	if err != nil {
		return v1.Hash{}, err
	}
	raw, err := sign.ReferrerManifest(root, bundle, PredicateType, now)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := st.PutReferrer(ctx, raw, [][]byte{[]byte("{}"), bundle}); err != nil {
		return v1.Hash{}, fmt.Errorf("attaching the verification summary: %w", err)
	}
	h, _, err := v1.SHA256(strings.NewReader(string(raw)))
	return h, err
}
