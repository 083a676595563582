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

// TestGluedTokensInData: in data that is not compiled code — an SQLite
// row's blob column — a provider token glued between letters and digits
// on both sides is found with its own fingerprint: a GitHub or npm token
// with its checksum or, planted without one, with its mix of characters,
// and every other fixed-prefix format of the catalog. In compiled code
// the formats derived from the catalog need a separator before them, as
// the short formats do, and are found glued on their right.
func TestGluedTokensInData(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	p := secretstest.Generate(t)
	hex := "0123456789abcdef"
	for _, tc := range []struct{ rule, token string }{
		{"github-pat", p.GitHubToken},
		{"github-pat", "ghp_" + mixed(t, base62, 36)}, // no checksum
		{"github-oauth", "gho_" + mixed(t, base62, 36)},
		{"npm-access-token", "npm_" + mixed(t, base62, 36)},
		{"shopify-access-token", "shpat_" + mixed(t, hex+"ABCDEF", 32)},
		{"digitalocean-pat", "dop_v1_" + draw(t, hex, 63) + "7"},
		{"gitlab-deploy-token", "gldt-" + mixed(t, base62, 20)},
		{"anthropic-api-key", "sk-ant-api03-" + mixed(t, base62, 93) + "AA"},
	} {
		t.Run(tc.rule+"/"+tc.token[:4], func(t *testing.T) {
			for where, blob := range map[string][]byte{
				"file:/app/db/app.sqlite": sqliteLike("s", "sessZq9"+tc.token+"Xk7end"),
				"file:/usr/bin/app":       elfLike("\x01" + tc.token + "Xk7end\x02"),
			} {
				if strings.HasPrefix(tc.rule, "github") || strings.HasPrefix(tc.rule, "npm") {
					if where == "file:/usr/bin/app" && !tokensum.Valid(tc.token) {
						continue // compiled code asks for the checksum (TestGluedPrecision)
					}
				}
				got := s.ScanBytes(where, blob)
				found := false
				for _, f := range got {
					found = found || f.Rule == tc.rule && f.Fingerprint == secrets.Fingerprint(tc.token)
					if strings.Contains(f.Where+f.Fingerprint+f.Rule, tc.token[4:16]) {
						t.Errorf("%s: finding %+v prints the token", where, f)
					}
				}
				if !found {
					t.Errorf("%s: findings %+v: want %s with the token's fingerprint", where, got, tc.rule)
				}
			}
		})
	}
}

// TestGluedDataPrecision: look-alikes glued into data or code are not
// tokens — a GitHub prefix before a run of one case without digits, a
// derived format's prefix before letters only, a derived format glued on
// its left in compiled code, base64 of text that spells a short prefix.
func TestGluedDataPrecision(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	for _, tc := range []struct{ name, where, strs string }{
		{"GitHub prefix before lower-case words", "file:/app/db/app.sqlite", "xghp_" + strings.Repeat("abcdefghijkl", 3) + "x"},
		{"Shopify prefix before letters only", "file:/app/db/app.sqlite", "xshpat_" + strings.Repeat("abcdef", 6) + "x"},
		{"derived format glued on its left in code", "file:/usr/bin/app", "x" + "shpat_" + draw(t, "0123456789abcdef", 30) + "a7"},
		{"GitLab deploy prefix among packed identifiers", "file:/usr/bin/app", "errgldt-deployTokenMissingForProjectX"},
		{"base64 of text", "file:/app/db/app.sqlite", "cmVmcy9oZWFkcy9tYWluCg" + "cmVmcy9oZWFkcy9tYWluIGFuZCBtb3JlIHRleHQ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blob := sqliteLike("s", tc.strs)
			if strings.HasPrefix(tc.where, "file:/usr/bin") {
				blob = elfLike(tc.strs)
			}
			if got := s.ScanBytes(tc.where, blob); len(got) != 0 {
				t.Errorf("findings %+v: want none", got)
			}
		})
	}
}
