// Package tokensum computes the checksum GitHub and npm append to their
// tokens (github.blog/2021-04-05-behind-githubs-new-authentication-token-formats,
// github.blog/changelog/2021-09-23-npm-has-a-new-access-token-format):
// a prefix ("ghp_", "npm_"), 30 random base62 characters, then the CRC32
// (IEEE) of those 30 in base62, zero-padded to 6 characters. The secret
// detector validates glued tokens with it, and secretstest plants tokens
// the way the issuers make them; it is a package of its own so that both
// can import it.
package tokensum

import "hash/crc32"

// alphabet is the digit order of the base62 encoding.
const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Base62CRC32 returns the 6-character checksum of a token's random part.
func Base62CRC32(body string) string {
	sum := crc32.ChecksumIEEE([]byte(body))
	var out [6]byte
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = alphabet[sum%62]
		sum /= 62
	}
	return string(out[:])
}

// Valid reports whether token is a 4-character prefix, 30 characters and
// the Base62CRC32 of those 30.
func Valid(token string) bool {
	return len(token) == 40 && Base62CRC32(token[4:34]) == token[34:]
}
