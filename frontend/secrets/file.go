package secrets

import (
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/zricethezav/gitleaks/v8/config"
)

const (
	// sniffLen is how much of a file decides whether it is binary: a NUL
	// byte in the first 8000 bytes, git's and grep's rule.
	sniffLen = 8000
	// fragmentSize bounds the text one detector call sees: merged keyword
	// windows stop growing at this size, and the rules without keywords
	// (which must see everything) get the text in pieces of this size.
	fragmentSize = 64 << 10
	// cutOverlap is how far a fragment cut in the middle of an overlong
	// line reaches back into the previous one, so that a token straddling
	// the cut is still seen whole by one of them.
	cutOverlap = 512
	// minPrintableRun is the shortest run of printable bytes kept from a
	// binary file, strings(1)-style. Every credential format detected is
	// longer.
	minPrintableRun = 8
)

// fileOpts say how to scan a file, or a piece of one.
type fileOpts struct {
	// binary: scan the printable strings, without line numbers.
	binary bool
	// low: run the low-confidence detectors too (generic-api-key and
	// gitleaks' "vendor keyword, operator, value" rules). They are for
	// text that people write: not for binaries, where any string table
	// has "key" near a random-looking run, nor for files a package
	// database vouches for.
	low bool
	// verified: a package database vouches for the file's bytes.
	verified bool
	// code: the file is compiled code — an executable format
	// (packedLiterals of its first piece) or an executable mode — whose
	// string literals may be packed back to back (glued.go).
	code bool
	// lineBase is the number of lines before the piece.
	lineBase int
	// dec is the file's decoding budget, shared by its pieces; nil: one
	// for this call alone.
	dec *decodeState
	// file reads the whole file, of size bytes, of which the piece
	// starts at off: a stream or archive that starts in the piece is
	// opened through it to its end. nil: the piece is the whole file.
	file      io.ReaderAt
	size, off int64
}

// scanFile scans the content of the file at p (an image path or a context
// path), or a piece of it, with the detectors o selects.
func (s *Scanner) scanFile(ctx context.Context, p string, dt []byte, o fileOpts) []hit {
	text, lines := string(dt), !o.binary
	if o.binary {
		text = printableRuns(maskEmbeddedRules(dt))
	}
	code := o.code || packedLiterals(dt)
	hits := s.leaf(ctx, p, text, dt, leafMode{lines: lines, low: o.low, code: code, verified: o.verified})
	if !o.verified {
		// Encoded, compressed and reversed forms inside a file its
		// package vouches for are as public as the file: decoding every
		// changelog.gz of a distribution is most of the cost of a scan.
		st := o.dec
		if st == nil {
			st = newDecodeState(int64(len(dt)))
		}
		// A secret found as it stands is not reported again decoded: a
		// PEM key's body is also a base64 segment that decodes to DER.
		hits = append(hits, notIn(hits, s.scanDecoded(ctx, p, text, dt, decoding{lines: lines, low: o.low, code: code,
			depth: maxDecodeDepth, st: st, ra: o.file, size: o.size, off: o.off}))...)
	}
	if o.lineBase > 0 {
		for i := range hits {
			if hits[i].line > 0 {
				hits[i].line += o.lineBase
			}
		}
	}
	return hits
}

// leafMode says how leaf reads one payload: lines whether line numbers
// mean anything; low whether the low-confidence rules run (text people
// write); code whether the payload is compiled code, whose string
// literals may be packed back to back (glued.go) — a file's first piece
// or mode says so, a decoded segment inherits it from what it was found
// in, an archive member has its own; verified whether a package database
// vouches for the bytes.
type leafMode struct{ lines, low, code, verified bool }

// leaf runs every detector on one payload: a file's content (or a piece
// of it), an archive member's, a decoded segment's. text is what the
// text detectors read (the printable strings of a binary), dt the raw
// bytes, which the detectors of structure read (DER, keystores, OpenPGP
// packets); p the path that path-scoped rules and credential-file
// detection see ("" for a decoded segment). Every detector runs here and
// nowhere else, so that each sees every file and everything decoded from
// one, with the bytes of the payload itself.
func (s *Scanner) leaf(ctx context.Context, p, text string, dt []byte, m leafMode) []hit {
	hits := append(privateKeys(text, m.lines), s.gitleaks.scanIn(ctx, p, text, dt, scanMode{lines: m.lines, low: m.low, packed: m.code})...)
	hits = append(hits, credentialFile(p, text, dt, m.lines, hits)...)
	return append(hits, s.structureHits(p, text, dt, m, hits)...)
}

