package secrets

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/hardenkit/hardenkit/frontend/secrets/tokensum"
)

// Tokens glued to other bytes. In the printable strings of a binary, and
// in decoded or config text, a match counts only when it stands apart
// (delimitedIn): a Go binary packs its string literals back to back, so a
// prefix constant and the next literals read as a token. A token written
// into a binary between other bytes ("\x01abcghp_…def\x02") does not
// stand apart either, and gitleaks' rules that carry a boundary (\b, a
// terminator group) do not match it at all.
//
// The provider formats below have a fixed prefix and a fixed alphabet
// (most a fixed length). Each runs a second time where matches must stand
// apart, with its gitleaks regexp minus its boundaries, and a match glued
// to its neighbours counts when it passes the format's own validation:
//
//   - the CRC32 checksum of GitHub's and npm's tokens (tokensum): one
//     random candidate in 2^32 passes, so these count glued on both
//     sides;
//   - a layout that packed identifiers do not have — OpenAI's "T3BlbkFJ"
//     marker between two fixed-length runs, Slack's digit groups, and,
//     with upper- and lower-case letters and digits in each random part,
//     github_pat_'s two parts and PyPI's 20-character macaroon header
//     followed by at least 50 characters: also on both sides;
//   - for short formats with neither (GitLab's glpat-, AWS key ids,
//     Google's AIza, Stripe, Slack's legacy xoxa/xoxr), a random part
//     with that mix of characters, and, in compiled code, a separator or
//     the start of the string before the prefix. A Go binary's string
//     table packs a prefix constant between other literals
//     ("runtime.mainglpat-_live_HK1042…" is in hardenkit's own frontend,
//     mixed case and digits included), so there a token glued on its
//     left is not told apart from packed literals; glued on its right
//     only, it is found.
//
// Only compiled code packs literals (packedLiterals: ELF, PE, Mach-O,
// WebAssembly, ar archives, and text of unknown origin). In data — an
// SQLite row that glues an AWS key id between the column before it and
// the secret access key after it, a serialized object, a keystore — a
// match glued on both sides counts with the format's own validation;
// AWS key ids, whose random part is base32 and upper-case like packed
// constants, need their digit only in compiled code; GitHub's and npm's
// tokens there count with their checksum or, without it, with mixed
// letters and digits (a token planted without its issuer's checksum is
// still the credential).
//
// Every other high-confidence rule of the catalog whose pattern starts
// with a fixed prefix long and distinctive enough (derivedFormat:
// Shopify's shpat_, DigitalOcean's dop_v1_, GitLab's gl*-, Anthropic's
// sk-ant-, …) is run glued the same way as the short formats: letters
// and digits in its random part, and in compiled code a separator before
// it.
//
// gluedFormats maps a gitleaks rule id to its validation.
var gluedFormats = map[string]gluedFormat{
	"github-pat":              {check: tokensum.Valid, dataCheck: checksumOrMixed},
	"github-oauth":            {check: tokensum.Valid, dataCheck: checksumOrMixed},
	"github-app-token":        {check: tokensum.Valid, dataCheck: checksumOrMixed},
	"github-refresh-token":    {check: tokensum.Valid, dataCheck: checksumOrMixed},
	"npm-access-token":        {check: tokensum.Valid, dataCheck: checksumOrMixed},
	"github-fine-grained-pat": {check: fineGrainedPATValid},
	"openai-api-key":          {check: always},
	"slack-bot-token":         {check: always},
	"slack-user-token":        {check: always},
	"pypi-upload-token":       {prefixes: []string{"pypi-AgEIcHlwaS5vcmc"}, check: mixedAlnum},
	"gitlab-pat":              {prefixes: []string{"glpat-"}, check: mixedAlnum, apartBefore: true},
	// AWS key ids are base32 ([A-Z2-7]): the random part has a digit.
	"aws-access-token":             {prefixes: []string{"A3T", "AKIA", "ASIA", "ABIA", "ACCA"}, check: hasDigit, dataCheck: always, apartBefore: true},
	"gcp-api-key":                  {prefixes: []string{"AIza"}, check: mixedAlnum, apartBefore: true},
	"stripe-access-token":          {prefixes: []string{"sk_live_", "rk_live_", "sk_test_", "rk_test_", "sk_prod_", "rk_prod_"}, check: mixedAlnum, apartBefore: true},
	"slack-legacy-workspace-token": {prefixes: []string{"xoxa-", "xoxr-"}, check: mixedAlnum, apartBefore: true},
}

