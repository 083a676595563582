package secrets

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// binaryWith is a binary file holding the given strings, NUL-separated,
// as a program's read-only data does.
func binaryWith(strs ...string) []byte {
	out := []byte{0x7f, 'E', 'L', 'F', 0}
	for _, s := range strs {
		out = append(append(out, s...), 0)
	}
	return out
}

// textWith is a text file holding the given strings, one a line.
func textWith(strs ...string) []byte {
	return []byte(strings.Join(strs, "\n") + "\n")
}

// TestBuiltinExceptions: the false positives seen in shipped binaries
// are not reported, in binaries (where the low-confidence rules do not
// run at all) nor as text, and the same shapes with a real secret in
// place of the public string still are in text.
func TestBuiltinExceptions(t *testing.T) {
	p := secretstest.Generate(t)
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		content  []byte
		reported bool
	}{
		{"libssh2 error message", binaryWith(
			"Unable to extract public key from private key file: invalid/unrecognized private key file format",
			"Unable to extract public key from private key file: Wrong passphrase or invalid/unrecognized private key file format"), false},
		{"libssh2 error message as text", textWith(
			"Unable to extract public key from private key file: invalid/unrecognized private key file format"), false},
		{"key after the libssh2 message", textWith("Unable to extract public key from private key file: " + p.AWSSecretAccessKey + " private key file format"), true},
		{"key after the libssh2 message in a binary: low-confidence rules are for text", binaryWith("Unable to extract public key from private key file: " + p.AWSSecretAccessKey + " private key file format"), false},
		{"go-crypto messages, literals packed", binaryWith(
			"cannot read v6 key with deprecated OID: Curve25519Legacyinternal error: value of %s should be a boolean constant",
			"cannot generate v6 key with deprecated OID: Curve25519LegacyECDH KDF hash output is shorter than the KDF cipher key size",
			"cannot generate v6 key with deprecated algorithm: EdDSALegacyX25519KeyExchange invalid"), false},
		{"go-crypto message as text", textWith("cannot read v6 key with deprecated OID: Curve25519Legacyinternal error: value of %s should be a boolean constant"), false},
		{"key after the go-crypto message", textWith("cannot read v6 key with deprecated OID: " + p.AWSSecretAccessKey + " internal"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.ScanBytes(WhereFile+"/usr/lib/x.so", tc.content)
			if (len(got) > 0) != tc.reported {
				t.Errorf("findings %+v, want reported %v", got, tc.reported)
			}
		})
	}
}

// TestKnownPublicValues: a value is allowed by its fingerprint, for
// generic-api-key only. The public values themselves are not in the
// repository: scanning them is what TestFrontendBinaryClean and the
// integration tests on the example images do.
func TestKnownPublicValues(t *testing.T) {
	fp := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for k := range knownPublicValues {
		if !fp.MatchString(k) {
			t.Errorf("knownPublicValues key %q is not a Fingerprint", k)
		}
	}
	v := secretstest.Generate(t).AWSSecretAccessKey
	if builtinAllowed(genericRule, "hexkey:"+v, v) {
		t.Fatal("a fresh value is allowed")
	}
	knownPublicValues[Fingerprint(v)] = true
	defer delete(knownPublicValues, Fingerprint(v))
	if !builtinAllowed(genericRule, "hexkey:"+v, v) {
		t.Error("a known public value is reported")
	}
	if builtinAllowed("github-pat", "hexkey:"+v, v) {
		t.Error("a known public value is allowed for another rule than " + genericRule)
	}
}