// notIn returns the hits of found whose rule and fingerprint no hit of
// prior has.
func notIn(prior, found []hit) []hit {
	type key struct{ rule, fingerprint string }
	seen := make(map[key]bool, len(prior))
	for _, h := range prior {
		seen[key{h.rule, h.fingerprint}] = true
	}
	out := found[:0]
	for _, h := range found {
		if !seen[key{h.rule, h.fingerprint}] {
			out = append(out, h)
		}
	}
	return out
}

// isBinary reports whether dt looks like a binary file.
func isBinary(dt []byte) bool {
	return bytes.IndexByte(dt[:min(len(dt), sniffLen)], 0) >= 0
}

// printableRuns returns the runs of at least minPrintableRun printable
// ASCII bytes (tab included) of dt, one per line. A PEM block stored in a
// binary comes out as its lines, so the text detectors see it as text.
//
// A run long enough to keep that starts in dt[i:i+minPrintableRun] must
// contain dt[i+minPrintableRun-1], so where that byte is not printable the
// scan skips minPrintableRun bytes at once: most bytes of a binary are
// never looked at, which makes this several times faster on binaries, the
// bulk of an image, than testing every byte.
func printableRuns(dt []byte) string {
	var b strings.Builder
	// Invariant: i == 0 or dt[i-1] is not printable, so no run crosses i.
	for i := 0; i+minPrintableRun <= len(dt); {
		j := i + minPrintableRun - 1
		if !isPrintable(dt[j]) {
			i = j + 1
			continue
		}
		start := j
		for start > i && isPrintable(dt[start-1]) {
			start--
		}
		end := j + 1
		for end < len(dt) && isPrintable(dt[end]) {
			end++
		}
		if end-start >= minPrintableRun {
			b.Write(dt[start:end])
			b.WriteByte('\n')
		}
		i = end + 1
	}
	return b.String()
}

// isPrintable reports whether c is a byte printableRuns keeps.
func isPrintable(c byte) bool { return c == '\t' || (c >= 0x20 && c < 0x7f) }

// eachFragment calls fn for consecutive pieces of text of at most
// fragmentSize bytes, cut after a newline, with the 1-based line each
// starts on. It calls fn once for empty text, so that path-only rules
// still see the file.
func eachFragment(text string, fn func(frag string, line int)) {
	if text == "" {
		fn("", 1)
		return
	}
	line := 1
	for off := 0; off < len(text); {
		end := len(text)
		next := end
		if end-off > fragmentSize {
			end = off + fragmentSize
			if nl := strings.LastIndexByte(text[off:end], '\n'); nl >= 0 {
				end = off + nl + 1
				next = end
			} else {
				next = end - cutOverlap
			}
		}
		fn(text[off:end], line)
		line += strings.Count(text[off:next], "\n")
		off = next
	}
}

// lineAt is the 1-based line of byte offset off in text.
func lineAt(text string, off int) int {
	return strings.Count(text[:off], "\n") + 1
}

// maskEmbeddedRules blanks out copies of gitleaks' default configuration
// in a binary. Any program linking gitleaks — hardenkit's own frontend
// image, gitleaks itself — carries the TOML verbatim, and its rules match
// their own definitions (aws-amazon-bedrock-api-key-short-lived is a
// literal); gitleaks allow-lists its config file by path for the same
// reason. dt is not modified.
func maskEmbeddedRules(dt []byte) []byte {
	cfg := config.DefaultConfig
	marker := []byte(cfg[:min(len(cfg), 256)])
	out := dt
	blank := func(start, end int) {
		if &out[0] == &dt[0] {
			out = bytes.Clone(dt)
		}
		clear(out[start:end])
	}
	if len(dt) == 0 {
		return dt
	}
	// A file read in pieces may cut a copy: the piece then starts inside
	// one (the copy's tail) or ends inside one (its head).
	if head := dt[:min(len(dt), 256)]; len(head) == 256 {
		if i := strings.Index(cfg, string(head)); i > 0 {
			if n := len(cfg) - i; n <= len(dt) && string(dt[:n]) == cfg[i:] {
				blank(0, n)
			} else if n > len(dt) && cfg[i:i+len(dt)] == string(dt) {
				blank(0, len(dt))
			}
		}
	}
	for off := 0; ; {
		i := bytes.Index(out[off:], marker)
		if i < 0 {
			return out
		}
		start := off + i
		rest := out[start:]
		switch {
		case bytes.HasPrefix(rest, []byte(cfg)):
			blank(start, start+len(cfg))
			off = start + len(cfg)
		case len(rest) < len(cfg) && strings.HasPrefix(cfg, string(rest)):
			blank(start, len(out))
			return out
		default:
			off = start + 1
		}
	}
}
