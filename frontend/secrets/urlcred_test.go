package secrets_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// TestURLCredentialsInFiles: a random password in a URL's user
// information is found in a file, at its line, with the password's
// fingerprint; the placeholders documentation writes are not.
func TestURLCredentialsInFiles(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	pw := mixed(t, base62, 18)
	for _, tc := range []struct {
		name, text string
		found      bool
		// anyRule: gitleaks' generic-api-key reports the same password
		// first (a "password=" or "token=" assignment), and the URL
		// detector does not report it again.
		anyRule bool
	}{
		{"postgresql URL in a config file", "db:\n  url: postgresql://app:" + pw + "@db.internal:5432/app\n", true, false},
		{"redis URL in an env file", "REDIS=redis://default:" + pw + "@cache:6379/0\n", true, false},
		{"amqp URL in a script", "#!/bin/sh\nexec worker --broker 'amqp://svc:" + pw + "@mq/'\n", true, false},
		{"percent-encoded password", "url = mysql://root:" + pw[:9] + "%40" + pw[9:] + "@10.0.0.5/app\n", true, false},
		{"empty user", "cache:\n  url: \"redis://:" + pw + "@cache.internal:6379/0\"\n", true, false},
		{"JDBC URL with the password in its query", "spring.datasource.url=jdbc:postgresql://db.internal:5432/app?user=app&password=" + pw + "&ssl=true\n", true, false},
		{"JDBC properties after semicolons", "url=jdbc:sqlserver://db.internal:1433;databaseName=app;user=sa;password=" + pw + ";encrypt=true\n", true, true},
		{"mongodb query after authSource", "MONGO=mongodb://db.internal/app?authSource=admin&pwd=" + pw + "\n", true, false},
		{"access_token parameter", "hook: https://api.internal/v1/notify?access_token=" + pw + "\n", true, true},
		{"JDBC user information", "url=jdbc:mysql://app:" + pw + "@db.internal/app\n", true, false},
		{"query password from a variable", "jdbc:postgresql://db/app?user=app&password=${DB_PASSWORD}\n", false, false},
		{"query password as a format verb", "url = 'postgresql://db/app?user=app&password=%s' % pw\n", false, false},
		{"query password as a named format verb", "url = 'jdbc:postgresql://db/app?password=%(password)s&ssl=1'\n", false, false},
		{"query password in angle brackets", "jdbc:postgresql://db/app?user=app&password=<password>\n", false, false},
		{"query password changeme", "jdbc:postgresql://db/app?user=app&password=changeme2024\n", false, false},
		{"query without a credential name", "https://cdn.internal/app.js?v=" + pw + "&sig_version=2\n", false, false},
		{"empty user and the CVS access method", "cvs -d :pserver:anoncvs@cvs.internal:/cvs\ncvs://:pserver:anoncvs1@cvs.internal/\n", false, false},
		{"documentation example", "see http://user:password@example.com/path\n", false, false},
		{"short placeholder", "https://user:pass@host/\n", false, false},
		{"environment reference", "postgresql://app:${DB_PASSWORD}@db/app\n", false, false},
		{"shell variable", "postgresql://app:$PASS@db/app\n", false, false},
		{"angle placeholder", "postgresql://app:<password>@db/app\n", false, false},
		{"masked", "postgresql://app:********@db/app\n", false, false},
		{"changeme", "postgresql://app:changeme123@db/app\n", false, false},
		{"random password at a documentation domain", "http://admin:" + pw + "@example.com/\n", false, false},
		{"URL without password", "git+https://github.com/org/repo.git@v1.2.3#egg=x\n", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.ScanBytes("file:/app/settings.conf", []byte(tc.text))
			if !tc.found {
				if len(got) != 0 {
					t.Errorf("findings %+v: want none", got)
				}
				return
			}
			secret := pw
			if strings.Contains(tc.text, "%40") {
				secret = pw[:9] + "@" + pw[9:]
			}
			line := strings.Count(tc.text[:strings.Index(tc.text, "://")], "\n") + 1
			rule := secrets.RuleURLCredential
			if tc.anyRule {
				rule = ""
			}
			match(t, got, "file:/app/settings.conf", []want{{rule: rule, line: line, secret: secret}})
			for _, f := range got {
				if strings.Contains(fmt.Sprintf("%+v", f), pw[:12]) {
					t.Errorf("finding %+v prints the password", f)
				}
			}
		})
	}
	t.Run("package-verified and allow-listed files are not searched", func(t *testing.T) {
		text := []byte("url: postgresql://app:" + pw + "@db.internal/app\n")
		if got := s.ScanBytes("file:/app/node_modules/pg/README.md", text); len(got) != 0 {
			t.Errorf("findings %+v: want none under node_modules", got)
		}
	})
}

// sqliteLike is a database page: a header, then a record whose columns
// are packed back to back, as SQLite stores a row.
func sqliteLike(cols ...string) []byte {
	b := []byte("SQLite format 3\x00\x10\x00\x01\x01\x00\x40\x20\x20")
	b = append(b, make([]byte, 64)...)
	b = append(b, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x8a, 0x00, 0x04, 0x01, 0x35, 0x5d, 0x07)
	for _, c := range cols {
		b = append(b, c...)
	}
	return append(b, make([]byte, 32)...)
}

// TestGluedAWSKeyInData: an AWS access key id glued on both sides — to
// the column before it and to its secret access key after it, in a
// database row — is found in data files; the same bytes in compiled code
// are packed literals and are not.
func TestGluedAWSKeyInData(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	p := secretstest.Generate(t)
	row := sqliteLike("prod", p.AWSAccessKeyID+p.AWSSecretAccessKey, "x")
	got := s.ScanBytes("file:/app/data/app.db", row)
	found := false
	for _, f := range got {
		found = found || f.Rule == "aws-access-token" && f.Fingerprint == secrets.Fingerprint(p.AWSAccessKeyID)
	}
	if !found {
		t.Errorf("findings %+v: want aws-access-token with the key id's fingerprint", got)
	}
	// Outside compiled code an id needs no digit: a base32 id of letters
	// only (one in 28) is found too.
	noDigit := "AKIA" + draw(t, upper, 16)
	got = s.ScanBytes("file:/app/data/app.db", sqliteLike("prod", noDigit+p.AWSSecretAccessKey))
	if len(got) == 0 || got[0].Fingerprint != secrets.Fingerprint(noDigit) {
		t.Errorf("findings %+v: want the digit-free key id", got)
	}
	if got := s.ScanBytes("file:/usr/bin/app", elfLike("prod"+p.AWSAccessKeyID+"glued")); len(got) != 0 {
		t.Errorf("compiled code: findings %+v, want none", got)
	}
}
