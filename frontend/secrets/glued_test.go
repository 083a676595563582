package secrets_test

import (
	"crypto/rand"
	"math/big"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/frontend/secrets/tokensum"
)

// draw returns n characters drawn uniformly from alphabet.
func draw(t *testing.T, alphabet string, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

const (
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower  = "abcdefghijklmnopqrstuvwxyz"
	digits = "0123456789"
	base62 = digits + upper + lower
)

// mixed draws n characters of alphabet until they hold an upper-case
// letter, a lower-case letter and a digit, as all but a few per cent of
// real tokens do.
func mixed(t *testing.T, alphabet string, n int) string {
	t.Helper()
	for {
		s := draw(t, alphabet, n)
		if strings.ContainsAny(s, upper) && strings.ContainsAny(s, lower) && strings.ContainsAny(s, digits) {
			return s
		}
	}
}

// TestGluedTokensInBinaries: a provider token written into a binary with
// no separator on either side ("\x01abc<token>def\x02"), forwards or
// reversed, is found with the token's own fingerprint, for every format
// with a checksum or a layout; the short formats without either are found
// glued on their right ("\x01<token>def\x02"). A format of variable length (Slack,
// Stripe, PyPI) cannot tell where the token ends, so the bytes glued
// after it become part of the match: the rule is found, with another
// fingerprint.
func TestGluedTokensInBinaries(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	p := secretstest.Generate(t)
	variable := map[string]bool{"slack-bot-token": true, "stripe-access-token": true, "pypi-upload-token": true}
	short := map[string]bool{"gitlab-pat": true, "aws-access-token": true, "stripe-access-token": true, "gcp-api-key": true}
	for _, tc := range []struct {
		rule, token string
	}{
		{"github-pat", p.GitHubToken},
		{"github-oauth", "gho_" + strings.TrimPrefix(p.GitHubToken, "ghp_")},
		{"github-app-token", "ghs_" + strings.TrimPrefix(p.GitHubToken, "ghp_")},
		{"github-refresh-token", "ghr_" + strings.TrimPrefix(p.GitHubToken, "ghp_")},
		{"npm-access-token", p.NPMToken},
		{"github-fine-grained-pat", "github_pat_" + mixed(t, base62, 22) + "_" + mixed(t, base62, 59)},
		{"gitlab-pat", "glpat-" + mixed(t, base62+"_-", 20)},
		{"aws-access-token", "AKIA" + draw(t, upper, 8) + draw(t, "234567", 1) + draw(t, upper+"234567", 7)},
		{"slack-bot-token", "xoxb-" + draw(t, digits, 12) + "-" + draw(t, digits, 13) + "-" + mixed(t, base62, 24)},
		{"stripe-access-token", "sk_live_" + mixed(t, base62, 24)},
		{"gcp-api-key", "AIza" + mixed(t, base62+"_-", 35)},
		{"pypi-upload-token", "pypi-AgEIcHlwaS5vcmc" + mixed(t, base62+"_-", 60)},
	} {
		before := "abc"
		if short[tc.rule] {
			before = ""
		}
		for name, blob := range map[string][]byte{
			"glued":          elfLike("\x01" + before + tc.token + "def\x02"),
			"glued reversed": elfLike("\x01fed" + reversed(tc.token) + reversed(before) + "\x02"),
		} {
			t.Run(tc.rule+"/"+name, func(t *testing.T) {
				var got []string
				for _, f := range s.ScanBytes("file:/usr/bin/app", blob) {
					got = append(got, f.Rule)
					if f.Rule == tc.rule && (variable[tc.rule] || f.Fingerprint == secrets.Fingerprint(tc.token)) {
						return
					}
				}
				t.Errorf("findings %v: want %s with the token's fingerprint", got, tc.rule)
			})
		}
	}
}

// TestGluedPrecision: what a binary's packed string table holds after a
// token prefix — other identifiers, a random run whose checksum is
// wrong — is not a token. Only a valid checksum or a token's mix of
// characters makes a glued match count.
func TestGluedPrecision(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	body := draw(t, base62, 30)
	sum := tokensum.Base62CRC32(body)
	wrong := sum[:5] + string(base62[(strings.IndexByte(base62, sum[5])+1)%62])
	for _, tc := range []struct{ name, strs string }{
		{"GitHub token with a wrong checksum", "abc" + "ghp_" + body + wrong + "def"},
		{"npm token with a wrong checksum", "abc" + "npm_" + body + wrong + "def"},
		{"packed prefixes", "glpat-glrt-gloas-gldt-glft-glsoat-glrtr-"},
		// Seen in hardenkit's own frontend binary.
		{"packed literals with digits and capitals", "runtime.mainglpat-_live_HK1042HK1099HK1043xyz"},
		{"short format glued on its left", "x" + "glpat-" + mixed(t, base62, 20)},
		{"packed Go identifiers", "invalid tokenAKIAASIAABIAACCAREGIONSPACIFICNORTHEAST"},
		{"key prefix and words", "xAIzaSyntaxErrorUnexpectedTokenInJSONAtPositionxx"},
		{"stripe prefix and identifiers", "xsk_live_publishableKeyMissingForAccountSetting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.ScanBytes("file:/usr/bin/app", elfLike(tc.strs)); len(got) != 0 {
				t.Errorf("findings %+v: want none", got)
			}
		})
	}
}
