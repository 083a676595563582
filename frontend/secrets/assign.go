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
	publicNameRe      = regexp.MustCompile(`(?i)(?:_|^)(?:public|pub|gpg|pgp|gpgkey|gpgkeys|fingerprint|fingerprints|checksum|sha1|sha256|sha512|md5)(?:_|$)`)
	// notSecretValueRe matches values that cannot be credentials whatever
	// their name says: numbers (TOKEN_TTL_SECONDS=300), durations
	// (SESSION_TOKEN_LIFETIME=15m, 1h30m), booleans and switches
	// (AUTH_ENABLED=true). A path or a reference is handled by
	// literalSecret.
	notSecretValueRe = regexp.MustCompile(`(?i)^(?:[+-]?(?:0x[0-9a-f]{1,8}|[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)|(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h|d|w|y|sec|secs|min|mins|hour|hours|day|days))+|true|false|yes|no|on|off|enabled|disabled|none|null|nil)$`)
	// publicKeyIDRe matches the ids and fingerprints of OpenPGP and SSH
	// public keys, alone or as a list: "0x0A9AF2115F4687BD29803A206B73A36E6026DFCA",
	// "4ED778F539E3634C779C87C6D7062848A1AB005C B9E2F5981AA6E0CD28160D9FF13993A75599653C",
	// "SHA256:…". They are reported as public only under a name that says
	// key id (KEY_ID, KEY_IDS, KEYID): a bare 40-hex value can be a token.
	publicKeyIDRe  = regexp.MustCompile(`^(?:(?:0x)?[0-9A-Fa-f]{8}(?:[0-9A-Fa-f]{8}){0,4}|SHA256:[A-Za-z0-9+/]{43}=?)(?:[\s,;]+(?:(?:0x)?[0-9A-Fa-f]{8}(?:[0-9A-Fa-f]{8}){0,4}|SHA256:[A-Za-z0-9+/]{43}=?))*$`)
	keyIDNameRe    = regexp.MustCompile(`(?i)(?:_|^)(?:key_?ids?|keyids?)(?:_|$)`)
	nameSeparators = strings.NewReplacer(".", "_", "-", "_")
	// assignmentRe finds NAME=VALUE words and --option=value flags in a
	// command line: a RUN's recorded build args ("|1 TOKEN=…"), ENV
	// instructions, inline variables and flags.
	assignmentRe = regexp.MustCompile(`(?:^|[\s;&|("'])-{0,2}([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s;&|)]+)`)
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

// publicValue reports whether value, assigned to name, is public by its
// shape whatever the name says: a number, a duration, a boolean, or the
// id or fingerprint of a public key under a key-id name
// (RABBITMQ_PGP_KEY_ID, NODE_KEY_IDS).
func publicValue(name, value string) bool {
	v := strings.TrimSpace(strings.Trim(value, `"'`))
	if notSecretValueRe.MatchString(v) {
		return true
	}
	n := nameSeparators.Replace(name)
	return (keyIDNameRe.MatchString(n) || publicNameRe.MatchString(n)) && publicKeyIDRe.MatchString(v)
}

// SecretName reports whether a variable, label, build-argument or option
// name says it holds a secret: one of its words is one of BuildKit's
// SecretsUsedInArgOrEnv deny tokens, none is an allow token, and the name
// does not say the value is public (GPG_KEY, RABBITMQ_PGP_KEY_ID). It is
// the one name test of every secret rule, static and image.
func SecretName(name string) bool {
	return secretName(name) && !publicName(name)
}

// SecretValue reports whether value, assigned to a name SecretName
// accepts, is a credential a build would leak, as opposed to a number, a
// duration, a boolean, a path, a reference to another variable, a URL
// without a password, or a public key id. Unlike literalSecret it does
// not ask for randomness: a short or plain value passed as a secret-named
// build argument is still the secret it says it is.
func SecretValue(name, value string) bool {
	v := strings.Trim(value, `"'`)
	if v == "" || strings.Contains(v, "$") || publicValue(name, v) {
		return false
	}
	for _, p := range []string{"/", "./", "../", "~/"} {
		if strings.HasPrefix(v, p) {
			return false
		}
	}
	if strings.Contains(v, "://") {
		if u, err := url.Parse(v); err == nil {
			if _, has := u.User.Password(); !has {
				return false
			}
		}
	}
	return true
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
	if publicName(name) || publicValue(name, value) {
		hits = dropFingerprints(hits, map[string]bool{Fingerprint(strings.Trim(value, `"'`)): true}, genericRule)
	}
	if SecretName(name) && !publicValue(name, value) && literalSecret(value) {
		hits = addNameHit(hits, hit{rule: RuleSecretName, fingerprint: Fingerprint(strings.Trim(value, `"'`)), value: strings.Trim(value, `"'`)})
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
		if publicName(name) || publicValue(name, value) {
			public[Fingerprint(value)] = true
			continue
		}
		if secretName(name) && literalSecret(value) {
			h := hit{rule: RuleSecretName, fingerprint: Fingerprint(value), value: value}
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
	hits := append(s.gitleaks.scan(ctx, "", text, multiline, nil, true), privateKeys(text, multiline)...)
	hits = append(hits, s.scanDecoded(ctx, "", text, nil, decoding{lines: multiline, low: true})...)
	for _, h := range urlCredentials(text, multiline) {
		hits = addNameHit(hits, h)
	}
	return hits
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
