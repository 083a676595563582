package secrets

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Text encodings that the run finder of decode.go does not see as one
// segment: base64, base32 and hex wrapped over several lines (base64(1)
// and base32(1) wrap at 76 columns, PEM at 64, xxd -p at 60), backslash
// escapes (JSON's \uXXXX, C's and Python's \xXX), and UTF-16 text, which
// the NUL rule takes for a binary.

// isBase32String reports whether s is in one case of the base32
// alphabet (RFC 4648: A–Z and 2–7), padding stripped, with a length a
// base32 encoding can have.
func isBase32String(s string) bool {
	if r := len(s) % 8; r == 1 || r == 3 || r == 6 {
		return false
	}
	upper, lower := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		digit := c >= '2' && c <= '7'
		upper = upper && (digit || c >= 'A' && c <= 'Z')
		lower = lower && (digit || c >= 'a' && c <= 'z')
		if !upper && !lower {
			return false
		}
	}
	return true
}

// startsContainer reports whether dt starts with a compressed stream or
// an archive that openContainers opens.
func startsContainer(dt []byte) bool {
	if isZlib(dt) || isTar(dt) || len(dt) >= 4 && string(dt[:4]) == "PK\x03\x04" {
		return true
	}
	for _, m := range containerStarts(dt[:min(len(dt), 600)]) {
		if m.at == 0 {
			return true
		}
	}
	return false
}

// structured reports whether a short binary payload decoded from a
// segment starts like something a detector reads whole: a compressed
// stream or archive, a DER structure (an ASN.1 SEQUENCE: PKCS#1, PKCS#8,
// PKCS#12), a Java keystore (JKS, JCEKS), an OpenPGP secret-key packet,
// UTF-16 text, or the header of an LZMA stream without a container.
func structured(dt []byte) bool {
	if len(dt) < 16 {
		return false
	}
	switch {
	case dt[0] == 0x30 && (dt[1] == 0x82 || dt[1] == 0x81 || int(dt[1]) == len(dt)-2):
		return true
	case string(dt[:4]) == "\xfe\xed\xfe\xed" || string(dt[:4]) == "\xce\xce\xce\xce":
		return true
	case dt[0] == 0xc5 || dt[0]&0xfc == 0x94:
		return true
	}
	_, u16 := utf16Text(dt)
	return u16 || startsContainer(dt) || isLZMAAlone(dt) || isRawLZMA2(dt)
}

// minWrapWidth is the shortest line taken for a wrapped encoding.
const minWrapWidth = 16

// wrappedSegments finds encodings wrapped over several lines: two or
// more consecutive lines of the base64 alphabet (indentation aside), all
// as long as the first but the last (which may be one character),
// padding only on the last. Their concatenation is decoded as one run.
func wrappedSegments(text string) []segment {
	return wrappedRuns(text, "=", func(line string) bool {
		body := strings.TrimRight(line, "=")
		return len(line)-len(body) <= 6 && allBytes(body, isBase64Segment)
	}, func(joined string) ([]byte, decoder, bool) {
		return decodeRun(strings.TrimRight(joined, "="))
	})
}

// wrappedRuns groups consecutive lines of text that in accepts
// (indentation aside) — at least minWrapWidth long, but the last of a
// group, which may be shorter; all but the last as long as the first;
// padding, when the encoding has one, only on the last — and decodes
// each group of two or more lines joined.
func wrappedRuns(text, padding string, in func(line string) bool, decode func(joined string) ([]byte, decoder, bool)) []segment {
	var out []segment
	var group []string
	start, end, width := 0, 0, 0
	flush := func() {
		if len(group) >= 2 {
			if dt, dec, ok := decode(strings.Join(group, "")); ok {
				out = append(out, segment{start: start, raw: text[start:end], dt: dt, dec: dec})
			}
		}
		group = nil
	}
	eachLine(text, func(ls, le int) {
		line := strings.TrimSpace(text[ls:le])
		long := len(line) >= minWrapWidth || len(group) > 0 && line != ""
		if !long || !in(line) {
			flush()
			return
		}
		if len(group) > 0 {
			last := group[len(group)-1]
			if len(last) != width || padding != "" && strings.HasSuffix(last, padding) || len(line) > width {
				flush()
			}
		}
		if len(group) == 0 {
			start, width = ls, len(line)
		}
		group = append(group, line)
		end = le
	})
	flush()
	return out
}

// allBytes reports whether in accepts every byte of s.
func allBytes(s string, in func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !in(s[i]) {
			return false
		}
	}
	return true
}

