package secrets

import (
	"context"
	"math"
	"net/url"
	"regexp"
	"strings"
)

// Name rules. secretNameRe and secretNameAllowRe are BuildKit's
// SecretsUsedInArgOrEnv token sets (dockerfile2llb/validations.go,
// v0.34.2), also used by the static rule HK1061: a name is secret-looking
// when one of its words is a deny token and none is an allow token.
// publicNameRe names values that are published by design — key
// fingerprints and checksums, such as the official python images'
// GPG_KEY — whose randomness would otherwise look like a key to
// gitleaks' generic-api-key rule. Words are separated by "_"; "." and
// "-" (label keys, command-line options) count as "_".
var (
	secretNameRe      = regexp.MustCompile(`(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)`)
	secretNameAllowRe = regexp.MustCompile(`(?i)(?:_|^)(?:public|file|version)(?:_|$)`)
	publicNameRe      = regexp.MustCompile(`(?i)(?:_|^)(?:public|pub|gpg|pgp|gpgkey|gpgkeys|fingerprint|checksum|sha1|sha256|sha512|md5)(?:_|$)`)
	nameSeparators    = strings.NewReplacer(".", "_", "-", "_")
	// assignmentRe finds NAME=VALUE words and --option=value flags in a
	// command line: a RUN's recorded build args ("|1 TOKEN=…"), ENV
	// instructions, inline variables and flags.
	assignmentRe = regexp.MustCompile(`(?:^|[\s;&|(])-{0,2}([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s;&|)]+)`)
)

// genericRule is gitleaks' catch-all rule, the one public values trip.
const genericRule = "generic-api-key"

// secretName reports whether a variable, label or option name says it
// holds a secret.
func secretName(name string) bool {
	n := nameSeparators.Replace(name)
	return secretNameRe.MatchString(n) && !secretNameAllowRe.MatchString(n)
}

// publicName reports whether a name says its value is public.
func publicName(name string) bool {
	return publicNameRe.MatchString(nameSeparators.Replace(name))
}

// literalSecret reports whether a value assigned to a secret name is a
// hard-coded secret rather than a reference, a path, a URL without
// credentials or a placeholder: at least 8 characters and not low-entropy
// filler. The thresholds are HK1061's, so the Dockerfile rule and the
// image inspection agree.
func literalSecret(v string) bool {
	v = strings.Trim(v, `"'`)
	if len(v) < 8 || strings.Contains(v, "$") {
		return false
	}
	for _, p := range []string{"/", "./", "../", "~/"} {
		if strings.HasPrefix(v, p) {
			return false
		}
	}
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err == nil {
			if _, has := u.User.Password(); !has {
				return false
			}
		}
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

// scanAssignment scans one named config value: an Env variable, a label,
// a build argument.
func (s *Scanner) scanAssignment(ctx context.Context, name, value string) []hit {
	hits := s.scanValue(ctx, name+"="+value)
	if publicName(name) {
		hits = dropFingerprints(hits, map[string]bool{Fingerprint(value): true}, genericRule)
	}
	if secretName(name) && !publicName(name) && literalSecret(value) {
		hits = addNameHit(hits, hit{rule: RuleSecretName, fingerprint: Fingerprint(strings.Trim(value, `"'`))})
	}
	return hits
}

// scanCommand scans a recorded command (a history entry): gitleaks on
// the text, and the name rule on every NAME=VALUE in it.
func (s *Scanner) scanCommand(ctx context.Context, text string) []hit {
	hits := s.scanValue(ctx, text)
	multiline := strings.Contains(text, "\n")
	public := map[string]bool{}
	var named []hit
	for _, m := range assignmentRe.FindAllStringSubmatchIndex(text, -1) {
		name, value := text[m[2]:m[3]], strings.Trim(text[m[4]:m[5]], `"'`)
		if publicName(name) {
			public[Fingerprint(value)] = true
			continue
		}
		if secretName(name) && literalSecret(value) {
			h := hit{rule: RuleSecretName, fingerprint: Fingerprint(value)}
			if multiline {
				h.line = lineAt(text, m[2])
			}
			named = append(named, h)
		}
	}
	hits = dropFingerprints(hits, public, genericRule)
	for _, h := range named {
		hits = addNameHit(hits, h)
	}
	return hits
}

// scanValue runs gitleaks on a config value. Lines are reported only for
// values of several lines: "line 1" of a one-line value says nothing.
func (s *Scanner) scanValue(ctx context.Context, text string) []hit {
	multiline := strings.Contains(text, "\n")
	return append(s.gitleaks.scan(ctx, "", text, multiline, nil), privateKeys(text, multiline)...)
}

// dropFingerprints removes the hits of rule whose secret is one of fps.
func dropFingerprints(hits []hit, fps map[string]bool, rule string) []hit {
	out := hits[:0]
	for _, h := range hits {
		if h.rule == rule && fps[h.fingerprint] {
			continue
		}
		out = append(out, h)
	}
	return out
}

// addNameHit adds a name-rule hit unless another detector already
// reported the same secret there.
func addNameHit(hits []hit, h hit) []hit {
	for _, o := range hits {
		if o.fingerprint == h.fingerprint {
			return hits
		}
	}
	return append(hits, h)
}
