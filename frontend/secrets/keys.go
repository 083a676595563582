package secrets

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"slices"
)

// Private keys by structure. privatekey.go finds PEM armour; this file
// finds the key itself, whatever wraps it and whatever the file is
// called: a DER encoding (PKCS#1 RSA and DSA, SEC 1 EC, PKCS#8
// PrivateKeyInfo and OneAsymmetricKey, PKCS#8 EncryptedPrivateKeyInfo —
// an encrypted key is still a key that leaks, to a dictionary attack on
// its password), anywhere in a file's bytes; the same DER as a bare base64
// body without its BEGIN/END lines; PKCS#12 files, whose key bags are
// one of those DER structures; Java keystores (keystore.go), binary
// OpenPGP secret keys (openpgp.go), OpenSSH's binary key format and
// PuTTY key files (sshkeys.go). Every finding is RulePrivateKey.
//
// A DER structure is found from its fixed bytes — a version INTEGER
// followed by the tag of the next field, or a password-based encryption
// algorithm's OID — then parsed from the SEQUENCE header just before
// them, and counts only when the whole element parses as the key
// structure with a private-key algorithm. Certificates,
// SubjectPublicKeyInfo and PKCS#1 public keys have no such version field
// and are never candidates; a PKCS#12 trust store (certificate bags only)
// and a JKS trust store (trusted-certificate entries only) hold no key
// structure. The fingerprint of a DER key is that of its base64
// encoding, the same as the PEM body's, so one key has one fingerprint
// in every form.

// derNeedles are the fixed bytes a candidate key structure holds, with
// how far before them its outer SEQUENCE may start.
var derNeedles = []struct {
	needle []byte
	// minBack, maxBack bound the distance from the SEQUENCE tag to the
	// needle: one header (2 to 4 bytes) before a version field, two
	// before the OID of an EncryptedPrivateKeyInfo's algorithm.
	minBack, maxBack int
	// anchor is where in needle its derAnchors entry starts.
	anchor int
}{
	{[]byte{0x02, 0x01, 0x00, 0x30}, 2, 4, 0},                                           // PKCS#8 v1
	{[]byte{0x02, 0x01, 0x01, 0x30}, 2, 4, 0},                                           // PKCS#8 v2 (RFC 5958)
	{[]byte{0x02, 0x01, 0x00, 0x02}, 2, 4, 0},                                           // PKCS#1 RSA, DSA
	{[]byte{0x02, 0x01, 0x01, 0x04}, 2, 4, 0},                                           // SEC 1 EC
	{[]byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05}, 4, 8, 2},       // PKCS#5 PBES1/PBES2
	{[]byte{0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01}, 4, 8, 2}, // PKCS#12 PBE
}

// derAnchors are what derKeys searches for: the bytes the needles share
// (a version INTEGER's header; the RSA Data Security OID arc). One search
// per anchor instead of one per needle: the searches over every binary
// of an image were most of the cost of the key detectors.
var derAnchors = [][]byte{{0x02, 0x01}, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01}}

// Private key algorithms of a PKCS#8 PrivateKeyInfo (RFC 5958, 8410,
// 3279, 5480, 8017).
var privateKeyAlgorithms = []asn1.ObjectIdentifier{
	{1, 2, 840, 113549, 1, 1, 1},  // rsaEncryption
	{1, 2, 840, 113549, 1, 1, 10}, // RSASSA-PSS
	{1, 2, 840, 10040, 4, 1},      // DSA
	{1, 2, 840, 10045, 2, 1},      // id-ecPublicKey
	{1, 2, 840, 113549, 1, 3, 1},  // dhKeyAgreement
	{1, 2, 840, 10046, 2, 1},      // X9.42 DH
	{1, 3, 101, 110},              // X25519
	{1, 3, 101, 111},              // X448
	{1, 3, 101, 112},              // Ed25519
	{1, 3, 101, 113},              // Ed448
	{1, 3, 132, 1, 12},            // ECDH
	{1, 2, 156, 10197, 1, 301},    // SM2
}

// pbeAlgorithm reports whether oid is a password-based encryption
// scheme that encrypts an EncryptedPrivateKeyInfo: PKCS#5 PBES1
// (1.2.840.113549.1.5.1–11) and PBES2 (.13), PKCS#12 PBE
// (1.2.840.113549.1.12.1.1–6). Hash and MAC OIDs, which a PKCS#12 MacData
// with the same SEQUENCE shape uses, are not.
func pbeAlgorithm(oid asn1.ObjectIdentifier) bool {
	pkcs5 := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5}
	pkcs12 := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
	switch {
	case len(oid) == 7 && oid[:6].Equal(pkcs5):
		return oid[6] >= 1 && oid[6] <= 11 || oid[6] == 13
	case len(oid) == 8 && oid[:7].Equal(pkcs12):
		return oid[7] >= 1 && oid[7] <= 6
	}
	return false
}

// minPrivateKeyBytes is the shortest private key material accepted: an
// X25519/Ed25519 key is 32 bytes, anything shorter is not a key.
const minPrivateKeyBytes = 32