// gluedFormat is how a glued match of one format is validated: check
// gets the secret without the first of prefixes it starts with;
// apartBefore asks for a separator or the start of the text before the
// match in compiled code; dataCheck, when set, replaces check outside
// compiled code.
type gluedFormat struct {
	prefixes    []string
	check       func(string) bool
	dataCheck   func(string) bool
	apartBefore bool
}

// valid reports whether secret, a match of the format's rule in text
// that does not stand apart, is a token of the format. packed says the
// text is compiled code's strings.
func (f gluedFormat) valid(text, match, secret string, packed bool) bool {
	if packed && f.apartBefore && !apartIn(text, match, false) {
		return false
	}
	body := secret
	for _, p := range f.prefixes {
		if b, ok := strings.CutPrefix(secret, p); ok {
			body = b
			break
		}
	}
	if !packed && f.dataCheck != nil {
		return f.dataCheck(body)
	}
	return f.check(body)
}

// executableMagics start the formats of compiled code: ELF, PE, Mach-O
// (both byte orders, 32 and 64 bits, universal — whose magic Java class
// files share), WebAssembly, ar archives (static libraries).
var executableMagics = [][]byte{
	[]byte("\x7fELF"), []byte("MZ"), {0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf},
	{0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe},
	[]byte("\x00asm"), []byte("!<arch>\n"),
}

// packedLiterals reports whether whole, a file's raw content, may pack
// string literals back to back: compiled code, or content not given
// (decoded or inflated text of unknown origin), where the cautious
// answer is yes.
func packedLiterals(whole []byte) bool {
	return whole == nil || isExecutable(whole)
}

// gluedDetector returns a single-rule detector for r with the word
// boundaries and the trailing terminator group of its regexp removed, so
// that it matches a token whatever bytes surround it.
func gluedDetector(cfg config.Config, r config.Rule) (*detect.Detector, error) {
	re, err := syntax.Parse(r.Regex.String(), syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("gitleaks rule %s: parsing its regexp: %w", r.RuleID, err)
	}
	re = dropBoundaries(re)
	if re.Op == syntax.OpConcat && len(re.Sub) > 1 && isTerminator(re.Sub[len(re.Sub)-1]) {
		re.Sub = re.Sub[:len(re.Sub)-1]
	}
	glued, err := regexp.Compile(re.String())
	if err != nil {
		return nil, fmt.Errorf("gitleaks rule %s: compiling it without boundaries: %w", r.RuleID, err)
	}
	r.Regex = glued
	c := subConfig(cfg)
	c.Rules[r.RuleID] = r
	for _, k := range r.Keywords {
		c.Keywords[k] = struct{}{}
	}
	return newDetector(c), nil
}

// dropBoundaries replaces every \b and \B in re with an empty match.
func dropBoundaries(re *syntax.Regexp) *syntax.Regexp {
	if re.Op == syntax.OpWordBoundary || re.Op == syntax.OpNoWordBoundary {
		return &syntax.Regexp{Op: syntax.OpEmptyMatch}
	}
	for i, sub := range re.Sub {
		re.Sub[i] = dropBoundaries(sub)
	}
	return re
}

// isTerminator reports whether re is a group that ends a gitleaks match
// at a delimiter or the end of the text, such as
// (?:[\x60'"\s;]|\\[nr]|$) or (?:[^\w-]|\z): an alternation with an
// end-of-text branch.
func isTerminator(re *syntax.Regexp) bool {
	if re.Op == syntax.OpCapture {
		return false
	}
	if re.Op != syntax.OpAlternate {
		return false
	}
	for _, sub := range re.Sub {
		if sub.Op == syntax.OpEndText || sub.Op == syntax.OpEndLine {
			return true
		}
	}
	return false
}

