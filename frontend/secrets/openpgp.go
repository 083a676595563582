package secrets

// OpenPGP secret keys in binary form (RFC 4880 and RFC 9580): a packet
// stream — what `gpg --export-secret-keys` writes without --armor, and
// what an armoured "PGP PRIVATE KEY BLOCK" encodes — holding a Secret-Key
// (tag 5) or Secret-Subkey (tag 7) packet. The stream is walked from the
// start of the bytes, header by header (old and new packet formats); a
// public keyring (/usr/share/keyrings/*.gpg: public keys, user ids,
// signatures, public subkeys — tags 6, 13, 2, 14) has no secret packet
// and is not a finding. A secret packet counts when its body starts like
// a key: version 3 to 6, a creation time, a public-key algorithm
// OpenPGP defines.
const (
	pgpTagSecretKey    = 5
	pgpTagSecretSubkey = 7
	// maxPGPPackets bounds the packets walked.
	maxPGPPackets = 1 << 16
)

// openPGPSecretKeys reports the secret key packets of the OpenPGP packet
// stream that starts dt, fingerprinted by the packet's body.
func openPGPSecretKeys(dt []byte) []hit {
	var out []hit
	for off, n := 0, 0; off < len(dt) && n < maxPGPPackets; n++ {
		tag, body, next, ok := pgpPacket(dt, off)
		if !ok {
			return out
		}
		if (tag == pgpTagSecretKey || tag == pgpTagSecretSubkey) && pgpKeyBody(body) {
			out = append(out, hit{rule: RulePrivateKey, fingerprint: fingerprintBytes(body)})
		}
		off = next
	}
	return out
}

// pgpPacket parses the packet header at dt[off:] and returns the tag,
// the body and where the next packet starts. Partial body lengths, which
// only data packets use, end the walk.
func pgpPacket(dt []byte, off int) (tag int, body []byte, next int, ok bool) {
	h := dt[off]
	if h&0x80 == 0 {
		return 0, nil, 0, false
	}
	var n, hl int
	if h&0x40 == 0 { // old format: tag in bits 5-2, length type in 1-0
		tag = int(h>>2) & 0x0f
		switch lt := h & 3; lt {
		case 0, 1, 2:
			hl = 1 + 1<<lt
			if off+hl > len(dt) {
				return 0, nil, 0, false
			}
			for _, c := range dt[off+1 : off+hl] {
				n = n<<8 | int(c)
			}
		default:
			return 0, nil, 0, false // indeterminate length
		}
	} else { // new format
		tag = int(h & 0x3f)
		if off+2 > len(dt) {
			return 0, nil, 0, false
		}
		switch c := int(dt[off+1]); {
		case c < 192:
			n, hl = c, 2
		case c < 224:
			if off+3 > len(dt) {
				return 0, nil, 0, false
			}
			n, hl = (c-192)<<8+int(dt[off+2])+192, 3
		case c == 255:
			if off+6 > len(dt) {
				return 0, nil, 0, false
			}
			n, hl = int(dt[off+2])<<24|int(dt[off+3])<<16|int(dt[off+4])<<8|int(dt[off+5]), 6
		default:
			return 0, nil, 0, false
		}
	}
	if tag == 0 || n < 0 || off+hl+n > len(dt) {
		return 0, nil, 0, false
	}
	return tag, dt[off+hl : off+hl+n], off + hl + n, true
}

// pgpKeyBody reports whether a key packet body starts like one: a
// version, a creation time (and for version 3 a validity period), and a
// public-key algorithm of the OpenPGP registry, with key material after.
func pgpKeyBody(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	algo := b[5]
	switch b[0] {
	case 3:
		algo = b[7]
	case 4, 5, 6:
	default:
		return false
	}
	switch algo {
	case 1, 2, 3, 16, 17, 18, 19, 20, 21, 22, 25, 26, 27, 28:
		return true
	}
	return false
}
