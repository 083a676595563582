package secrets

import (
	"regexp"
	"strings"
)

// Built-in exceptions. They are as narrow as the false positive they
// remove, and each says where it was seen, so that a scan of an ordinary
// distribution base image reports nothing (TestDebianMinbaseClean).

// knownPublicKeys are fingerprints (Fingerprint of the base64 body, of a
// DER key's base64) of private keys published on purpose. GnuTLS compiles the keys of its
// power-on self-tests into libgnutls (lib/crypto-selftests.c); these are
// the ten found in Debian bookworm's libgnutls30 3.7.9. They protect
// nothing, and reporting them would fail every Debian image that ships
// GnuTLS (apt depends on it).
var knownPublicKeys = map[string]bool{
	"0abce0c5fd3b863e": true,
	"24a2416c5abbb673": true,
	"30db3ea6d728b88c": true,
	"518a21fe5a8a54f8": true,
	"6d03bbf47115fad0": true,
	"9ab6db67523ba607": true,
	"bf552d2ff30b20f0": true,
	"c780c483da21d367": true,
	"cadf1e62661d5d21": true,
	"f287c70b1db074fe": true,
	// OpenSSL's `openssl speed` RSA test keys (apps/testrsa.h: 512 to
	// 15360 bits), compiled into /usr/bin/openssl as DER arrays; found by
	// structure (keys.go) in Debian bookworm's openssl 3.0.19, which
	// curl's and ca-certificates' dependencies pull into most images.
	"29e9325d376d1f2a": true,
	"3ea44a46e02f8a62": true,
	"4fbcffb3d1aa3570": true,
	"6a75828942a3b35e": true,
	"853002002173a49a": true,
	"baef44b67275d594": true,
	"d98b22388e0a969b": true,
}

// knownPublicValues are fingerprints (Fingerprint of the secret) of
// values gitleaks' generic-api-key reports that are published constants,
// the same in every build of the program that carries them:
//
//   - d0720d8487947228: OpenSSL 3's default FIPS module MAC key, the
//     "hexkey:" value `openssl fipsinstall` uses unless given -macopt
//     (FIPS_KEY_STRING, set by Configure; documented in
//     openssl-fipsinstall(1)). It only checks the module's integrity.
//     Seen in Debian bookworm's /usr/bin/openssl 3.0 (package openssl,
//     which curl's and ca-certificates' dependencies pull in).
//   - cfc4554b887241a3: the AuthParam of an Oracle download URL in the
//     BSD license text that github.com/google/licensecheck (syft's
//     license classifier) compiles in; seen in hardenkit's own frontend
//     binary.
var knownPublicValues = map[string]bool{
	"cfc4554b887241a3": true,
	"d0720d8487947228": true,
}

// openPGPDeprecatedRe matches what generic-api-key finds in the error
// messages of github.com/ProtonMail/go-crypto's openpgp/packet ("cannot
// read v6 key with deprecated OID: Curve25519Legacy", and the same with
// "algorithm: EdDSALegacy"): "key", ":" and a name look like an
// assignment. In a Go binary the next string literal follows the name
// without a separator, so the value is the name and whatever comes
// after it. Seen in hardenkit's own frontend binary (BuildKit's client
// links go-crypto).
var openPGPDeprecatedRe = regexp.MustCompile(`^key with deprecated (?:OID: Curve25519Legacy|algorithm: EdDSALegacy)`)

// lowerWordsPathRe matches lower-case words joined by slashes:
// "invalid/unrecognized", in libssh2's "Unable to extract public key
// from private key file: invalid/unrecognized private key file format"
// (Debian bookworm's libssh2-1, which libcurl4 links). gitleaks already
// ignores values of letters only; the slash alone makes this one pass
// that test and reach the entropy threshold. Keys are mixed-case or have
// digits, and stay reported.
var lowerWordsPathRe = regexp.MustCompile(`^[a-z]+(?:/[a-z]+)+$`)

// genericIdentifierRe matches a snake_case or SCREAMING_SNAKE_CASE
// identifier with a digit. gitleaks' generic-api-key already ignores
// values of letters, "_", "." and "-" only (its `^[a-zA-Z_.-]+$`
// allow-list); a digit makes a constant name such as COPHH_KEY_UTF8 (in
// perl's CORE/cop.h, after "=for apidoc …||") pass that test, yet it is
// no more a secret. Mixed-case values, which keys are, stay reported.
var genericIdentifierRe = regexp.MustCompile(`^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)$`)

// builtinAllowed reports whether a gitleaks match is one of the built-in
// exceptions. match and secret are only inspected here.
func builtinAllowed(rule, match, secret string) bool {
	if rule != genericRule {
		return false
	}
	// A Go module checksum ("h1:" and a base64 SHA-256), as go.sum has
	// them and every Go binary's build information repeats them.
	// gitleaks allow-lists go.sum by path; in a binary there is no path
	// to go by.
	if strings.Contains(match, "h1:"+secret) {
		return true
	}
	return knownPublicValues[Fingerprint(secret)] ||
		openPGPDeprecatedRe.MatchString(match) ||
		lowerWordsPathRe.MatchString(secret) ||
		genericIdentifierRe.MatchString(secret)
}

// delimitedIn reports whether match occurs in text with a non-token
// character (or a line boundary) on both sides. Strings extracted from a
// binary are not delimited the way source text is: a Go binary packs its
// string literals back to back, so "glpat-" from one literal and the
// next literals read as a GitLab token. In binaries a match counts only
// when it stands apart; rules whose pattern carries its own boundary
// (a quote, a space) satisfy this by construction.
func delimitedIn(text, match string) bool { return apartIn(text, match, true) }

// apartIn reports whether match occurs in text with a non-token
// character or the start of text before it and, if after, also after it.
func apartIn(text, match string, after bool) bool {
	if match == "" {
		return true
	}
	for off := 0; ; {
		i := strings.Index(text[off:], match)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(match)
		left := start == 0 || !isTokenByte(text[start-1]) || !isTokenByte(match[0])
		right := !after || end == len(text) || !isTokenByte(text[end]) || !isTokenByte(match[len(match)-1])
		if left && right {
			return true
		}
		off = start + 1
	}
}

// isTokenByte is a character secrets are made of.
func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
