package exceptions

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/hardenkit/hardenkit/frontend/policy/canonjson"
)

// PayloadType is the DSSE payload type of a signed exception record.
const PayloadType = "application/vnd.hardenkit.exception+json"

// Envelope is a DSSE envelope (payloadType, base64 payload, signatures).
type Envelope = dsse.Envelope

// Signature is one signature of an Envelope (keyid, base64 sig).
type Signature = dsse.Signature

// signedRecord is what a signature covers: the record without its
// signature, times in UTC RFC 3339, so that re-indenting or re-ordering the
// file does not break a signature but changing any field does.
type signedRecord struct {
	ID            string `json:"id"`
	Rule          string `json:"rule"`
	Scope         Scope  `json:"scope"`
	Justification string `json:"justification"`
	Owner         string `json:"owner"`
	ApprovedBy    string `json:"approvedBy"`
	Created       string `json:"created"`
	Expires       string `json:"expires"`
	Ticket        string `json:"ticket,omitempty"`
}

// CanonicalJSON returns the bytes a signature of rec covers: the canonical
// JSON (sorted keys, no whitespace) of the record without its signature.
func CanonicalJSON(rec Exception) ([]byte, error) {
	return canonjson.Marshal(signedRecord{
		ID:            rec.ID,
		Rule:          rec.Rule,
		Scope:         rec.Scope,
		Justification: rec.Justification,
		Owner:         rec.Owner,
		ApprovedBy:    rec.ApprovedBy,
		Created:       rec.Created.UTC().Format(time.RFC3339Nano),
		Expires:       rec.Expires.UTC().Format(time.RFC3339Nano),
		Ticket:        rec.Ticket,
	})
}

// Sign returns a DSSE envelope over rec's canonical JSON, signed with key
// (Ed25519, or ECDSA P-256 over SHA-256 with an ASN.1 signature, as cosign
// and sigstore do). keyID is an unauthenticated hint stored with the
// signature; verification does not rely on it.
func Sign(rec Exception, key crypto.Signer, keyID string) (*Envelope, error) {
	body, err := CanonicalJSON(rec)
	if err != nil {
		return nil, fmt.Errorf("signing exception %q: %w", rec.ID, err)
	}
	pae := dsse.PAE(PayloadType, body)
	var sig []byte
	switch pub := key.Public().(type) {
	case ed25519.PublicKey:
		sig, err = key.Sign(rand.Reader, pae, crypto.Hash(0))
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("signing exception %q: ECDSA key on %s, want P-256", rec.ID, pub.Curve.Params().Name)
		}
		h := sha256.Sum256(pae)
		sig, err = key.Sign(rand.Reader, h[:], crypto.SHA256)
	default:
		return nil, fmt.Errorf("signing exception %q: unsupported key type %T (want Ed25519 or ECDSA P-256)", rec.ID, pub)
	}
	if err != nil {
		return nil, fmt.Errorf("signing exception %q: %w", rec.ID, err)
	}
	return &Envelope{
		PayloadType: PayloadType,
		Payload:     base64.StdEncoding.EncodeToString(body),
		Signatures:  []Signature{{KeyID: keyID, Sig: base64.StdEncoding.EncodeToString(sig)}},
	}, nil
}

// Verify checks offline that env is a valid DSSE envelope over rec (the
// payload must be rec's canonical JSON exactly) with at least one signature
// by one of keys.
//
// It does not use dsse.EnvelopeVerifier: that verifier skips a key whose
// computed id differs from the signature's keyid hint, so a signature
// carrying a human-readable keyid would never verify, and it prints to
// stdout.
func Verify(env *Envelope, rec Exception, keys []crypto.PublicKey) error {
	_, err := verifiedBy(env, rec, keys)
	return err
}

// verifiedBy is Verify that returns the key the signature verified with.
func verifiedBy(env *Envelope, rec Exception, keys []crypto.PublicKey) (crypto.PublicKey, error) {
	if env == nil {
		return nil, errors.New("no signature")
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("payloadType %q, want %q", env.PayloadType, PayloadType)
	}
	body, err := env.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	want, err := CanonicalJSON(rec)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(body, want) {
		return nil, errors.New("the signed payload is not this record (was it changed after signing?)")
	}
	if len(keys) == 0 {
		return nil, errors.New("the policy lists no approver keys to verify it with")
	}
	pae := dsse.PAE(env.PayloadType, body)
	for _, s := range env.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			// DSSE allows either base64 alphabet.
			if sig, err = base64.URLEncoding.DecodeString(s.Sig); err != nil {
				continue
			}
		}
		for _, k := range keys {
			if verifyRaw(k, pae, sig) {
				return k, nil
			}
		}
	}
	return nil, errors.New("no signature verifies with an approver key")
}

func verifyRaw(key crypto.PublicKey, msg, sig []byte) bool {
	switch k := key.(type) {
	case ed25519.PublicKey:
		return len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig)
	case *ecdsa.PublicKey:
		h := sha256.Sum256(msg)
		return k.Curve == elliptic.P256() && ecdsa.VerifyASN1(k, h[:], sig)
	}
	return false
}

// ParsePublicKey reads one PEM "PUBLIC KEY" block (PKIX) holding an Ed25519
// or ECDSA P-256 key — the format `cosign generate-key-pair` and
// `openssl pkey -pubout` write.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("PEM block %q, want \"PUBLIC KEY\"", block.Type)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("extra data after the PEM block (one key per entry)")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing public key: %w", err)
	}
	switch k := key.(type) {
	case ed25519.PublicKey:
		return k, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ECDSA key on %s, want P-256", k.Curve.Params().Name)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("unsupported key type %T (want Ed25519 or ECDSA P-256)", key)
	}
}
