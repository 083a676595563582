package secrets

import (
	"bytes"
	"encoding/ascii85"
	"strings"
)

// The base85 family: four bytes in five characters. Its alphabets take
// most printable ASCII, so a run is not recognised by its characters
// alone: a candidate is decoded, and counts only when what it decodes to
// is text or starts like a structure a detector reads (structured) — a
// chance decoding of a URL or a minified line is random bytes. The
// candidates are
//
//   - Adobe ascii85 between "<~" and "~>", wrapped or not (PostScript,
//     PDF, Python's a85encode(adobe=True));
//   - btoa's "xbtoa Begin" … "xbtoa End" blocks (ascii85 with "z" for
//     four zero bytes and "y" for four spaces);
//   - git's binary patches ("GIT binary patch", "literal N", lines of a
//     length character and base85 of a zlib stream);
//   - runs of at least minBase85Run non-blank characters on one line, or
//     wrapped over lines as long as the first (the last shorter), that
//     are not all base64 (which segments decodes): tried as ascii85
//     (characters "!" to "u", "z"), as RFC 1924 base85 (Python's
//     b85encode, git, Mercurial: 0-9A-Za-z!#$%&()*+-;<=>?@^_`{|}~) and
//     as ZeroMQ's Z85 (0-9a-zA-Z.-:+=^!/*?&<>()[]{}@%$#, length a
//     multiple of five), in that order.
//
// What they decode to is a segment like base64's (scanSegments): one
// layer deeper, its bytes taken from the file's budget.

const (
	// minBase85Run is the shortest run tried: 20 bytes, every token
	// format detected is longer.
	minBase85Run = 25
	// maxBase85Block bounds how far "~>" or "xbtoa End" may follow the
	// start of a block; the bytes are charged to the budget anyway.
	maxBase85Block = 16 << 20
)

// rfc1924Alphabet is the digit order of RFC 1924, Python's b85 and git.
const rfc1924Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"

// z85Alphabet is the digit order of ZeroMQ's Z85 (rfc.zeromq.org/spec/32).
const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

// base85Digits maps a character to its value in an alphabet, -1 when it
// is not in it.
type base85Digits [256]int8

func digitsOf(alphabet string) *base85Digits {
	var d base85Digits
	for i := range d {
		d[i] = -1
	}
	for i := 0; i < len(alphabet); i++ {
		d[alphabet[i]] = int8(i)
	}
	return &d
}

var (
	rfc1924Digits = digitsOf(rfc1924Alphabet)
	z85Digits     = digitsOf(z85Alphabet)
)

// base85Segments finds the base85 candidates of text (see above) that
// decode to text or a structure.
func base85Segments(text string) []segment {
	var out []segment
	out = append(out, delimitedBase85(text, "<~", "~>", "")...)
	out = append(out, delimitedBase85(text, "xbtoa Begin", "xbtoa End", "y")...)
	out = append(out, gitBinaryPatches(text)...)
	for _, r := range runs(text, isBase85Run, minBase85Run) {
		raw := text[r[0]:r[1]]
		if strings.Contains(raw, "<~") {
			continue // a delimited block, decoded above
		}
		if dt, dec, ok := decodeBase85Value(raw); ok {
			out = append(out, segment{start: r[0], raw: raw, dt: dt, dec: dec})
		}
	}
	return append(out, wrappedBase85(text)...)
}

// isBase85Run is a byte of some base85 alphabet: printable, not blank.
func isBase85Run(c byte) bool { return c > ' ' && c < 0x7f }

// delimitedBase85 decodes the ascii85 blocks of text between begin and
// end; y, when set, stands for four spaces (btoa).
func delimitedBase85(text, begin, end, y string) []segment {
	var out []segment
	for off := 0; ; {
		i := strings.Index(text[off:], begin)
		if i < 0 {
			return out
		}
		start := off + i
		body := start + len(begin)
		j := strings.Index(text[body:min(len(text), body+maxBase85Block)], end)
		if j < 0 {
			return out
		}
		off = body + j + len(end)
		enc := text[body : body+j]
		if y != "" {
			// btoa's header ends its line; its "y" is ascii85's "+<VdL".
			if nl := strings.IndexByte(enc, '\n'); nl >= 0 {
				enc = enc[nl+1:]
			}
			enc = strings.ReplaceAll(enc, y, "+<VdL")
		}
		dt, ok := decodeASCII85(enc)
		if y != "" {
			// btoa pads the last group with zero bytes; its trailer
			// holds the length.
			dt = bytes.TrimRight(dt, "\x00")
		}
		if ok && useful85(dt) {
			out = append(out, segment{start: start, raw: text[start:off], dt: dt, dec: decBase85})
		}
	}
}

// decodeBase85Value decodes a run as a whole, and else the value it may
// assign ("KEY=<run>", "key:<run>", quoted): the separators are in the
// ascii85 alphabet, so the run glues a name to its value.
func decodeBase85Value(raw string) ([]byte, decoder, bool) {
	const quotes = `"'` + "`"
	if dt, dec, ok := decodeBase85Run(strings.Trim(raw, quotes+",")); ok {
		return dt, dec, true
	}
	if i := strings.IndexAny(raw, "=:"); i > 0 && i < len(raw)-minBase85Run {
		return decodeBase85Run(strings.Trim(raw[i+1:], quotes+",;{}[]()"))
	}
	return nil, 0, false
}

