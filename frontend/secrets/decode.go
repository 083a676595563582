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
	"regexp"
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

var (
	base64SegmentRe  = regexp.MustCompile(`[A-Za-z0-9+/_-]{20,}={0,2}`)
	hexSegmentRe     = regexp.MustCompile(`(?:[0-9a-fA-F]{2}){16,}`)
	percentSegmentRe = regexp.MustCompile(`[A-Za-z0-9._~+-]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~+-]*){3,}`)
)

// decodedSegment is text decoded from an encoded segment, and the line
// of the segment in the text it was found in.
type decodedSegment struct {
	text string
	line int
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
	add := func(start int, dt []byte) {
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
		out = append(out, decodedSegment{text: string(dt), line: line})
		for _, d := range decodeSegments(string(dt), depth-1) {
			out = append(out, decodedSegment{text: d.text, line: line})
		}
	}
	for _, m := range base64SegmentRe.FindAllStringIndex(text, -1) {
		seg := text[m[0]:m[1]]
		if isHexString(seg) {
			continue // the hex pass decodes it
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			if dt, err := enc.DecodeString(padBase64(seg)); err == nil {
				add(m[0], dt)
				break
			}
		}
	}
	for _, m := range hexSegmentRe.FindAllStringIndex(text, -1) {
		if dt, err := hex.DecodeString(text[m[0]:m[1]]); err == nil {
			add(m[0], dt)
		}
	}
	if strings.IndexByte(text, '%') >= 0 {
		for _, m := range percentSegmentRe.FindAllStringIndex(text, -1) {
			if m[1]-m[0] < minEncoded {
				continue
			}
			if dt, err := url.PathUnescape(text[m[0]:m[1]]); err == nil {
				add(m[0], []byte(dt))
			}
		}
	}
	return out
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

// scanDecoded runs the detectors on the encoded and compressed forms
// found in text (and in whole, the raw bytes of a file, when they are a
// compressed stream), and on text reversed where a reversed high-
// confidence keyword occurs. low selects the low-confidence rules as for
// the text itself; lines whether line numbers mean anything. depth
// bounds the layers of archives.
func (s *Scanner) scanDecoded(ctx context.Context, p, text string, whole []byte, lines, low bool, depth int) []hit {
	var hits []hit
	if depth > 0 && isCompressed(whole) {
		if inflated, err := inflate(whole); err == nil && len(inflated) > 0 {
			binary := isBinary(inflated)
			itext := string(inflated)
			if binary {
				itext = printableRuns(maskEmbeddedRules(inflated))
			}
			for _, h := range append(privateKeys(itext, false), s.gitleaks.scan(ctx, "", itext, false, nil, !binary)...) {
				h.line = 0
				hits = append(hits, h)
			}
			hits = append(hits, s.scanDecoded(ctx, p, itext, inflated, false, !binary, depth-1)...)
		}
	}
	for _, d := range decodeSegments(text, maxDecodeDepth) {
		for _, h := range append(privateKeys(d.text, false), s.gitleaks.scan(ctx, "", d.text, false, nil, low)...) {
			h.line = 0
			if lines {
				h.line = d.line
			}
			hits = append(hits, h)
		}
	}
	for _, r := range s.gitleaks.reversedLines(text) {
		for _, h := range s.gitleaks.scan(ctx, "", r.text, false, nil, false) {
			h.line = 0
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