// fineGrainedPATValid checks the layout of a fine-grained personal
// access token: github_pat_, 22 base62, "_", 59 base62, each part mixed.
func fineGrainedPATValid(token string) bool {
	body, ok := strings.CutPrefix(token, "github_pat_")
	if !ok || len(body) != 82 || body[22] != '_' {
		return false
	}
	a, b := body[:22], body[23:]
	return !strings.Contains(a+b, "_") && mixedAlnum(a) && mixedAlnum(b)
}

// mixedAlnum reports whether s has an upper-case letter, a lower-case
// letter and a digit.
func mixedAlnum(s string) bool {
	var upper, lower, digit bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		upper = upper || c >= 'A' && c <= 'Z'
		lower = lower || c >= 'a' && c <= 'z'
		digit = digit || c >= '0' && c <= '9'
	}
	return upper && lower && digit
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

// always accepts: the rule's regexp is the structure.
func always(string) bool { return true }

// minDerivedPrefix is the shortest fixed prefix that makes a format of
// the catalog worth finding glued: shorter ones ("sk-", "AIza" aside)
// occur in packed identifiers everywhere. A prefix shorter than 8 also
// needs a separator ("_", "-", ".", "~"), which base64 and identifiers
// do not spell.
const minDerivedPrefix = 5

// derivedFormat is the glued validation of a high-confidence gitleaks
// rule that gluedFormats does not list: when its pattern starts with a
// fixed, case-sensitive prefix of at least minDerivedPrefix characters
// (shpat_, dop_v1_, glsa_, hvs., xoxe.xoxp-, …), a glued match counts
// with letters and digits in its random part, and, in compiled code,
// with a separator before it — the rule of the short formats above.
func derivedFormat(r config.Rule) (gluedFormat, bool) {
	if r.Regex == nil {
		return gluedFormat{}, false
	}
	re, err := syntax.Parse(r.Regex.String(), syntax.Perl)
	if err != nil {
		return gluedFormat{}, false
	}
	prefix := literalPrefix(dropBoundaries(re))
	if len(prefix) < minDerivedPrefix || strings.ContainsAny(prefix, "/:") ||
		len(prefix) < 8 && !strings.ContainsAny(prefix, "_-.~") {
		// Too short, a URL (a webhook's host), or a run of letters
		// that base64 of ordinary text spells ("cmVmd" is "ref").
		return gluedFormat{}, false
	}
	return gluedFormat{prefixes: []string{prefix}, check: lettersAndDigits, apartBefore: true}, true
}

// literalPrefix is the case-sensitive literal every match of re starts
// with ("" when there is none).
func literalPrefix(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return ""
		}
		return string(re.Rune)
	case syntax.OpCapture:
		return literalPrefix(re.Sub[0])
	case syntax.OpConcat:
		var b strings.Builder
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpEmptyMatch || sub.Op == syntax.OpBeginText || sub.Op == syntax.OpBeginLine {
				continue
			}
			p := literalPrefix(sub)
			b.WriteString(p)
			if sub.Op != syntax.OpLiteral || p == "" || sub.Flags&syntax.FoldCase != 0 {
				break
			}
		}
		return b.String()
	}
	return ""
}

// checksumOrMixed validates a checksummed token outside compiled code:
// its checksum, or upper- and lower-case letters and digits in it. A
// token glued into data (an SQLite row, a serialized object) is not a
// packed literal, and one typed or generated without its issuer's
// checksum is still the credential its format says.
func checksumOrMixed(token string) bool {
	return tokensum.Valid(token) || mixedAlnum(token[min(len(token), 4):])
}

// lettersAndDigits reports whether s has a letter and a digit.
func lettersAndDigits(s string) bool {
	return hasDigit(s) && strings.IndexFunc(s, func(c rune) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }) >= 0
}
