package secrets

import (
	"strings"
)

const (
	pemBegin = "-----BEGIN "
	// maxPEMLabel bounds the label between "-----BEGIN " and "-----", as
	// gitleaks' private-key rule does ({0,100}).
	maxPEMLabel = 100
	// minKeyBody is the fewest base64 characters that make a block a key
	// rather than documentation or a format string: the smallest real
	// private key, an Ed25519 PKCS#8 one, has 64.
	minKeyBody = 40
	// maxKeyBody bounds how much of a block is read: an RSA-16384 key in
	// PEM is about 13 KB.
	maxKeyBody = 64 << 10
)

// privateKeys finds PEM private key blocks in text: any "-----BEGIN
// <label>-----" whose label ends in PRIVATE KEY (PKCS#1, PKCS#8, SEC 1,
// OpenSSH, encrypted ones, "PGP PRIVATE KEY BLOCK") followed by a key
// body. The body may be indented (YAML), JSON-escaped ("\n"), lack its
// END line (a truncated copy still leaks the key) or carry RFC 1421
// headers (Proc-Type, DEK-Info). The secret fingerprinted is the base64
// body without whitespace, so the same key has the same fingerprint
// however it is laid out. lines says whether to report line numbers.
func privateKeys(text string, lines bool) []hit {
	var out []hit
	for off := 0; ; {
		i := strings.Index(text[off:], pemBegin)
		if i < 0 {
			return out
		}
		start := off + i
		off = start + len(pemBegin)
		labelEnd := strings.Index(text[off:min(len(text), off+maxPEMLabel+5)], "-----")
		if labelEnd < 0 {
			continue
		}
		label := text[off : off+labelEnd]
		if !strings.HasSuffix(label, "PRIVATE KEY") && !strings.HasSuffix(label, "PRIVATE KEY BLOCK") {
			continue
		}
		if strings.ContainsAny(label, "\n\r") {
			continue
		}
		off += labelEnd + len("-----")
		body, end := pemBody(text[off:min(len(text), off+maxKeyBody)])
		if len(body) < minKeyBody || !hasBase64Run(text[off:off+end], minKeyBody) {
			// A key body is lines of base64; words that happen to be
			// base64 characters, spaces skipped, are not one: libmagic's
			// pattern tables (PHP's fileinfo.so) put "PEM RSA private
			// key" right after a BEGIN line.
			continue
		}
		h := hit{rule: RulePrivateKey, fingerprint: Fingerprint(body), value: text[start : off+end]}
		if knownPublicKeys[h.fingerprint] {
			off += end
			continue
		}
		if lines {
			h.line = lineAt(text, start)
		}
		out = append(out, h)
		off += end
	}
}

// pemBody collects the base64 characters of a PEM body from s, which
// starts right after the BEGIN line's closing dashes. It stops at the END
// line or at the first character that cannot be part of a body, and
// returns the body and how much of s it consumed.
func pemBody(s string) (string, int) {
	var b strings.Builder
	i := 0
	atLineStart := false
	for i < len(s) {
		c := s[i]
		switch {
		case isBase64(c):
			if atLineStart && isHeaderLine(s[i:]) {
				// "Proc-Type: 4,ENCRYPTED" / "Comment: …": skip the line.
				nl := strings.IndexByte(s[i:], '\n')
				if nl < 0 {
					return b.String(), len(s)
				}
				i += nl
				continue
			}
			atLineStart = false
			b.WriteByte(c)
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if c == '\n' {
				atLineStart = true
			}
			i++
		case c == '\\' && i+1 < len(s) && (s[i+1] == 'n' || s[i+1] == 'r'):
			// A JSON or shell string with escaped newlines.
			atLineStart = s[i+1] == 'n'
			i += 2
		case c == '"' || c == '\'':
			// Quotes around the lines of a block written as string
			// literals; skipping them keeps the fingerprint the key's.
			i++
		default:
			// The END line, or text that is not a key body.
			return b.String(), i
		}
	}
	return b.String(), i
}

// hasBase64Run reports whether s holds at least n base64 characters in a
// row.
func hasBase64Run(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if !isBase64(s[i]) {
			run = 0
			continue
		}
		if run++; run >= n {
			return true
		}
	}
	return false
}

func isBase64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

// isHeaderLine reports whether s starts with an RFC 1421 or OpenPGP armor
// header ("Name: value").
func isHeaderLine(s string) bool {
	for _, h := range []string{"Proc-Type:", "DEK-Info:", "Comment:", "Version:", "Hash:", "Charset:"} {
		if strings.HasPrefix(s, h) {
			return true
		}
	}
	return false
}
