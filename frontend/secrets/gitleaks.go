package secrets

import (
	"context"
	"fmt"
	"maps"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"unicode"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/report"
)

// gitleaksRulesReplaced are gitleaks default rules that a hardenkit
// detector supersedes: running both would report every key twice.
// gitleaks' private-key needs the END line and 64 body characters in one
// fragment; RulePrivateKey also finds keys split across fragments and
// truncated ones.
var gitleaksRulesReplaced = []string{"private-key"}

// Keyword windows. gitleaks' detector runs a rule's regular expression on
// a whole fragment as soon as one of the rule's keywords occurs anywhere
// in it. For rules with common keywords that is nearly every fragment:
// generic-api-key (access, api, auth, key, password, secret, token, …)
// alone scanned Debian's files at under 2 MB/s that way, and
// vault-service-token ("s.") and jwt ("ey") were next. Each rule therefore
// gets its own single-rule detector that only sees windows of text around
// that rule's keywords. A default rule's match contains one of its
// keywords — what gitleaks asks of rule authors; the few patterns that
// make the keyword optional (sourcegraph-access-token's "sgp_") only
// match near it here — so the windows hold every match the whole text
// would give, provided they reach as far as a match can:
//
//   - windowLine: a rule whose regular expression cannot match a newline
//     before its last element (the usual `(?:[\x60'"\s;]|\\[nr]|$)`
//     terminator) matches within the keyword's line;
//   - windowAssign: gitleaks' assignment template, `[\w.-]{0,50}?(?:KW)`
//     then `(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|…|,)` then the value,
//     which may start on the next line. A keyword not followed by that
//     shape cannot start a match, which rules out most occurrences of
//     "key" or "token" in ordinary text before any regexp runs;
//   - windowLines: anything else, the lines around the keyword (a value a
//     line below its name, five lines between curl and its header).
//
// Windows are capped in bytes for minified one-line files.
const (
	windowLinesBefore = 2
	windowLinesAfter  = 6
	windowBytesBefore = 4 << 10
	windowBytesAfter  = 4 << 10
	// windowMergeGap joins windows closer than this, so that a file
	// dense with keywords makes few large calls rather than many small.
	windowMergeGap = 1 << 10
)

// windowKind says how far around a keyword a rule's matches can reach.
type windowKind int

const (
	windowLines windowKind = iota
	windowLine
	windowAssign
)

// assignTemplate is the part of gitleaks' generated "generic with a
// vendor keyword" rules between the keyword group and the value
// (cmd/generate/config/utils: generateSemiGenericRegex).
const assignTemplate = `(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)`

// gitleaksEngine runs gitleaks' default rule set. It is safe for
// concurrent use: the detectors' Detect path only reads their compiled
// configuration and keyword tries.
type gitleaksEngine struct {
	// keywordRules are the rules with keywords, each with a detector
	// holding that rule only.
	keywordRules []keywordRule
	// keywords finds every keyword of keywordRules; pattern i is
	// keywordList[i].
	keywords    *ahocorasick.Trie
	keywordList []string
	// byKeyword maps a keyword to the indexes of the rules it selects.
	byKeyword map[string][]int
	// rest holds the rules without keywords (gitleaks' path-only
	// pkcs12-file), which must see every fragment.
	rest *detect.Detector
	// restNeedsContent is set when a keyword-less rule has a content
	// regex; otherwise rest only needs the path.
	restNeedsContent bool
	// pathAllow are gitleaks' global allow-lists by path, checked once
	// per file rather than once per window. gitleaks skips these files;
	// here they get the high-confidence rules only (scan).
	pathAllow []*config.Allowlist
	ruleIDs   []string
	// reversed finds the keywords of the high-confidence rules written
	// backwards (reversedKeywordsOf), for tokens stored reversed.
	reversed *ahocorasick.Trie
}

