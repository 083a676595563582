package secrets

import (
	"net/url"
	"regexp"
	"strings"
)

// Credentials in URLs in files: scheme://user:password@host in a config
// file, a script, a database row, with any scheme (a JDBC URL's
// "jdbc:sub:" included) and an empty user (redis://:PASSWORD@host); and
// a credential-named parameter of a URL's query or of its ";"-separated
// properties (jdbc:postgresql://db/app?user=app&password=…,
// jdbc:sqlserver://db;user=sa;password=…, ?access_token=…). Documentation
// is full of such URLs with a placeholder for the password, so a file's
// URL password counts only when it is a literal secret by the thresholds
// of the name rule (literalSecret: at least 8 characters, no "$"
// reference, 3 bits of entropy per character), is not a placeholder
// (fileURLPlaceholder: a variable reference, a format verb, an example
// word) and the host is not a documentation domain (RFC 2606:
// example.com, .example, .test, .invalid). It runs where the
// low-confidence rules do — text people write, not files a package
// database vouches for nor gitleaks' allow-listed paths — and on binary
// data that is not compiled code (an SQLite database), never on a
// program's string table.

// urlUserInfoRe matches what follows "://" in a URL with user
// information; the groups are the user (may be empty), the password and
// the host. A password holds no ":": "cvs://:pserver:anoncvs@host" is
// CVS's access method, not a password.
var urlUserInfoRe = regexp.MustCompile(`^([^/\s:@'"<>{}()\[\]]*):([^/\s:@'"<>{}()\[\]]{8,128})@([a-zA-Z0-9._-]+)`)

// urlParamRe matches one parameter of a URL's query or properties: the
// separator before it, its name and its value.
var urlParamRe = regexp.MustCompile(`[?&;]([A-Za-z][A-Za-z0-9_.-]{1,40})=([^&;#\s'"<>()\[\]]{8,256})`)

// credentialParams are the parameter names, lower-case without "_", "-"
// and ".", that carry a credential in a URL.
var credentialParams = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "pass": true, "secret": true, "token": true,
	"accesstoken": true, "apikey": true, "apitoken": true, "authtoken": true, "clientsecret": true,
	"secretkey": true, "privatetoken": true, "sessiontoken": true, "refreshtoken": true,
	"accesskey": true, "secretaccesskey": true, "privatekey": true, "authkey": true,
}

// credentialParam reports whether a URL parameter's name says it carries
// a credential.
func credentialParam(name string) bool {
	n := strings.NewReplacer("_", "", "-", "", ".", "").Replace(strings.ToLower(name))
	return credentialParams[n]
}

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
// patterns run only on a window after each "://" that has an "@" or a
// parameter separator soon after it: a binary's strings hold many URLs,
// and a pattern run on the whole text would cost more than every other
// detector.
func fileURLCredentials(text string, lines bool) []hit {
	var out []hit
	for off := 0; ; {
		i := strings.Index(text[off:], "://")
		if i < 0 {
			return out
		}
		sep := off + i
		off = sep + 3
		if sep == 0 || !isSchemeByte(text[sep-1]) {
			continue
		}
		rest := text[sep+3 : min(len(text), sep+3+maxURLLength)]
		if end := strings.IndexAny(rest, " \t\r\n'\"<>`"); end >= 0 {
			rest = rest[:end]
		}
		if m := urlUserInfoRe.FindStringSubmatchIndex(rest[:min(len(rest), maxURLUserInfo)]); m != nil {
			user, host := rest[m[2]:m[3]], rest[m[6]:m[7]]
			if h, ok := urlCredentialHit(text, sep+3+m[4], sep+3+m[5], user, host, lines); ok {
				out = append(out, h)
			}
		}
		if strings.ContainsAny(rest, "?;") {
			out = append(out, urlParamCredentials(text, sep+3, rest, lines)...)
		}
	}
}

// urlParamCredentials finds the credential-named parameters of the URL
// rest, which starts at text[base:] after its "://".
func urlParamCredentials(text string, base int, rest string, lines bool) []hit {
	host := rest
	if end := strings.IndexAny(host, "/?;#"); end >= 0 {
		host = host[:end]
	}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	if c := strings.IndexByte(host, ':'); c >= 0 {
		host = host[:c]
	}
	var out []hit
	for _, m := range urlParamRe.FindAllStringSubmatchIndex(rest, -1) {
		if !credentialParam(rest[m[2]:m[3]]) {
			continue
		}
		if h, ok := urlCredentialHit(text, base+m[4], base+m[5], "", host, lines); ok {
			out = append(out, h)
		}
	}
	return out
}

const (
	// maxURLUserInfo bounds how far after "://" the "@" may be: a user,
	// a colon and a password of at most 128 characters.
	maxURLUserInfo = 300
	// maxURLLength bounds how much of a URL its parameters are looked
	// for in.
	maxURLLength = 2048
)

func isSchemeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '.' || c == '-'
}

// urlCredentialHit is the finding for the password text[start:end] of a
// URL of user and host, unless it is a placeholder. A password that is
// not valid percent-encoding or holds a format verb ("%s", "%(pw)s") is a
// template, not a credential.
func urlCredentialHit(text string, start, end int, user, host string, lines bool) (hit, bool) {
	raw := text[start:end]
	password, err := url.PathUnescape(raw)
	if err != nil || formatVerbRe.MatchString(raw) || fileURLPlaceholder(user, password, host) {
		return hit{}, false
	}
	h := hit{rule: RuleURLCredential, fingerprint: Fingerprint(password), value: raw}
	if lines {
		h.line = lineAt(text, start)
	}
	return h, true
}

// formatVerbRe matches a Python named format verb ("%(password)s"), which
// is not a percent-encoding error as "%s" is.
var formatVerbRe = regexp.MustCompile(`%\([A-Za-z_]+\)[sdr]`)

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