// decodeASCII85 decodes ascii85, blanks ignored.
func decodeASCII85(enc string) ([]byte, bool) {
	dst := make([]byte, 4*(len(enc)/5+1)+4*strings.Count(enc, "z"))
	n, _, err := ascii85.Decode(dst, []byte(enc), true)
	return dst[:n], err == nil && n > 0
}

// useful85 reports whether a base85 decoding is worth scanning: text, a
// container, or a structure a detector reads — a short one only when it
// is DER. ascii85 of a code identifier starting with a capital letter
// decodes to bytes 0x94-0x97, which look like an OpenPGP packet header.
func useful85(dt []byte) bool {
	return isText(dt) || startsContainer(dt) || isLZMAAlone(dt) || isRawLZMA2(dt) ||
		len(dt) > 0 && dt[0] == 0x30 && structured(dt) || len(dt) >= minBinaryPayload && structured(dt)
}

// decodeBase85Run decodes a run as ascii85, RFC 1924 base85 or Z85, the
// first that gives text or a structure. A run of the base64 alphabet is
// base64's.
func decodeBase85Run(run string) ([]byte, decoder, bool) {
	if len(run) < minBase85Run || allBytes(strings.TrimRight(run, "="), isBase64Segment) || distinctBytes(run) < minBase85Distinct {
		return nil, 0, false
	}
	if allBytes(run, func(c byte) bool { return c >= '!' && c <= 'u' || c == 'z' }) {
		if dt, ok := decodeASCII85(run); ok && useful85(dt) {
			return dt, decBase85, true
		}
	}
	if dt, ok := decodeBase85Digits(run, rfc1924Digits); ok && useful85(dt) {
		return dt, decBase85, true
	}
	if len(run)%5 == 0 {
		if dt, ok := decodeBase85Digits(run, z85Digits); ok && useful85(dt) {
			return dt, decZ85, true
		}
	}
	return nil, 0, false
}

// minBase85Distinct is how many different characters a run must have:
// base85 of 20 bytes has about 18; a rule of dashes or equals signs,
// which may decode to text, has one.
const minBase85Distinct = 12

// distinctBytes counts the different bytes of s.
func distinctBytes(s string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n
}

// decodeBase85Digits decodes big-endian groups of five digits of an
// alphabet into four bytes each; a last, shorter group is padded with
// the highest digit and gives one byte fewer than its length, as
// Python's b85decode does.
func decodeBase85Digits(s string, d *base85Digits) ([]byte, bool) {
	out := make([]byte, 0, len(s)/5*4+4)
	for i := 0; i < len(s); i += 5 {
		group := s[i:min(len(s), i+5)]
		if len(group) == 1 {
			return nil, false
		}
		var v uint64
		for k := 0; k < 5; k++ {
			digit := int8(84)
			if k < len(group) {
				if digit = d[group[k]]; digit < 0 {
					return nil, false
				}
			}
			v = v*85 + uint64(digit)
		}
		if v > 0xffffffff {
			return nil, false
		}
		b := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		out = append(out, b[:len(group)-1]...)
	}
	return out, true
}

// wrappedBase85 joins consecutive lines that are one run each, all as
// long as the first but the last, and decodes them as one run.
func wrappedBase85(text string) []segment {
	return wrappedRuns(text, "", func(line string) bool { return allBytes(line, isBase85Run) }, decodeBase85Run)
}

// gitBinaryPatches decodes the first hunk ("literal N" or "delta N") of
// each of git's binary patches: lines of a length character (A-Z 1-26,
// a-z 27-52 bytes) and base85 of that many bytes, which together are a
// zlib stream, up to a blank line.
func gitBinaryPatches(text string) []segment {
	const marker = "GIT binary patch\n"
	var out []segment
	for off := 0; ; {
		i := strings.Index(text[off:], marker)
		if i < 0 {
			return out
		}
		start := off + i
		off = start + len(marker)
		header, rest, _ := strings.Cut(text[off:], "\n")
		if !strings.HasPrefix(header, "literal ") && !strings.HasPrefix(header, "delta ") {
			continue
		}
		off += len(header) + 1
		var dt []byte
		for len(rest) > 0 && len(dt) < maxBase85Block {
			line, next, _ := strings.Cut(rest, "\n")
			b, ok := gitPatchLine(line)
			if !ok {
				break
			}
			dt = append(dt, b...)
			off += len(line) + 1
			rest = next
		}
		if len(dt) > 0 && startsContainer(dt) {
			out = append(out, segment{start: start, raw: text[start:min(off, len(text))], dt: dt, dec: decBase85})
		}
	}
}

// gitPatchLine decodes one line of a git binary patch hunk.
func gitPatchLine(line string) ([]byte, bool) {
	if len(line) < 6 {
		return nil, false
	}
	n := 0
	switch c := line[0]; {
	case c >= 'A' && c <= 'Z':
		n = int(c-'A') + 1
	case c >= 'a' && c <= 'z':
		n = int(c-'a') + 27
	default:
		return nil, false
	}
	b, ok := decodeBase85Digits(line[1:], rfc1924Digits)
	if !ok || len(b) < n {
		return nil, false
	}
	return b[:n], true
}
