package secrets

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Encoded secrets. gitleaks' detector decodes base64, hex and percent-
// encoded segments of the fragment it is given (MaxDecodeDepth), but the
// keyword windows never hand it an encoded segment — the keywords are
// what the encoding hides — so hardenkit finds the segments itself:
// base64 (standard and URL-safe, padded or not, one line or wrapped over
// several), base32, hex, percent-encoding and backslash escapes (JSON's
// \uXXXX, \xXX), and runs every detector on what they decode to, opening
// that again, layer after layer, within the file's budget (budget.go).
// Compressed streams and archives are opened the same way
// (decode_compress.go), UTF-16 text is read as text (decode_text.go).
// Reversed tokens are found by looking for the reversed keywords of the
// high-confidence rules.
const (
	// minEncoded is the shortest segment decoded: every token format
	// detected is at least 16 characters, 21 in base64.
	minEncoded = 20
	// minBinaryPayload is the shortest decoded segment scanned when it
	// is not text and does not start like a structure worth opening (a
	// compressed stream, DER, a keystore, UTF-16): shorter ones are the
	// chance decodings of identifiers and the digests that fill lock
	// files and package lists (a SHA-512 is 64 bytes).
	minBinaryPayload = 128
	// minReversedKeyword is the shortest keyword looked for reversed:
	// shorter ones ("ey") occur reversed everywhere.
	minReversedKeyword = 4
)

// decodedSegment is text decoded from an encoded segment, the line of
// the segment in the text it was found in, and the encoded segment as it
// stands there (what Scanner.Mask overwrites).
type decodedSegment struct {
	text string
	line int
	raw  string
}

// decoding says how scanDecoded treats one text: lines whether line
// numbers mean anything, low whether the low-confidence rules run,
// verified whether a package database vouches for the bytes, code
// whether it is compiled code (leafMode; what its segments decode to
// inherits it, an archive member or a stream has its own), depth how
// many more layers may be opened, st the file's budget and counts (nil:
// a fresh budget, and depth 0 means maxDecodeDepth).
//
// ra, size and off place the bytes given as whole in the payload they
// are a piece of — a file read in pieces — so that a stream or archive
// starting in the piece is read to its end through ra; with ra nil the
// bytes are the whole payload. piece says they are a piece of a payload
// too large to hold, with no ra: a container running past its end makes
// the file not-evaluated.
type decoding struct {
	lines, low, verified, code bool
	depth                      int
	st                         *decodeState
	ra                         io.ReaderAt
	size, off                  int64
	piece                      bool
}

// scanDecoded runs the detectors on the encoded and compressed forms
// found in text and in whole (the raw bytes text was read from, when
// they are not text itself), and on text reversed where a reversed
// high-confidence keyword occurs. o says how (see decoding); verified
// covers whole and so what it decompresses to.
func (s *Scanner) scanDecoded(ctx context.Context, p, text string, whole []byte, o decoding) []hit {
	if o.st == nil {
		o.st = newDecodeState(int64(max(len(text), len(whole))))
		if o.depth == 0 {
			o.depth = maxDecodeDepth
		}
	}
	var hits []hit
	if len(whole) > 0 {
		hits = append(hits, s.openContainers(ctx, p, whole, o)...)
	}
	hits = append(hits, s.scanSegments(ctx, text, o)...)
	for _, r := range s.gitleaks.reversedLines(text) {
		for _, h := range s.gitleaks.scan(ctx, "", r.text, false, nil, false) {
			h.line, h.value = 0, reverse(h.value)
			if o.lines {
				h.line = r.line
			}
			hits = append(hits, h)
		}
	}
	return hits
}

