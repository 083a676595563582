package exceptions

import (
	"crypto"
	"crypto/ed25519"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var locatedRe = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*: \S`)

// FuzzParseExceptions feeds arbitrary documents to Parse and whatever it
// accepts to Validate and Apply: nothing may panic, and every error line
// must name the file and a line.
func FuzzParseExceptions(f *testing.F) {
	if data, err := os.ReadFile("../../examples/policies/exceptions.yaml"); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		head + "- " + rec,
		head + "  []\n",
		head + "- " + strings.Replace(rec, "stage: build", "path: \"**\"\n    image: \"*\"", 1),
		head + "- " + strings.Replace(rec, "stage: build", "package: pkg:npm/x\n    cve: GHSA-1234-5678-9abc", 1),
		head + "- " + rec + "  signature:\n    payloadType: application/vnd.hardenkit.exception+json\n    payload: e30=\n    signatures: [{keyid: k, sig: AAAA}]\n",
		`{"apiVersion":"hardenkit.dev/v1alpha1","kind":"Exceptions","exceptions":[{"id":"a","rule":"HK1","created":"2026-01-01T00:00:00Z"}]}`,
		"exceptions: [{id: a, id: b}]\n",
		"\x00",
	} {
		f.Add([]byte(s))
	}
	pub := ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))
	pols := []ValidationPolicy{
		{},
		{MaxLifetime: 90 * 24 * time.Hour, RequireSignature: true, ApproverKeys: []crypto.PublicKey{pub}},
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse("fuzz.yaml", data, nil)
		if err != nil {
			if set != nil {
				t.Errorf("Parse() returned a set with error %v", err)
			}
			checkLocated(t, err)
			return
		}
		for _, pol := range pols {
			if err := set.Validate(now, pol); err != nil {
				checkLocated(t, err)
			}
		}
		findings := []rules.Finding{{Rule: "HK1", Level: rules.LevelEnforce, File: "Dockerfile", StageName: "build"}}
		for _, e := range set.Exceptions {
			findings = append(findings, rules.Finding{Rule: e.Rule, Level: rules.LevelWarn, File: e.Scope.Path, StageName: e.Scope.Stage})
		}
		out := set.Apply(findings, MatchContext{Image: "registry.example.com/app", Subject: func(rules.Finding) Subject {
			return Subject{Package: "pkg:npm/x@1", CVE: "CVE-1-1"}
		}})
		if len(out) != len(findings) {
			t.Fatalf("Apply() dropped findings: %d of %d", len(out), len(findings))
		}
		if _, err := set.Digest(); err != nil {
			t.Fatalf("Digest() = %v", err)
		}
	})
}

func checkLocated(t *testing.T, err error) {
	t.Helper()
	for _, line := range strings.Split(err.Error(), "\n") {
		if !locatedRe.MatchString(line) {
			t.Fatalf("error line %q does not start with fuzz.yaml:LINE:", line)
		}
	}
}
