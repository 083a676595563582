package secrets

import (
	"net/url"
	"regexp"
	"strings"
)

// Credentials in URLs in files: scheme://user:password@host in a config
// file, a script, a database row. Documentation is full of such URLs with
// a placeholder for the password, so a file's URL password counts only
// when it is a literal secret by the thresholds of the name rule
// (literalSecret: at least 8 characters, no "$" reference, 3 bits of
// entropy per character), is not a placeholder (fileURLPlaceholder) and
// the host is not a documentation domain (RFC 2606: example.com,
// .example, .test, .invalid). It runs where the low-confidence rules do —
// text people write, not files a package database vouches for nor
// gitleaks' allow-listed paths — and on binary data that is not compiled
// code (an SQLite database), never on a program's string table.

// fileURLCredentialRe finds a URL with user information; the groups are
// the user (not empty: "cvs://:pserver:anoncvs@host" is CVS's access
// method, not a password), the password and the host.
var fileURLCredentialRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]{1,20}://([^/\s:@'"<>{}()\[\]]+):([^/\s:@'"<>{}()\[\]]{8,128})@([a-zA-Z0-9._-]+)`)

// placeholderWords are what a password in an example says it stands for.
var placeholderWords = []string{
	"password", "passwd", "passw0rd", "pass", "pwd", "secret", "changeme", "change-me", "change_me",
	"example", "sample", "dummy", "placeholder", "redacted", "your", "xxxx", "****", "user", "token",
}

// fileURLPlaceholder reports whether a URL's password is a placeholder
// rather than a credential.
func fileURLPlaceholder(user, password, host string) bool {
	if strings.ContainsAny(password, "$*<>{}") || password == user || !literalSecret(password) {
		return true
	}
	lower := strings.ToLower(password)
	for _, w := range placeholderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range []string{"example.com", "example.org", "example.net", ".example", ".test", ".invalid"} {
		if h == strings.TrimPrefix(d, ".") || strings.HasSuffix(h, d) {
			return true
		}
	}
	return false
}

// fileURLCredentials finds credentials in URLs in a file's text. The
// pattern runs only on a window around each "://" that has an "@" soon
// after it: a binary's strings hold many URLs, and the pattern, run on
// the whole text, would cost more than every other detector.
func fileURLCredentials(text string, lines bool) []hit {
	var out []hit
	for off := 0; ; {
		i := strings.Index(text[off:], "://")
		if i < 0 {
			return out
		}
		sep := off + i
		off = sep + 3
		end := min(len(text), sep+3+maxURLUserInfo)
		if strings.IndexByte(text[sep:end], '@') < 0 {
			continue
		}
		start := sep
		for start > 0 && sep-start < 21 && isSchemeByte(text[start-1]) {
			start--
		}
		m := fileURLCredentialRe.FindStringSubmatchIndex(text[start:min(len(text), end+256)])
		if m == nil || m[0] != 0 {
			continue
		}
		if h, ok := urlCredentialHit(text, start, m, lines); ok {
			out = append(out, h)
		}
	}
}

// maxURLUserInfo bounds how far after "://" the "@" may be: a user, a
// colon and a password of at most 128 characters.
const maxURLUserInfo = 300

func isSchemeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '.' || c == '-'
}

// urlCredentialHit is the finding for the match m of fileURLCredentialRe
// at text[base:], unless its password is a placeholder.
func urlCredentialHit(text string, base int, m []int, lines bool) (hit, bool) {
	user, password, host := text[base+m[2]:base+m[3]], text[base+m[4]:base+m[5]], text[base+m[6]:base+m[7]]
	if u, err := url.PathUnescape(password); err == nil {
		password = u
	}
	if fileURLPlaceholder(user, password, host) {
		return hit{}, false
	}
	h := hit{rule: RuleURLCredential, fingerprint: Fingerprint(password), value: text[base+m[4] : base+m[5]]}
	if lines {
		h.line = lineAt(text, base+m[4])
	}
	return h, true
}

// structureHits runs the detectors of this file and keys.go on a
// payload that leaf has scanned into prior: private keys by structure
// everywhere, URL credentials where m allows them — text people write
// (m.low), or data that is not compiled code (an SQLite row), never in
// what a package vouches for or gitleaks' allow-list skips. p is the
// path, text what the text detectors saw, dt the bytes.
func (s *Scanner) structureHits(p, text string, dt []byte, m leafMode, prior []hit) []hit {
	hits := structuralKeys(text, dt, m.lines, m.verified, prior)
	if m.verified || !m.low && m.code {
		return hits
	}
	// The allow-list's path patterns are asked only when there is a URL
	// credential: they cost more than looking for one.
	if urls := fileURLCredentials(text, m.lines); len(urls) > 0 && !s.gitleaks.pathAllowed(p) {
		seen := map[string]bool{}
		for _, h := range prior {
			seen[h.fingerprint] = true
		}
		for _, h := range urls {
			if !seen[h.fingerprint] {
				seen[h.fingerprint] = true
				hits = append(hits, h)
			}
		}
	}
	return hits
}