// derKeys finds the DER private key structures in dt. Overlapping
// candidates (the SEC 1 key inside a PKCS#8 one) are reported once, as
// the outer structure.
func derKeys(dt []byte) []hit {
	type cand struct{ at, minBack, maxBack int }
	var cands []cand
	for _, a := range derAnchors {
		for off := 0; ; {
			i := bytes.Index(dt[off:], a)
			if i < 0 {
				break
			}
			for _, n := range derNeedles {
				at := off + i - n.anchor
				if at >= 0 && bytes.HasPrefix(n.needle[n.anchor:], a) && bytes.HasPrefix(dt[at:], n.needle) {
					cands = append(cands, cand{at, n.minBack, n.maxBack})
				}
			}
			off += i + 1
		}
	}
	slices.SortFunc(cands, func(a, b cand) int { return a.at - b.at })
	var out []hit
	end := 0
	for _, c := range cands {
		if c.at < end {
			continue
		}
		for back := c.maxBack; back >= c.minBack; back-- {
			j := c.at - back
			if j < end || j < 0 || dt[j] != 0x30 {
				continue
			}
			if elem, ok := keyElement(dt[j:]); ok {
				out = append(out, keyHit(elem))
				end = j + len(elem)
				break
			}
		}
	}
	return out
}

// keyHit is the finding for a DER key.
func keyHit(der []byte) hit {
	return hit{rule: RulePrivateKey, fingerprint: Fingerprint(base64.StdEncoding.EncodeToString(der))}
}

// keyElement parses the DER element at the start of dt and returns it
// when it is a private key structure.
func keyElement(dt []byte) ([]byte, bool) {
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(dt, &raw); err != nil || raw.Tag != asn1.TagSequence || !raw.IsCompound {
		return nil, false
	}
	elem := raw.FullBytes
	if isPrivateKeyDER(elem) {
		return elem, !knownPublicKeys[Fingerprint(base64.StdEncoding.EncodeToString(elem))]
	}
	return nil, false
}

// pkcs8 is a PKCS#8 PrivateKeyInfo / OneAsymmetricKey.
type pkcs8 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
	Attributes asn1.RawValue  `asn1:"optional,tag:0"`
	PublicKey  asn1.BitString `asn1:"optional,tag:1"`
}

// encryptedPKCS8 is a PKCS#8 EncryptedPrivateKeyInfo.
type encryptedPKCS8 struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

// sec1 is an SEC 1 ECPrivateKey.
type sec1 struct {
	Version    int
	PrivateKey []byte
	Params     asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// rsaKey is a PKCS#1 RSAPrivateKey (two primes). It is checked by its
// arithmetic rather than with x509.ParsePKCS1PrivateKey, which refuses
// keys below 1024 bits: a short key that leaks is still a leak.
type rsaKey struct {
	Version                   int
	N, E, D, P, Q, Dp, Dq, Qi *big.Int
}

// valid reports whether the primes multiply to the modulus.
func (k rsaKey) valid() bool {
	if k.N.BitLen() < 256 || k.P.Sign() <= 0 || k.Q.Sign() <= 0 || k.D.Sign() <= 0 {
		return false
	}
	return new(big.Int).Mul(k.P, k.Q).Cmp(k.N) == 0
}

// dsaKey is OpenSSL's DSA private key.
type dsaKey struct {
	Version       int
	P, Q, G, Y, X *big.Int
}

// isPrivateKeyDER reports whether der, one whole DER element, is a
// private key structure.
func isPrivateKeyDER(der []byte) bool {
	var p8 pkcs8
	if rest, err := asn1.Unmarshal(der, &p8); err == nil && len(rest) == 0 && p8.Version <= 1 &&
		len(p8.PrivateKey) >= minPrivateKeyBytes && slices.ContainsFunc(privateKeyAlgorithms, p8.Algo.Algorithm.Equal) &&
		looksRandom(p8.PrivateKey) {
		return true
	}
	var enc encryptedPKCS8
	if rest, err := asn1.Unmarshal(der, &enc); err == nil && len(rest) == 0 && pbeAlgorithm(enc.Algo.Algorithm) && len(enc.Data) >= minPrivateKeyBytes && looksRandom(enc.Data) {
		return true
	}
	var rsa rsaKey
	if rest, err := asn1.Unmarshal(der, &rsa); err == nil && len(rest) == 0 && rsa.Version == 0 && rsa.valid() {
		return true
	}
	var ec sec1
	if rest, err := asn1.Unmarshal(der, &ec); err == nil && len(rest) == 0 && ec.Version == 1 &&
		len(ec.PrivateKey) >= 20 && len(ec.PrivateKey) <= 72 && (len(ec.Params) > 0 || ec.PublicKey.BitLength > 0) && looksRandom(ec.PrivateKey) {
		return true
	}
	var dsa dsaKey
	if rest, err := asn1.Unmarshal(der, &dsa); err == nil && len(rest) == 0 && dsa.Version == 0 &&
		dsa.P.BitLen() >= 512 && dsa.Q.BitLen() >= 160 && dsa.X.Sign() > 0 && dsa.X.Cmp(dsa.Q) < 0 {
		return true
	}
	return false
}

// looksRandom reports whether the last (up to) 32 bytes of key material
// look like key material: at least 20 distinct values and at most 4 zero
// bytes (32 random bytes have about 30 distinct values and rarely two
// zeros). A DER header written as a constant — Python's cryptography
// package keeps the 16-byte X25519 PKCS#8 prefix in a .pyc — is followed
// by whatever bytes come next, whose length fits but which are not a
// key.
func looksRandom(b []byte) bool {
	tail := b[max(0, len(b)-32):]
	var seen [256]bool
	distinct, zeros := 0, 0
	for _, c := range tail {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
		if c == 0 {
			zeros++
		}
	}
	return distinct >= len(tail)*5/8 && zeros <= 4
}
