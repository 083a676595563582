package exceptions

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/mail"
	"strings"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// Who asked for an exception and who approved it are people, named by
// e-mail address. Approval by a second person only means something if the
// two names cannot be the same person written two ways: "alice@…" and
// "аlice@…" (Cyrillic а), "Alice@…", or a full-width "ａlice@…". Names are
// therefore compared by identity: Unicode NFKC, case folded, then the UTS #39
// confusable skeleton.

// plainEmail accepts a bare addr-spec ("alice@example.com"): no display
// name, no angle brackets, no comments, in NFKC form, so that what a
// reviewer reads is what is compared.
func plainEmail(s string) error {
	if s != strings.TrimSpace(s) || s == "" {
		return errors.New("must be a plain e-mail address like alice@example.com")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return errors.New("must be a plain e-mail address like alice@example.com, without a name or brackets")
	}
	if !norm.NFKC.IsNormalString(s) {
		return errors.New("is not in Unicode NFKC form: write it as it is normally typed")
	}
	return nil
}

// identity is the form two names are compared in: NFKC, lower case, UTS #39
// skeleton.
func identity(s string) string {
	return confusables.Skeleton(strings.ToLower(norm.NFKC.String(strings.TrimSpace(s))))
}

// SameIdentity reports whether a and b name the same person once Unicode
// normalisation, case and confusable characters are set aside.
func SameIdentity(a, b string) bool {
	return identity(a) == identity(b)
}

// KeyID identifies a public key in evidence: "sha256:<hex>" of its PKIX DER
// encoding, the same for a key however its PEM file is wrapped.
func KeyID(key crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