// scanSegments decodes the encoded segments of text and scans what each
// decodes to — text, or a binary payload long enough to hold a key or a
// compressed stream — as a decoded payload, one layer deeper. A finding
// is at the segment's line, its value the segment as it stands in text.
func (s *Scanner) scanSegments(ctx context.Context, text string, o decoding) []hit {
	var hits []hit
	for _, seg := range segments(text) {
		if o.st.stop() {
			break
		}
		textual := isText(seg.dt)
		switch {
		case !textual && len(seg.dt) < minBinaryPayload && !structured(seg.dt):
			continue
		case !textual && o.depth <= 0:
			// A chance decoding is not a layer; a container is.
			if startsContainer(seg.dt) {
				o.st.exhausted = true
			}
			continue
		case textual && !o.st.deeper(o.depth):
			return hits
		}
		if !o.st.take(len(seg.dt)) {
			break
		}
		if textual {
			o.st.count(seg.dec)
		}
		child := decoding{low: o.low, verified: o.verified, code: o.code, depth: o.depth - 1, st: o.st}
		for _, h := range s.scanNested(ctx, "", seg.dt, child) {
			h.value = seg.raw
			if o.lines {
				h.line = lineAt(text, seg.start)
			}
			hits = append(hits, h)
		}
	}
	return hits
}

// segment is an encoded segment of a text: where it starts, as it stands
// there, what it decodes to and which decoder did.
type segment struct {
	start int
	raw   string
	dt    []byte
	dec   decoder
}

// segments finds the encoded segments of text that decode: runs of
// base64, base32 or hex characters on one line or wrapped over several,
// percent-encoded runs, and lines with backslash escapes.
func segments(text string) []segment {
	var out []segment
	// One pass over the text finds the runs of base64 characters (hex and
	// base32 are subsets) and of percent-encoding characters; a regular
	// expression per encoding cost more than all the detectors together.
	for _, r := range runs(text, isBase64Segment, minEncoded) {
		seg := text[r[0]:r[1]]
		if dt, dec, ok := decodeRun(seg); ok {
			out = append(out, segment{start: r[0], raw: seg, dt: dt, dec: dec})
		}
	}
	out = append(out, wrappedSegments(text)...)
	if strings.IndexByte(text, '%') >= 0 {
		for _, r := range runs(text, isPercentSegment, minEncoded) {
			seg := text[r[0]:r[1]]
			if strings.Count(seg, "%") < 3 {
				continue
			}
			if dt, err := url.PathUnescape(seg); err == nil {
				out = append(out, segment{start: r[0], raw: seg, dt: []byte(dt), dec: decPercent})
			}
		}
	}
	out = append(out, base85Segments(text)...)
	return append(out, escapedSegments(text)...)
}

// decodeRun decodes a run of base64-alphabet characters (padding
// stripped): as hex when it is all hex digits, as base32 when it is in
// that alphabet and decodes to text or a container, as base64 otherwise.
func decodeRun(seg string) ([]byte, decoder, bool) {
	if isHexString(seg) {
		if len(seg)%2 == 0 && len(seg) >= 32 {
			if dt, err := hex.DecodeString(seg); err == nil {
				return dt, decHex, true
			}
		}
		return nil, 0, false
	}
	if isBase32String(seg) {
		if dt, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(seg)); err == nil && (isText(dt) || startsContainer(dt)) {
			return dt, decBase32, true
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		if dt, err := enc.DecodeString(padBase64(seg)); err == nil {
			return dt, decBase64, true
		}
	}
	return nil, 0, false
}

// runs returns the [start, end) ranges of the maximal runs of at least
// min bytes of text that in accepts.
func runs(text string, in func(byte) bool, min int) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i <= len(text); i++ {
		if i < len(text) && in(text[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= min {
			out = append(out, [2]int{start, i})
		}
		start = -1
	}
	return out
}

// isBase64Segment is a byte of standard or URL-safe base64, padding
// excluded.
func isBase64Segment(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '_' || c == '-'
}

// isPercentSegment is a byte of a percent-encoded URL component.
func isPercentSegment(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("._~+-%", c) >= 0
}

// padBase64 pads an unpadded segment to a multiple of four.
func padBase64(s string) string {
	s = strings.TrimRight(s, "=")
	if r := len(s) % 4; r != 0 {
		s += strings.Repeat("=", 4-r)
	}
	return s
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// isText reports whether decoded bytes are text: valid UTF-8 of at least
// 12 bytes with no control characters but whitespace. Random bytes that
// happened to be valid base64 are not.
func isText(dt []byte) bool {
	if len(dt) < 12 || !utf8.Valid(dt) {
		return false
	}
	for _, c := range dt {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// reverse returns s reversed byte by byte (tokens are ASCII).
func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