// minEscapes is how many backslash escapes make a line worth unescaping.
const minEscapes = 2

// escapedSegments unescapes the lines of text that hold at least
// minEscapes \uXXXX or \xXX escapes.
func escapedSegments(text string) []segment {
	if !strings.Contains(text, `\u`) && !strings.Contains(text, `\x`) {
		return nil
	}
	var out []segment
	eachLine(text, func(ls, le int) {
		line := text[ls:le]
		if strings.Count(line, `\u`)+strings.Count(line, `\x`) >= minEscapes {
			if dt, n := unescape(line); n >= minEscapes {
				out = append(out, segment{start: ls, raw: line, dt: dt, dec: decEscaped})
			}
		}
	})
	return out
}

// eachLine calls fn with the [start, end) range of every line of text,
// newline excluded.
func eachLine(text string, fn func(start, end int)) {
	for ls := 0; ls < len(text); {
		le := strings.IndexByte(text[ls:], '\n')
		if le < 0 {
			le = len(text)
		} else {
			le += ls
		}
		fn(ls, le)
		ls = le + 1
	}
}

// unescape resolves the backslash escapes of s that JSON, JavaScript,
// Python and C share — \uXXXX (surrogate pairs joined), \xXX, \n, \t,
// \r, and an escaped quote, slash or backslash — and returns the result
// and how many \u and \x escapes it resolved. Other escapes stay.
func unescape(s string) ([]byte, int) {
	b := make([]byte, 0, len(s))
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b = append(b, s[i])
			continue
		}
		switch c := s[i+1]; {
		case c == 'u' && i+6 <= len(s) && isHexString(s[i+2:i+6]):
			r, _ := strconv.ParseUint(s[i+2:i+6], 16, 16)
			i += 5
			if utf16.IsSurrogate(rune(r)) && i+7 <= len(s) && s[i+1] == '\\' && s[i+2] == 'u' && isHexString(s[i+3:i+7]) {
				r2, _ := strconv.ParseUint(s[i+3:i+7], 16, 16)
				r = uint64(utf16.DecodeRune(rune(r), rune(r2)))
				i += 6
			}
			b = utf8.AppendRune(b, rune(r))
			n++
		case c == 'x' && i+4 <= len(s) && isHexString(s[i+2:i+4]):
			v, _ := strconv.ParseUint(s[i+2:i+4], 16, 8)
			b = append(b, byte(v))
			i += 3
			n++
		case strings.IndexByte(`"'/\`, c) >= 0:
			b = append(b, c)
			i++
		case c == 'n' || c == 't' || c == 'r':
			b = append(b, map[byte]byte{'n': '\n', 't': '\t', 'r': '\r'}[c])
			i++
		default:
			b = append(b, s[i])
		}
	}
	return b, n
}

// utf16Sample is how much of a payload decides whether it is UTF-16.
const utf16Sample = 1024

// utf16Text returns dt decoded from UTF-16 to UTF-8 when it is UTF-16
// text: it starts with a byte-order mark, or, in its first utf16Sample
// bytes, nine code units in ten are ASCII (a NUL high byte and a
// printable or whitespace low byte), in either byte order.
func utf16Text(dt []byte) ([]byte, bool) {
	if len(dt) < 24 {
		return nil, false
	}
	var be bool
	switch {
	case dt[0] == 0xff && dt[1] == 0xfe:
		dt = dt[2:]
	case dt[0] == 0xfe && dt[1] == 0xff:
		dt, be = dt[2:], true
	default:
		le, bigEnd, units := 0, 0, min(len(dt), utf16Sample)/2
		for i := 0; i+1 < 2*units; i += 2 {
			if dt[i+1] == 0 && asciiText(dt[i]) {
				le++
			}
			if dt[i] == 0 && asciiText(dt[i+1]) {
				bigEnd++
			}
		}
		switch {
		case le*10 >= units*9:
		case bigEnd*10 >= units*9:
			be = true
		default:
			return nil, false
		}
	}
	u := make([]uint16, len(dt)/2)
	for i := range u {
		if be {
			u[i] = uint16(dt[2*i])<<8 | uint16(dt[2*i+1])
		} else {
			u[i] = uint16(dt[2*i+1])<<8 | uint16(dt[2*i])
		}
	}
	return []byte(string(utf16.Decode(u))), true
}

// asciiText is a printable ASCII byte or whitespace.
func asciiText(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\n' || c == '\r' || c == '\t' }
