package dockerfilecheck

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"regexp"
	"strings"
)

// secretNameTokens and secretNameAllowTokens are BuildKit's
// SecretsUsedInArgOrEnv token sets (dockerfile2llb/validations.go,
// getSecretsRegex, v0.34.2): a name is secret-looking when one of its
// `_`-separated words is a deny token and none is an allow token. Using
// BuildKit's exact sets keeps hardenkit and `docker build --check` in
// agreement about which names are secrets.
var (
	secretNameRe      = regexp.MustCompile(`(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)`)
	secretNameAllowRe = regexp.MustCompile(`(?i)(?:_|^)(?:public|file|version)(?:_|$)`)
)

// isSecretName reports whether an ARG, ENV or build-arg name looks like it
// holds a secret.
func isSecretName(name string) bool {
	return secretNameRe.MatchString(name) && !secretNameAllowRe.MatchString(name)
}

// secretPattern is one kind of secret value recognised in Dockerfile text.
// group is the submatch holding the secret (0 for the whole match).
type secretPattern struct {
	kind       string
	re         *regexp.Regexp
	group      int
	minEntropy float64 // 0: the format alone is convincing
	// keywords prefilter the text (as gitleaks does): the regexp runs only
	// when one of them occurs, lower-cased when fold is set.
	keywords []string
	fold     bool
}

// secretPatterns are high-confidence token formats (the issuers' documented
// prefixes, as gitleaks and trivy match them) plus two generic shapes that
// also need a random-looking value: a credential in a URL and a
// `password=…`-style assignment.
var secretPatterns = []secretPattern{
	{kind: "private key", keywords: []string{"PRIVATE KEY"}, re: regexp.MustCompile(`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|\z)`)},
	{kind: "AWS access key id", keywords: []string{"AKIA", "ASIA", "ABIA", "ACCA", "A3T"}, re: regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b`), group: 1},
	{kind: "GitHub token", keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, re: regexp.MustCompile(`\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b`), group: 1},
	{kind: "GitLab token", keywords: []string{"glpat-"}, re: regexp.MustCompile(`\b(glpat-[A-Za-z0-9_-]{20,})`), group: 1},
	{kind: "Slack token", keywords: []string{"xox"}, re: regexp.MustCompile(`\b(xox[baprs]-[A-Za-z0-9-]{10,})`), group: 1},
	{kind: "Google API key", keywords: []string{"AIza"}, re: regexp.MustCompile(`\b(AIza[0-9A-Za-z_-]{35})`), group: 1},
	{kind: "Stripe secret key", keywords: []string{"_live_"}, re: regexp.MustCompile(`\b((?:sk|rk)_live_[0-9A-Za-z]{24,})`), group: 1},
	{kind: "npm token", keywords: []string{"npm_"}, re: regexp.MustCompile(`\b(npm_[A-Za-z0-9]{36})\b`), group: 1},
	{kind: "Docker Hub token", keywords: []string{"dckr_pat_"}, re: regexp.MustCompile(`\b(dckr_pat_[A-Za-z0-9_-]{27,})`), group: 1},
	{kind: "JSON Web Token", keywords: []string{"eyJ"}, re: regexp.MustCompile(`\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})`), group: 1},
	{kind: "password in URL", keywords: []string{"://"}, re: regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@$]+:([^/\s:@$]{6,})@`), group: 1, minEntropy: 2.5},
	{kind: "generic credential", keywords: []string{"passw", "secret", "token", "key"}, fold: true, re: regexp.MustCompile(`(?i)(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret)[a-z0-9_.-]*["']?\s*[:=]\s*["']?([^\s"'$;&|<>(){}\[\],]{8,})`), group: 1, minEntropy: 3.5},
}

// secretHit is one secret found in text.
type secretHit struct {
	kind  string
	value string
}

// findSecrets returns the secrets in text, each value once.
func findSecrets(text string) []secretHit {
	var hits []secretHit
	seen := map[string]bool{}
	lower := ""
	for _, p := range secretPatterns {
		hay := text
		if p.fold {
			if lower == "" {
				lower = strings.ToLower(text)
			}
			hay = lower
		}
		if !containsAny(hay, p.keywords) {
			continue
		}
		for _, m := range p.re.FindAllStringSubmatch(text, -1) {
			v := m[p.group]
			if seen[v] || !plausibleSecret(v, p.minEntropy) {
				continue
			}
			seen[v] = true
			hits = append(hits, secretHit{kind: p.kind, value: v})
		}
	}
	return hits
}

// plausibleSecret filters out values that are references, paths or
// obviously not random: `${TOKEN}`, `/run/secrets/x`, `--password-stdin`.
func plausibleSecret(v string, minEntropy float64) bool {
	if v == "" || strings.Contains(v, "$") {
		return false
	}
	if minEntropy == 0 {
		return true
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "-") {
		return false
	}
	return shannonEntropy(v) >= minEntropy
}

// literalSecretValue reports whether a value assigned to a secret-looking
// name is a hard-coded secret rather than a reference, path or
// placeholder: at least 8 characters and not low-entropy filler.
func literalSecretValue(v string) bool {
	if len(v) < 8 || strings.Contains(v, "$") || strings.HasPrefix(v, "/") {
		return false
	}
	return shannonEntropy(v) >= 3.0
}

// shannonEntropy is the bits per character of s, the randomness measure
// gitleaks uses to tell keys from words.
func shannonEntropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	var h float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}

// fingerprint identifies a secret without revealing it: the first 12 hex
// digits of its SHA-256. Enough to correlate findings and rotations, far
// too little to recover the value.
func fingerprint(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])[:12]
}

// containsAny reports whether s contains one of the keywords.
func containsAny(s string, keywords []string) bool {
	for _, k := range keywords {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}
