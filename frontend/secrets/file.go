package secrets

import (
	"bytes"
	"context"
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

// scanFile scans the content of the file at p (an image path or a context
// path) with every detector.
func (s *Scanner) scanFile(ctx context.Context, p string, dt []byte) []hit {
	text, lines := string(dt), true
	if isBinary(dt) {
		text, lines = printableRuns(maskEmbeddedRules(dt)), false
	}
	hits := append(privateKeys(text, lines), s.gitleaks.scan(ctx, p, text, lines, dt)...)
	hits = append(hits, credentialFile(p, text, dt, lines, hits)...)
	return hits
}

// isBinary reports whether dt looks like a binary file.
func isBinary(dt []byte) bool {
	return bytes.IndexByte(dt[:min(len(dt), sniffLen)], 0) >= 0
}

// printableRuns returns the runs of at least minPrintableRun printable
// ASCII bytes (tab included) of dt, one per line. A PEM block stored in a
// binary comes out as its lines, so the text detectors see it as text.
func printableRuns(dt []byte) string {
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start >= 0 && end-start >= minPrintableRun {
			b.Write(dt[start:end])
			b.WriteByte('\n')
		}
		start = -1
	}
	for i, c := range dt {
		if c == '\t' || (c >= 0x20 && c < 0x7f) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(dt))
	return b.String()
}

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
	for off := 0; ; {
		i := bytes.Index(out[off:], marker)
		if i < 0 {
			return out
		}
		start := off + i
		if !bytes.HasPrefix(out[start:], []byte(cfg)) {
			off = start + 1
			continue
		}
		if &out[0] == &dt[0] {
			out = bytes.Clone(dt)
		}
		clear(out[start : start+len(cfg)])
		off = start + len(cfg)
	}
}
