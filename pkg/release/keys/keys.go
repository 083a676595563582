// Package keys holds the cosign-format key pairs hardenkit signs and
// verifies release images with: generation (cosign's own generator, so
// `cosign` reads the files), loading a private key as a sigstore-go
// keypair, and loading a public key as the only trusted material of a
// verification. The password comes from COSIGN_PASSWORD or a prompt —
// never from a flag, and it is never printed.
package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sigstore/cosign/v3/pkg/cosign"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	signatureoptions "github.com/sigstore/sigstore/pkg/signature/options"
	"golang.org/x/term"
)

// PasswordEnv is the environment variable cosign reads the key password
// from; hardenkit reads the same one so one setting serves both tools.
const PasswordEnv = "COSIGN_PASSWORD"

// Passworder returns the key password. confirm asks twice (for a new key).
type Passworder func(confirm bool) ([]byte, error)

// EnvOrPrompt returns a Passworder that takes COSIGN_PASSWORD when it is
// set (an empty value means no password, as for cosign) and otherwise
// prompts on the terminal tty. With neither it fails rather than using an
// empty password the user did not choose.
func EnvOrPrompt(lookupEnv func(string) (string, bool), tty *os.File) Passworder {
	return func(confirm bool) ([]byte, error) {
		if p, ok := lookupEnv(PasswordEnv); ok {
			return []byte(p), nil
		}
		if tty == nil || !term.IsTerminal(int(tty.Fd())) {
			return nil, fmt.Errorf("no key password: set %s or run on a terminal to be prompted", PasswordEnv)
		}
		fmt.Fprint(tty, "Enter password for private key: ")
		p1, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		if err != nil {
			return nil, fmt.Errorf("reading key password: %w", err)
		}
		if !confirm {
			return p1, nil
		}
		fmt.Fprint(tty, "Enter password for private key again: ")
		p2, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		if err != nil {
			return nil, fmt.Errorf("reading key password: %w", err)
		}
		if !bytes.Equal(p1, p2) {
			return nil, errors.New("the two passwords do not match")
		}
		return p1, nil
	}
}

// Generate creates a new ECDSA P-256 key pair with cosign's generator:
// the private key PEM (ENCRYPTED SIGSTORE PRIVATE KEY, encrypted with the
// password) and the public key PEM.
func Generate(pw Passworder) (privPEM, pubPEM []byte, err error) {
	kb, err := cosign.GenerateKeyPair(func(confirm bool) ([]byte, error) { return pw(confirm) })
	if err != nil {
		return nil, nil, fmt.Errorf("generating key pair: %w", err)
	}
	return kb.PrivateBytes, kb.PublicBytes, nil
}

// Keypair is a cosign private key as a sigstore-go sign.Keypair, so
// sigstore-go builds the bundle exactly as cosign sign does.
type Keypair struct {
	sv     signature.SignerVerifier
	pub    crypto.PublicKey
	hint   []byte
	keyAlg string
	sigAlg signature.AlgorithmDetails
}

// LoadPrivateKey decrypts a cosign private key PEM with the password.
// Errors never contain the key or the password.
func LoadPrivateKey(privPEM []byte, pw Passworder) (*Keypair, error) {
	pass, err := pw(false)
	if err != nil {
		return nil, err
	}
	sv, err := cosign.LoadPrivateKey(privPEM, pass, nil)
	if err != nil {
		// cosign's errors name neither key nor password; keep only the
		// class of failure to be sure.
		return nil, errors.New("loading the private key failed: wrong password or not a cosign private key")
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	hint, err := Hint(pub)
	if err != nil {
		return nil, err
	}
	var keyAlg string
	switch pub.(type) {
	case *ecdsa.PublicKey:
		keyAlg = "ECDSA"
	case *rsa.PublicKey:
		keyAlg = "RSA"
	case ed25519.PublicKey:
		keyAlg = "ED25519"
	default:
		return nil, fmt.Errorf("unsupported key type %T", pub)
	}
	alg, err := signature.GetDefaultAlgorithmDetails(pub, *cosign.GetDefaultLoadOptions(nil)...)
	if err != nil {
		return nil, fmt.Errorf("signing algorithm for the key: %w", err)
	}
	return &Keypair{sv: sv, pub: pub, hint: []byte(hint), keyAlg: keyAlg, sigAlg: alg}, nil
}

// Hint is the key hint cosign puts in a bundle: base64 of the SHA-256 of
// the PKIX public key. It identifies, it does not authenticate.
func Hint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// GetHashAlgorithm implements sign.Keypair.
func (k *Keypair) GetHashAlgorithm() protocommon.HashAlgorithm { return k.sigAlg.GetProtoHashType() }

// GetSigningAlgorithm implements sign.Keypair.
func (k *Keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.sigAlg.GetSignatureAlgorithm()
}

// GetHint implements sign.Keypair.
func (k *Keypair) GetHint() []byte { return k.hint }

// GetKeyAlgorithm implements sign.Keypair.
func (k *Keypair) GetKeyAlgorithm() string { return k.keyAlg }

// GetPublicKey implements sign.Keypair.
func (k *Keypair) GetPublicKey() crypto.PublicKey { return k.pub }

// GetPublicKeyPem implements sign.Keypair.
func (k *Keypair) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(k.pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	return string(b), nil
}

// SignData implements sign.Keypair: it hashes data with the key's hash
// (none for Ed25519) and signs it, as cosign's own adapter does.
func (k *Keypair) SignData(ctx context.Context, data []byte) ([]byte, []byte, error) {
	opts := []signature.SignOption{signatureoptions.WithContext(ctx)}
	var digest []byte
	if h := k.sigAlg.GetHashType(); h != 0 {
		hh := h.New()
		hh.Write(data)
		digest = hh.Sum(nil)
		opts = append(opts, signatureoptions.WithDigest(digest))
	}
	sig, err := k.sv.SignMessage(bytes.NewReader(data), opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("signing: %w", err)
	}
	return sig, digest, nil
}

// PublicKey is a trusted public key for verification.
type PublicKey struct {
	// Key is the parsed key.
	Key crypto.PublicKey
	// Hint is its cosign key hint.
	Hint string
	// Material is the key as sigstore-go trusted material: the only key a
	// bundle may be verified against, whatever hint the bundle claims.
	Material root.TrustedMaterial
}

// LoadPublicKey reads a PEM public key (cosign.pub).
func LoadPublicKey(pubPEM []byte) (*PublicKey, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	hint, err := Hint(pub)
	if err != nil {
		return nil, err
	}
	key := root.NewExpiringKey(v, time.Time{}, time.Time{})
	// The bundle's hint is unauthenticated, so every hint maps to this key.
	m := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	return &PublicKey{Key: pub, Hint: hint, Material: m}, nil
}
