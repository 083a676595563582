package dockerfilecheck

import (
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// TestContextCopyLevel: HK1070 guesses from the ignore patterns, HK3054
// reads the files; while HK3054 runs, HK1070 only warns, so a whole-context
// COPY with an ordinary .dockerignore builds.
func TestContextCopyLevel(t *testing.T) {
	django := []string{".git", "__pycache__", "*.pyc", "venv/", "db.sqlite3", "media/"}
	cases := []struct {
		name  string
		rules map[string]rules.Level
		want  rules.Level
		msg   string
	}{
		{"built-in: the context scan runs", nil, rules.LevelWarn, "a warning only: the build context scan (HK3054)"},
		{"HK3054 warns: still a scan", map[string]rules.Level{"HK3054": rules.LevelWarn}, rules.LevelWarn, "HK3054"},
		{"HK3054 off: nothing reads the files", map[string]rules.Level{"HK3054": rules.LevelOff}, rules.LevelEnforce, "does not exclude .env"},
		{"HK1070 warn stays warn", map[string]rules.Level{"HK1070": rules.LevelWarn, "HK3054": rules.LevelOff}, rules.LevelWarn, ".env"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &policy.Policy{Defaults: policy.Defaults{Level: rules.LevelEnforce}, Rules: tc.rules}
			fs, err := Check([]byte("FROM python:3.12-slim\nWORKDIR /app\nCOPY . /app\n"), Options{HasDockerignore: true, DockerignorePatterns: django, Policy: p})
			if err != nil {
				t.Fatal(err)
			}
			got := findings(fs, "HK1070")
			if len(got) != 1 {
				t.Fatalf("HK1070 findings = %d, want 1:\n%s", len(got), dump(fs))
			}
			if got[0].Level != tc.want || !strings.Contains(got[0].Message, tc.msg) {
				t.Errorf("HK1070 = [%s] %q, want [%s] containing %q", got[0].Level, got[0].Message, tc.want, tc.msg)
			}
		})
	}
}
