package secrets

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Encoded secrets. gitleaks' detector decodes base64, hex and percent-
// encoded segments of the fragment it is given (MaxDecodeDepth), but the
// keyword windows never hand it an encoded segment — the keywords are
// what the encoding hides — so hardenkit finds the segments itself,
// decodes them the same three ways, and runs every detector on what
// decodes to text, up to maxDecodeDepth layers (base64 of hex of …).
// Compressed data (gzip, zip, tar) is opened the same way, to
// maxArchiveDepth levels. Reversed tokens are found by looking for the
// reversed keywords of the high-confidence rules.
const (
	maxDecodeDepth  = 2
	maxArchiveDepth = 2
	// minEncoded is the shortest segment decoded: every token format
	// detected is at least 16 characters, 21 in base64.
	minEncoded = 20
	// maxDecodedTotal bounds the decoded text of one blob, and
	// maxInflated the bytes read out of one compressed stream or
	// archive member: a decompression bomb must not exhaust memory.
	maxDecodedTotal = 16 << 20
	maxInflated     = 256 << 20
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

// decodeSegments finds the base64, hex and percent-encoded segments of
// text and returns those that decode to text, each layer decoded again
// up to depth layers. Compressed payloads (base64 of gzip) are inflated.
func decodeSegments(text string, depth int) []decodedSegment {
	if depth <= 0 {
		return nil
	}
	var out []decodedSegment
	total := 0
	add := func(start int, raw string, dt []byte) {
		if total > maxDecodedTotal {
			return
		}
		if isCompressed(dt) {
			inflated, err := inflate(dt)
			if err != nil || len(inflated) == 0 {
				return
			}
			dt = inflated
		}
		if !isText(dt) {
			return
		}
		total += len(dt)
		line := lineAt(text, start)
		out = append(out, decodedSegment{text: string(dt), line: line, raw: raw})
		for _, d := range decodeSegments(string(dt), depth-1) {
			out = append(out, decodedSegment{text: d.text, line: line, raw: raw})
		}
	}
	// One pass over the text finds the runs of base64 characters (hex is
	// a subset) and of percent-encoding characters; a regular expression
	// per encoding cost more than all the detectors together.
	for _, r := range runs(text, isBase64Segment, minEncoded) {
		seg := text[r[0]:r[1]]
		if isHexString(seg) {
			if len(seg)%2 == 0 && len(seg) >= 32 {
				if dt, err := hex.DecodeString(seg); err == nil {
					add(r[0], seg, dt)
				}
			}
			continue
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			if dt, err := enc.DecodeString(padBase64(seg)); err == nil {
				add(r[0], seg, dt)
				break
			}
		}
	}
	if strings.IndexByte(text, '%') >= 0 {
		for _, r := range runs(text, isPercentSegment, minEncoded) {
			seg := text[r[0]:r[1]]
			if strings.Count(seg, "%") < 3 {
				continue
			}
			if dt, err := url.PathUnescape(seg); err == nil {
				add(r[0], seg, []byte(dt))
			}
		}
	}
	return out
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

// isCompressed reports whether dt starts like a gzip stream or a zip
// archive.
func isCompressed(dt []byte) bool {
	return bytes.HasPrefix(dt, []byte{0x1f, 0x8b}) || bytes.HasPrefix(dt, []byte("PK\x03\x04"))
}

// inflate decompresses a gzip stream (and opens the tar inside one) or a
// zip archive, returning the members' contents joined by newlines, at
// most maxInflated bytes. A stream that is not what its magic says is an
// error, and the caller scans the bytes as they are.
func inflate(dt []byte) ([]byte, error) {
	var out bytes.Buffer
	if bytes.HasPrefix(dt, []byte("PK\x03\x04")) {
		zr, err := zip.NewReader(bytes.NewReader(dt), int64(len(dt)))
		if err != nil {
			return nil, err
		}
		for _, f := range zr.File {
			out.WriteString(f.Name)
			out.WriteByte('\n')
			rc, err := f.Open()
			if err != nil {
				continue
			}
			_, err = io.Copy(&out, io.LimitReader(rc, maxInflated-int64(out.Len())))
			rc.Close()
			out.WriteByte('\n')
			if err != nil || out.Len() >= maxInflated {
				break
			}
		}
		return out.Bytes(), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(dt))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	raw, err := io.ReadAll(io.LimitReader(zr, maxInflated))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	if tr := tar.NewReader(bytes.NewReader(raw)); isTar(raw) {
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			out.WriteString(h.Name)
			out.WriteByte('\n')
			if h.Linkname != "" {
				out.WriteString(h.Linkname)
				out.WriteByte('\n')
			}
			if _, err := io.Copy(&out, tr); err != nil {
				break
			}
			out.WriteByte('\n')
		}
		return out.Bytes(), nil
	}
	return raw, nil
}

// isTar reports whether dt starts with a ustar header.
func isTar(dt []byte) bool {
	return len(dt) >= 263 && string(dt[257:262]) == "ustar"
}

// decoding says how scanDecoded treats one text: lines whether line
// numbers mean anything, low whether the low-confidence rules run,
// verified whether a package database vouches for the bytes, depth how
// many more layers of archives may be opened.
type decoding struct {
	lines, low, verified bool
	depth                int
}

// scanDecoded runs the detectors on the encoded and compressed forms
// found in text (and in whole, the raw bytes of a file, when they are a
// compressed stream), and on text reversed where a reversed high-
// confidence keyword occurs. o says how (see decoding); verified covers
// whole and so what it decompresses to.
func (s *Scanner) scanDecoded(ctx context.Context, p, text string, whole []byte, o decoding) []hit {
	lines, low, verified := o.lines, o.low, o.verified
	var hits []hit
	if o.depth > 0 && isCompressed(whole) {
		if inflated, err := inflate(whole); err == nil && len(inflated) > 0 {
			binary := isBinary(inflated)
			itext := string(inflated)
			if binary {
				itext = printableRuns(maskEmbeddedRules(inflated))
			}
			// What a package vouches for, it vouches for compressed too.
			ilow := !verified && !binary
			for _, h := range append(privateKeys(itext, false), s.gitleaks.scan(ctx, "", itext, false, nil, ilow)...) {
				h.line = 0
				hits = append(hits, h)
			}
			hits = append(hits, s.scanDecoded(ctx, p, itext, inflated, decoding{low: ilow, verified: verified, depth: o.depth - 1})...)
		}
	}
	for _, d := range decodeSegments(text, maxDecodeDepth) {
		for _, h := range append(privateKeys(d.text, false), s.gitleaks.scan(ctx, "", d.text, false, nil, low)...) {
			h.line, h.value = 0, d.raw
			if lines {
				h.line = d.line
			}
			hits = append(hits, h)
		}
	}
	for _, r := range s.gitleaks.reversedLines(text) {
		for _, h := range s.gitleaks.scan(ctx, "", r.text, false, nil, false) {
			h.line, h.value = 0, reverse(h.value)
			if lines {
				h.line = r.line
			}
			hits = append(hits, h)
		}
	}
	return hits
}

// reverse returns s reversed byte by byte (tokens are ASCII).
func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
