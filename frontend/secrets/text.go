package secrets

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
)

// defaultScanner is the scanner without policy options. Compiling the
// rule set takes a quarter of a second; the static Dockerfile check runs
// for every build, every `hardenkit check` and every one of its tests, so
// the compiled, immutable scanner is shared like a compiled regexp.
var defaultScanner = sync.OnceValues(func() (*Scanner, error) { return New(Options{}) })

// Default returns the scanner with no allow-lists: the one the static
// Dockerfile rules use, so that a Dockerfile and the image built from it
// are judged by the same detectors. It is safe for concurrent use.
func Default() (*Scanner, error) { return defaultScanner() }

// Assignment is a NAME=VALUE that a Dockerfile instruction writes (ARG,
// ENV, LABEL), as parsed: the old `ENV NAME value` form has no "=" in
// the text for the command scan to find.
type Assignment struct {
	Name, Value string
}

// ScanText scans Dockerfile text — an instruction with its heredocs —
// with the detectors of config values (gitleaks, private keys, the name
// rule on every NAME=VALUE word) and the name rule on assigns. Findings
// are at where; Line is the line within text for text of several lines.
func (s *Scanner) ScanText(where, text string, assigns []Assignment) []Finding {
	return s.findings(where, s.scanText(context.Background(), text, assigns))
}

func (s *Scanner) scanText(ctx context.Context, text string, assigns []Assignment) []hit {
	hits := s.scanCommand(ctx, text)
	public := map[string]bool{}
	var named []hit
	for _, a := range assigns {
		v := strings.Trim(a.Value, `"'`)
		if publicName(a.Name) || publicValue(a.Name, v) {
			public[Fingerprint(v)] = true
			continue
		}
		if SecretName(a.Name) && literalSecret(v) {
			named = append(named, hit{rule: RuleSecretName, fingerprint: Fingerprint(v), value: v})
		}
	}
	hits = dropFingerprints(hits, public, genericRule)
	for _, h := range named {
		hits = addNameHit(hits, h)
	}
	return hits
}

// Mask returns a copy of text in which every secret ScanText would report
// in it is overwritten with '*', byte for byte, newlines kept, so that
// every line and column of the text stays valid. BuildKit shows a
// Dockerfile to the client in errors and warnings and records it as
// source information; the frontend gives it the masked copy.
func (s *Scanner) Mask(text []byte, assigns []Assignment) []byte {
	out := bytes.Clone(text)
	str := string(text)
	for _, h := range s.scanText(context.Background(), str, assigns) {
		if h.value == "" || s.allowRules[h.rule] {
			continue
		}
		for off := 0; ; {
			i := strings.Index(str[off:], h.value)
			if i < 0 {
				break
			}
			start := off + i
			for j := start; j < start+len(h.value); j++ {
				if out[j] != '\n' && out[j] != '\r' {
					out[j] = '*'
				}
			}
			off = start + len(h.value)
		}
	}
	return out
}

// urlCredentialRe finds the password of a URL's user information
// (scheme://user:password@host), the way credentials reach pip, npm, git
// and curl command lines. gitleaks has no generic rule for it.
var urlCredentialRe = regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@$'"]+:([^/\s:@$'"]{6,})@`)

// urlCredentials finds passwords in URLs in a config value or command:
// random-looking ones (entropy ≥ 2.5 bits per character), not references
// to the environment. Files are not searched this way: documentation is
// full of "https://user:password@host" examples.
func urlCredentials(text string, lines bool) []hit {
	if !strings.Contains(text, "://") {
		return nil
	}
	var out []hit
	for _, m := range urlCredentialRe.FindAllStringSubmatchIndex(text, -1) {
		v := text[m[2]:m[3]]
		if shannonEntropy(v) < 2.5 {
			continue
		}
		h := hit{rule: RuleURLCredential, fingerprint: Fingerprint(v), value: v}
		if lines {
			h.line = lineAt(text, m[2])
		}
		out = append(out, h)
	}
	return out
}
