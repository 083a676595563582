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
// the user, the password and the host.
var fileURLCredentialRe = regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://([^/\s:@'"<>{}()\[\]]*):([^/\s@'"<>{}()\[\]]{8,128})@([a-zA-Z0-9._-]+)`)

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

// fileURLCredentials finds credentials in URLs in a file's text.
func fileURLCredentials(text string, lines bool) []hit {
	if !strings.Contains(text, "://") {
		return nil
	}
	var out []hit
	for _, m := range fileURLCredentialRe.FindAllStringSubmatchIndex(text, -1) {
		user, password, host := text[m[2]:m[3]], text[m[4]:m[5]], text[m[6]:m[7]]
		if u, err := url.PathUnescape(password); err == nil {
			password = u
		}
		if fileURLPlaceholder(user, password, host) {
			continue
		}
		h := hit{rule: RuleURLCredential, fingerprint: Fingerprint(password), value: text[m[4]:m[5]]}
		if lines {
			h.line = lineAt(text, m[4])
		}
		out = append(out, h)
	}
	return out
}

// fileStructureHits runs the detectors of this file and keys.go on a
// file, or a piece of one, that scanFile has scanned into prior: private
// keys by structure everywhere, URL credentials where o allows them (see
// above). p is the path, text what the text detectors saw, dt the bytes.
func (s *Scanner) fileStructureHits(p, text string, dt []byte, o fileOpts, prior []hit) []hit {
	hits := structuralKeys(text, dt, !o.binary, prior)
	data := o.binary && !packedLiterals(dt) && !o.code
	if !o.verified && (o.low || data) && !s.gitleaks.pathAllowed(p) {
		seen := map[string]bool{}
		for _, h := range prior {
			seen[h.fingerprint] = true
		}
		for _, h := range fileURLCredentials(text, !o.binary) {
			if !seen[h.fingerprint] {
				seen[h.fingerprint] = true
				hits = append(hits, h)
			}
		}
	}
	return hits
}
