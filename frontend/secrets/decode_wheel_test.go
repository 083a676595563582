package secrets_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// wheelOf is a wheel (PEP 427) of the named files: their RECORD lists the
// SHA-256 of each, except for the names in unlisted; tampered members
// get other bytes than RECORD says.
func wheelOf(t *testing.T, files map[string]string, unlisted, tampered map[string]string) []byte {
	t.Helper()
	var record strings.Builder
	var members []string
	for name, body := range files {
		sum := sha256.Sum256([]byte(body))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", name, base64.RawURLEncoding.EncodeToString(sum[:]), len(body))
		if b, ok := tampered[name]; ok {
			body = b
		}
		members = append(members, name, body)
	}
	for name, body := range unlisted {
		members = append(members, name, body)
	}
	record.WriteString("demo-1.0.dist-info/RECORD,,\n")
	members = append(members, "demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
		"demo-1.0.dist-info/RECORD", record.String())
	return zipOf(t, false, members...)
}

// TestWheelMembersVouchedForByRecord: a member whose bytes match its
// wheel's RECORD is distribution content — the low-confidence rules do
// not run on it (setuptools' "RegEnumKey = win32api.RegEnumKey" was a
// generic-api-key finding) — but a token with a fixed prefix in it is
// found, and so is a low-confidence secret in a member RECORD does not
// list or whose bytes differ from it, and in a zip that is not a wheel.
func TestWheelMembersVouchedForByRecord(t *testing.T) {
	p := secretstest.Generate(t)
	lowSecret := "api_key = \"" + mixed(t, base62, 32) + "\"\n"
	code := "import win32api\n" + lowSecret
	for _, tc := range []struct {
		name string
		blob []byte
		want string // the rule expected, "" for none
	}{
		{"member matching RECORD", wheelOf(t, map[string]string{"demo/reg.py": code}, nil, nil), ""},
		{"token with a fixed prefix in a matching member", wheelOf(t, map[string]string{"demo/conf.py": "TOKEN = '" + p.GitHubToken + "'\n"}, nil, nil), "github-pat"},
		{"member RECORD does not list", wheelOf(t, map[string]string{"demo/reg.py": "x = 1\n"}, map[string]string{"demo/local.py": code}, nil), "generic-api-key"},
		{"member changed after the build", wheelOf(t, map[string]string{"demo/reg.py": "import win32api\n"}, nil, map[string]string{"demo/reg.py": code}), "generic-api-key"},
		{"zip without a dist-info", zipOf(t, false, "demo/reg.py", code), "generic-api-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const at = "/app/wheels/demo-1.0-py3-none-any.whl"
			res := scanFiles(t, secrets.Options{}, map[string][]byte{at: tc.blob})
			var rules []string
			for _, f := range res.Findings {
				rules = append(rules, f.Rule)
				if f.Where != secrets.WhereFile+at {
					t.Errorf("finding %+v: want it at file:%s", f, at)
				}
				if s := fmt.Sprintf("%+v", f); strings.Contains(s, p.GitHubToken[4:16]) || strings.Contains(s, lowSecret[11:23]) {
					t.Errorf("finding %s prints the secret", s)
				}
			}
			if got := strings.Join(rules, ","); got != tc.want {
				t.Errorf("findings %v: want %q", rules, tc.want)
			}
			if res.Stats.Decoded["zip"] != 1 {
				t.Errorf("decoded %v: want the wheel opened", res.Stats.Decoded)
			}
		})
	}
}