// keywordRule is one gitleaks rule with keywords and what decides where
// it runs.
type keywordRule struct {
	id       string
	detector *detect.Detector
	window   windowKind
	// value, for windowAssign rules, describes the secret after the
	// operator; nil when it could not be derived from the pattern.
	value *valueSpec
	// low marks the low-confidence rules: generic-api-key and the
	// assignment-template rules, whose secret is any random-looking
	// value after a keyword and an operator. The others need a fixed
	// prefix, a checksummed format or a structure.
	low bool
	// path is the rule's path pattern, nil for most rules. A rule with
	// both a path and a content pattern only applies to matching paths
	// (kubernetes-secret-yaml to *.yaml), so it is not run elsewhere.
	path interface{ MatchString(string) bool }
	// glued, for the provider formats of gluedFormats, is the rule
	// without its boundaries, run where matches must stand apart; what
	// it finds counts when format validates it (glued.go).
	glued  *detect.Detector
	format gluedFormat
}

// newGitleaks compiles gitleaks' embedded default configuration. It uses a
// private viper instance rather than detect.NewDetectorDefaultConfig,
// which parses through viper's process-wide singleton and so races with
// any other user of it.
func newGitleaks() (*gitleaksEngine, error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
		return nil, fmt.Errorf("reading gitleaks default config: %w", err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, fmt.Errorf("decoding gitleaks default config: %w", err)
	}
	cfg, err := vc.Translate()
	if err != nil {
		return nil, fmt.Errorf("compiling gitleaks default config: %w", err)
	}
	for _, id := range gitleaksRulesReplaced {
		delete(cfg.Rules, id)
	}
	g := &gitleaksEngine{byKeyword: map[string][]int{}}
	var contentAllow []*config.Allowlist
	for _, a := range cfg.Allowlists {
		if a.MatchCondition != config.AllowlistMatchOr || len(a.Paths) == 0 {
			contentAllow = append(contentAllow, a)
			continue
		}
		// An OR allow-list is a path part, which skips the file, and a
		// content part (regexes, stop words), which drops findings.
		g.pathAllow = append(g.pathAllow, a)
		if len(a.Regexes)+len(a.StopWords)+len(a.Commits) == 0 {
			continue
		}
		c := &config.Allowlist{Description: a.Description, MatchCondition: a.MatchCondition, Commits: a.Commits,
			RegexTarget: a.RegexTarget, Regexes: a.Regexes, StopWords: a.StopWords}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("gitleaks allow-list %q: %w", a.Description, err)
		}
		contentAllow = append(contentAllow, c)
	}
	cfg.Allowlists = contentAllow
	restCfg := subConfig(cfg)
	for _, id := range slices.Sorted(maps.Keys(cfg.Rules)) {
		r := cfg.Rules[id]
		g.ruleIDs = append(g.ruleIDs, id)
		if len(r.RequiredRules) > 0 || r.SkipReport {
			// Composite rules need their parts in the same detector;
			// the default configuration has none, and running them
			// apart would change what they report.
			return nil, fmt.Errorf("gitleaks rule %s: composite rules are not supported", id)
		}
		if len(r.Keywords) == 0 {
			restCfg.Rules[id] = r
			g.restNeedsContent = g.restNeedsContent || r.Regex != nil
			continue
		}
		c := subConfig(cfg)
		c.Rules[id] = r
		for _, k := range r.Keywords {
			c.Keywords[k] = struct{}{}
			g.byKeyword[k] = append(g.byKeyword[k], len(g.keywordRules))
		}
		kr := keywordRule{id: id, detector: newDetector(c), window: windowFor(r)}
		kr.low = id == genericRule || kr.window == windowAssign
		if r.Path != nil {
			kr.path = r.Path
		}
		if kr.window == windowAssign {
			kr.value = valueSpecFor(r)
		}
		f, ok := gluedFormats[id]
		if !ok && !kr.low {
			f, ok = derivedFormat(r)
		}
		if ok {
			if kr.glued, err = gluedDetector(cfg, r); err != nil {
				return nil, err
			}
			kr.format = f
		}
		g.keywordRules = append(g.keywordRules, kr)
	}
	for id := range gluedFormats {
		if _, ok := cfg.Rules[id]; !ok {
			// A gitleaks upgrade renamed or dropped it: glued tokens of
			// that format would go unseen.
			return nil, fmt.Errorf("gitleaks has no rule %s for glued tokens", id)
		}
	}
	g.keywordList = slices.Sorted(maps.Keys(g.byKeyword))
	g.keywords = ahocorasick.NewTrieBuilder().AddStrings(g.keywordList).Build()
	g.reversed = ahocorasick.NewTrieBuilder().AddStrings(g.reversedKeywords()).Build()
	g.rest = newDetector(restCfg)
	return g, nil
}

