package dockerfilecheck

// What the Dockerfile around a value says about it, for HK1061: the shared
// detector (frontend/secrets) judges a value alone, and a random-looking
// hex string assigned to a variable looks like a key. The Dockerfile says
// more: a 40-hex value that gpg fetches with --recv-keys, or that a
// signed-by keyring is built from, is the fingerprint of a *public* key
// (official images pin their upstream's signing key that way), and
// `SECRET_KEY_BASE=precompile_placeholder` names itself a stand-in. Only
// the generic detectors' findings are dropped on that evidence: a value a
// specific detector recognises (a GitHub token, an AWS key) is a secret
// wherever it sits.

import (
	"regexp"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/secrets"
)

var (
	// keyContextRe matches text that fetches, imports or trusts public
	// signing keys.
	keyContextRe = regexp.MustCompile(`(?i)\b(gpg2?|gpgv|apt-key)\b|--recv-keys?\b|--keyserver\b|signed-by|rpm\s+--import|rpmkeys\s+--import`)
	// keyIDRe matches one key id or fingerprint: 40 hex digits (v4), 64
	// (v5/v6), 16 (long key id), optionally 0x-prefixed, or 40 digits in
	// groups of four as gpg prints them.
	keyIDRe = regexp.MustCompile(`\b(?:0x)?(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{16}|(?:[0-9A-Fa-f]{4} {1,2}){9}[0-9A-Fa-f]{4})\b`)
	// keyNameRe matches variable names that say they hold key ids
	// (NGINX_GPGKEYS, PGP_KEY_FINGERPRINT).
	keyNameRe = regexp.MustCompile(`(?i)gpg|pgp|fingerprint|key_?id`)
	// varRefRe matches a variable reference, for the names key-handling
	// instructions read.
	varRefRe = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	// wordSplitRe splits a value into words for the placeholder test.
	wordSplitRe = regexp.MustCompile(`[^A-Za-z0-9]+`)
)

// placeholderWords say a value stands in for a real one.
var placeholderWords = map[string]bool{
	"placeholder": true, "dummy": true, "example": true, "sample": true, "fake": true,
	"changeme": true, "replaceme": true, "redacted": true, "notasecret": true, "unused": true,
	"mock": true, "todo": true, "tbd": true, "xxx": true, "xxxx": true, "your": true,
}

// keyVars returns the names of the variables that instructions handling
// signing keys read ($GPG_KEYS in `gpg --recv-keys $GPG_KEYS`), computed
// once per file.
func (f *file) keyVars() map[string]bool {
	if f.keyVarNames != nil {
		return f.keyVarNames
	}
	f.keyVarNames = map[string]bool{}
	f.each(func(in *instr) {
		if in.node == nil {
			return
		}
		text := in.node.Original + "\n" + in.heredocText()
		if !keyContextRe.MatchString(text) {
			return
		}
		for _, m := range varRefRe.FindAllStringSubmatch(text, -1) {
			f.keyVarNames[m[1]] = true
		}
	})
	return f.keyVarNames
}

// publicValues returns the fingerprints of the values in an instruction
// that are public by context: key ids next to gpg/signed-by, or in a
// variable such an instruction reads, and placeholders.
func (f *file) publicValues(in *instr, text string, assigns [][2]string) map[string]bool {
	out := map[string]bool{}
	if s := in.shellScript(); s != nil {
		for _, a := range s.Assigns {
			assigns = append(assigns, [2]string{a.Name, a.Value})
		}
	}
	keyText := keyContextRe.MatchString(text)
	if keyText {
		for _, k := range keyIDRe.FindAllString(text, -1) {
			out[secrets.Fingerprint(k)] = true
		}
	}
	vars := f.keyVars()
	for _, kv := range assigns {
		v := strings.TrimSpace(unquote(kv[1]))
		switch {
		case isPlaceholder(v):
			out[secrets.Fingerprint(v)] = true
		case (keyText || vars[kv[0]] || keyNameRe.MatchString(kv[0])) && onlyKeyIDs(v):
			out[secrets.Fingerprint(v)] = true
			for _, k := range keyIDRe.FindAllString(v, -1) {
				out[secrets.Fingerprint(k)] = true
			}
		}
	}
	return out
}

// onlyKeyIDs reports whether a value is one or more key ids or
// fingerprints and nothing else.
func onlyKeyIDs(v string) bool {
	return v != "" && strings.TrimSpace(keyIDRe.ReplaceAllString(v, "")) == ""
}

// isPlaceholder reports whether a value says it is a stand-in:
// precompile_placeholder, <your-token>, changeme, xxxxxxxx.
func isPlaceholder(v string) bool {
	if v == "" || strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") || len(v) >= 4 && sameChar(v) {
		return true
	}
	for _, w := range wordSplitRe.Split(strings.ToLower(v), -1) {
		if placeholderWords[w] {
			return true
		}
	}
	return false
}

// sameChar reports whether v repeats one character.
func sameChar(v string) bool {
	return strings.Count(v, v[:1]) == len(v)
}

// genericDetector reports whether a finding comes from a detector that
// judges randomness or a name rather than a known token format.
func genericDetector(fd secrets.Finding) bool {
	return fd.Rule == secrets.RuleSecretName || fd.Rule == "generic-api-key"
}

// dropPublic removes the generic findings whose value is public by
// context.
func dropPublic(fds []secrets.Finding, public map[string]bool) []secrets.Finding {
	out := fds[:0]
	for _, fd := range fds {
		if genericDetector(fd) && public[fd.Fingerprint] {
			continue
		}
		out = append(out, fd)
	}
	return out
}