// reversedKeywords are the keywords of the high-confidence rules, at
// least minReversedKeyword long, written backwards.
func (g *gitleaksEngine) reversedKeywords() []string {
	seen := map[string]bool{}
	for k, idx := range g.byKeyword {
		if len(k) < minReversedKeyword {
			continue
		}
		for _, i := range idx {
			if !g.keywordRules[i].low {
				seen[reverse(k)] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// reversedLines returns, reversed, the lines of text in which a
// high-confidence keyword occurs backwards, with their 1-based line.
func (g *gitleaksEngine) reversedLines(text string) []decodedSegment {
	var out []decodedSegment
	last := -1
	g.reversed.Walk(asciiLower(text), func(end, n, _ int64) bool {
		start := int(end - n + 1)
		ls := strings.LastIndexByte(text[:start], '\n') + 1
		if ls == last {
			return true
		}
		last = ls
		le := strings.IndexByte(text[start:], '\n')
		if le < 0 {
			le = len(text)
		} else {
			le += start
		}
		out = append(out, decodedSegment{text: reverse(text[ls:le]), line: lineAt(text, ls)})
		return true
	})
	return out
}

// subConfig is cfg with its global allow-lists and no rules.
func subConfig(cfg config.Config) config.Config {
	return config.Config{
		Title:      cfg.Title,
		Rules:      map[string]config.Rule{},
		Keywords:   map[string]struct{}{},
		Allowlists: cfg.Allowlists,
		MinVersion: cfg.MinVersion,
	}
}

func newDetector(cfg config.Config) *detect.Detector {
	d := detect.NewDetector(cfg)
	// Decoding passes (base64, hex, percent) would find encoded secrets,
	// but re-scan every fragment once per depth; the credential-file
	// detector covers the common encoded case (registry auths).
	d.MaxDecodeDepth = 0
	// Inline "gitleaks:allow" comments are a repository author's opt-out;
	// in an image they would let any file hide its own secrets.
	d.IgnoreGitleaksAllow = true
	return d
}

// hit is one detector match. value is the secret as it stands in the
// scanned text, kept only so that Scanner.Mask can overwrite it; it never
// leaves this package (findings copies rule, line and fingerprint only).
type hit struct {
	rule        string
	line        int
	fingerprint string
	value       string
}

// window is a byte range of the text a rule's detector runs on.
type window struct{ start, end int }

// scan runs every rule on text. path (empty for config values) selects
// gitleaks' path-scoped rules and allow-lists; lines says whether line
// numbers mean anything (not for a binary's strings); whole is the raw
// content, which path-only rules fingerprint. What leaves it are hits,
// whose values stay in this package.
//
// low says whether the low-confidence rules run too (keywordRule.low).
// Files on gitleaks' global allow-lists by path (vendored and installed
// libraries, lock files, media and binary formats it does not read) get
// the high-confidence rules only: the lists are written for repositories,
// where those files are someone else's code; in an image a name is
// whatever wrote the file chose, and a token in /app/token.bin or under
// node_modules/ ships all the same.
func (g *gitleaksEngine) scan(ctx context.Context, path, text string, lines bool, whole []byte, low bool) []hit {
	return g.scanIn(ctx, path, text, whole, scanMode{lines: lines, low: low, packed: packedLiterals(whole)})
}

// pathAllowed reports whether gitleaks' global allow-list skips path:
// vendored and installed libraries, lock files, media formats.
func (g *gitleaksEngine) pathAllowed(path string) bool {
	for _, a := range g.pathAllow {
		if a.PathAllowed(path) {
			return true
		}
	}
	return false
}

// scanMode says how scanIn treats a text: lines and low as for scan;
// packed whether the text comes from compiled code, whose string
// literals are packed back to back (glued.go).
type scanMode struct{ lines, low, packed bool }

// scanIn is scan with packed said by the caller: a file read in pieces
// knows it from its first piece.
func (g *gitleaksEngine) scanIn(ctx context.Context, path, text string, whole []byte, m scanMode) []hit {
	lines, low, packed := m.lines, m.low, m.packed
	for _, a := range g.pathAllow {
		if low && a.PathAllowed(path) {
			low = false
		}
	}
	var found []report.Finding
	nl := newlines(text)
	lineOf := func(off int) int { return sort.SearchInts(nl, off) + 1 }
	applies := make([]bool, len(g.keywordRules))
	for i, r := range g.keywordRules {
		applies[i] = (r.path == nil || r.path.MatchString(path)) && (low || !r.low)
	}
	for i, ws := range g.windows(text, nl, applies) {
		r := g.keywordRules[i]
		for _, w := range ws {
			if ctx.Err() != nil {
				return nil
			}
			frag := detect.Fragment{Raw: text[w.start:w.end], FilePath: path, StartLine: lineOf(w.start)}
			for _, f := range r.detector.DetectContext(ctx, frag) {
				if lines || delimitedIn(frag.Raw, f.Match) {
					found = append(found, f)
				}
			}
			if lines || r.glued == nil {
				continue
			}
			for _, f := range r.glued.DetectContext(ctx, frag) {
				if r.format.valid(frag.Raw, f.Match, f.Secret, packed) {
					found = append(found, f)
				}
			}
		}
	}
	if g.restNeedsContent {
		eachFragment(text, func(frag string, line int) {
			found = append(found, g.rest.DetectContext(ctx, detect.Fragment{Raw: frag, FilePath: path, StartLine: line})...)
		})
	} else if path != "" {
		found = append(found, g.rest.DetectContext(ctx, detect.Fragment{FilePath: path, StartLine: 1})...)
	}
	found = dropShadowedGeneric(found)
	out := make([]hit, 0, len(found))
	for _, f := range found {
		if builtinAllowed(f.RuleID, f.Match, f.Secret) {
			continue
		}
		h := hit{rule: f.RuleID, value: f.Secret}
		if lines {
			h.line = f.StartLine
		}
		if f.Secret == "" {
			// A path-only rule (pkcs12-file): the file is the secret.
			h.fingerprint = fingerprintBytes(whole)
		} else {
			h.fingerprint = Fingerprint(f.Secret)
		}
		out = append(out, h)
	}
	return out
}

// windows returns, per keyword rule (by index), the merged windows around
// its keywords' occurrences in text, for the rules applies marks. nl are
// the offsets of text's newlines.
func (g *gitleaksEngine) windows(text string, nl []int, applies []bool) [][]window {
	out := make([][]window, len(g.keywordRules))
	lower := asciiLower(text)
	lineIdx := func(off int) int { return sort.SearchInts(nl, off) } // 0-based
	lineStart := func(li int) int {
		if li <= 0 {
			return 0
		}
		return nl[li-1] + 1
	}
	lineEnd := func(li int) int {
		if li >= len(nl) {
			return len(text)
		}
		return nl[li] + 1
	}
	g.keywords.Walk(lower, func(end, n, pattern int64) bool {
		ms, me := int(end-n+1), int(end+1)
		first, last := lineIdx(ms), lineIdx(me-1)
		var ws [3]window
		var done [3]bool
		assign := -1 // unknown
		op, valueLine := 0, 0
		for _, ri := range g.byKeyword[g.keywordList[pattern]] {
			if !applies[ri] {
				continue
			}
			kind := g.keywordRules[ri].window
			if kind == windowAssign {
				if assign < 0 {
					assign = 0
					var ok bool
					if op, ok = assignmentFollows(lower, me); ok {
						assign = 1
						valueLine = lineIdx(min(op+assignValueReach, len(text)-1))
					}
				}
				if assign == 0 || !g.keywordRules[ri].value.follows(lower, op) {
					continue
				}
			}
			if !done[kind] {
				done[kind] = true
				switch kind {
				case windowLine:
					ws[kind] = window{lineStart(first), lineEnd(last)}
				case windowAssign:
					ws[kind] = window{lineStart(first), lineEnd(valueLine)}
				default:
					ws[kind] = window{lineStart(first - windowLinesBefore), lineEnd(last + windowLinesAfter)}
				}
				ws[kind].start = max(ws[kind].start, ms-windowBytesBefore)
				ws[kind].end = min(ws[kind].end, me+windowBytesAfter)
			}
			w := ws[kind]
			rws := out[ri]
			gap := 0
			if kind == windowLines {
				gap = windowMergeGap
			}
			if k := len(rws) - 1; k >= 0 && w.start <= rws[k].end+gap && w.end-rws[k].start <= fragmentSize {
				rws[k].end = max(rws[k].end, w.end)
				continue
			}
			out[ri] = append(rws, w)
		}
		return true
	})
	return out
}

// newlines returns the offsets of the newlines in text.
func newlines(text string) []int {
	var nl []int
	for off := 0; ; {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return nl
		}
		nl = append(nl, off+i)
		off += i + 1
	}
}

// asciiLower lower-cases ASCII letters only, so that offsets in the
// result are offsets in s (strings.ToLower may change the length of
// non-ASCII text). gitleaks' keywords are all ASCII.
func asciiLower(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// dropShadowedGeneric applies gitleaks' own de-duplication across the
// single-rule detectors: a generic-rule finding is dropped when a
// specific rule found a secret containing it on the same line
// (detect/utils.go filter).
func dropShadowedGeneric(found []report.Finding) []report.Finding {
	var out []report.Finding
	for _, f := range found {
		if strings.Contains(strings.ToLower(f.RuleID), "generic") && slices.ContainsFunc(found, func(o report.Finding) bool {
			return o.StartLine == f.StartLine && o.RuleID != f.RuleID &&
				!strings.Contains(strings.ToLower(o.RuleID), "generic") && strings.Contains(o.Secret, f.Secret)
		}) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// windowFor classifies a rule's regular expression (see windowKind).
func windowFor(r config.Rule) windowKind {
	src := r.Regex.String()
	if i := strings.Index(src, assignTemplate); i > 0 && keywordsEndAt(src[:i], r.Keywords) {
		return windowAssign
	}
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return windowLines
	}
	if re.Op == syntax.OpConcat && len(re.Sub) > 1 {
		for _, sub := range re.Sub[:len(re.Sub)-1] {
			if matchesNewline(sub) {
				return windowLines
			}
		}
		return windowLine
	}
	if !matchesNewline(re) {
		return windowLine
	}
	return windowLines
}

// keywordsEndAt reports whether prefix, the regexp before the assignment
// template, ends in a group every match of which ends in a keyword: then
// the template must follow a keyword occurrence. A group whose matches
// cannot be listed (MailchimpSDK.initialize has a "." in it) does not
// qualify.
func keywordsEndAt(prefix string, keywords []string) bool {
	if !strings.HasSuffix(prefix, ")") {
		return false
	}
	depth, open := 0, -1
	for i := len(prefix) - 1; i >= 0 && open < 0; i-- {
		switch prefix[i] {
		case ')':
			depth++
		case '(':
			if depth--; depth == 0 {
				open = i
			}
		}
	}
	if open < 0 {
		return false
	}
	group, err := syntax.Parse(`(?i)`+prefix[open:], syntax.Perl)
	if err != nil {
		return false
	}
	strs, ok := literals(group.Simplify(), 64)
	if !ok {
		return false
	}
	for _, s := range strs {
		if !slices.ContainsFunc(keywords, func(k string) bool { return strings.HasSuffix(strings.ToLower(s), k) }) {
			return false
		}
	}
	return true
}

// literals lists the strings re matches, when there are at most limit of
// them and re has no repetition or wildcard. Case-folded literals and
// character classes of several runes contribute their first rune: the
// strings are compared lower-cased.
func literals(re *syntax.Regexp, limit int) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return nil, false
		}
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > 26 {
				return nil, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, string(r))
			}
		}
		return out, len(out) <= limit
	case syntax.OpCapture:
		return literals(re.Sub[0], limit)
	case syntax.OpQuest:
		sub, ok := literals(re.Sub[0], limit)
		return append(sub, ""), ok && len(sub) < limit
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l, ok := literals(sub, limit)
			if !ok || len(out)+len(l) > limit {
				return nil, false
			}
			out = append(out, l...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			l, ok := literals(sub, limit)
			if !ok || len(out)*len(l) > limit {
				return nil, false
			}
			var next []string
			for _, a := range out {
				for _, b := range l {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// matchesNewline reports whether re can match a newline character.
func matchesNewline(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpAnyChar:
		return true
	case syntax.OpLiteral:
		return slices.Contains(re.Rune, '\n')
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
				return true
			}
		}
		return false
	}
	return slices.ContainsFunc(re.Sub, matchesNewline)
}

// assignmentFollows reports whether the text after offset pos (lower-
// cased) has the shape assignTemplate requires: up to 20 of [ \t\w.-],
// up to 3 of [\s'"], then an assignment operator, whose offset it
// returns. The operator is the first byte in neither class, so the
// answer is exact. Non-ASCII bytes are skipped without counting: under
// (?i) a Kelvin sign is a "k", and a superset of the regexp's matches is
// what a prefilter must keep.
func assignmentFollows(text []byte, pos int) (int, bool) {
	name, space := 0, 0
	for k := pos; k < len(text); k++ {
		c := text[k]
		switch {
		case c >= 0x80:
			continue
		case strings.IndexByte("=>:|?,", c) >= 0:
			return k, true
		case space == 0 && isAssignNameByte(c):
			if name++; name > 20 {
				// Up to 20 name bytes, and spaces or tabs beyond that
				// count as the three [\s'"] ones.
				if c != ' ' && c != '\t' {
					return 0, false
				}
				name--
				space++
			}
		case strings.IndexByte(" \t\n\v\f\r'\"", c) >= 0:
			if space++; space > 3 {
				return 0, false
			}
		default:
			return 0, false
		}
	}
	return 0, false
}

// assignValueReach is how far past the operator a template match's value
// can start: the longest operator (":::=") and five [\x60'"\s=].
const assignValueReach = 4 + 5

// isAssignNameByte is [ \t\w.-] on lower-cased text.
func isAssignNameByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// valueSpec is what the value of an assignment-template rule can be: at
// least min bytes from set. Checking that a run of such bytes follows the
// operator rules out `key := "x"` and `token_ttl = 3600` before the
// regexp runs; gitleaks' generic-api-key, whose counted repetitions
// compile to a program too large for Go's backtracker, costs hundreds of
// microseconds per window on the NFA.
type valueSpec struct {
	min int
	set [256]bool
}

// valueSpecFor derives the spec from the rule's first capture group, the
// secret in every template rule, or returns nil.
func valueSpecFor(r config.Rule) *valueSpec {
	re, err := syntax.Parse(r.Regex.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	capture := firstCapture(re)
	if capture == nil {
		return nil
	}
	v := &valueSpec{min: minLen(capture)}
	if !addRunes(capture, &v.set) {
		return nil
	}
	for c := 0x80; c < 256; c++ {
		// Non-ASCII bytes: under (?i) a Kelvin sign is a "k".
		v.set[c] = true
	}
	return v
}

// follows reports whether, somewhere in the operator and the up to five
// [\x60'"\s=] after it, a run of at least v.min value bytes starts in
// the lower-cased text. A nil spec accepts everything.
func (v *valueSpec) follows(text []byte, op int) bool {
	if v == nil || v.min == 0 {
		return true
	}
	for p := op + 1; p <= op+assignValueReach+1 && p < len(text); p++ {
		n := 0
		for k := p; k < len(text) && v.set[text[k]]; k++ {
			if n++; n >= v.min {
				return true
			}
		}
	}
	return false
}

func firstCapture(re *syntax.Regexp) *syntax.Regexp {
	if re.Op == syntax.OpCapture {
		return re
	}
	for _, sub := range re.Sub {
		if c := firstCapture(sub); c != nil {
			return c
		}
	}
	return nil
}

// minLen is the length of the shortest string re matches, in bytes of
// ASCII text.
func minLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLen(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minLen(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n += minLen(sub)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, sub := range re.Sub {
			if m := minLen(sub); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0
}

// addRunes adds every ASCII byte re can match, lower-cased, to set. It
// returns false when re can match any character, which makes the spec
// useless.
func addRunes(re *syntax.Regexp, set *[256]bool) bool {
	add := func(r rune) {
		if r < 0x80 {
			set[byte(unicode.ToLower(r))] = true
		}
	}
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return false
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			add(r)
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= min(re.Rune[i+1], 0x7f); r++ {
				add(r)
			}
		}
	}
	for _, sub := range re.Sub {
		if !addRunes(sub, set) {
			return false
		}
	}
	return true
}
