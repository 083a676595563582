package policy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// locatedRe is the shape of every line of a parse error.
var locatedRe = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*: \S`)

// FuzzParsePolicy feeds arbitrary documents to Parse: it must not panic,
// every error line must name the file and a line, and an accepted policy
// must survive its own canonical form unchanged.
func FuzzParsePolicy(f *testing.F) {
	for _, name := range Baselines() {
		data, _, err := BaselineFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	examples, _ := filepath.Glob("../../examples/policies/*.yaml")
	for _, file := range examples {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		hdr,
		hdr + "rules:\n  HK1001: warn\n  HK9: off\n",
		hdr + "defaults:\n  select:\n    - {cis: [\"4.6\"], level: warn}\n",
		hdr + "controls:\n  tooling:\n    shells: null\n    keep: [/bin/sh]\n",
		hdr + "controls: {user: {uid: 1, gid: 1}, exceptions: {maxLifetime: 1d1h}}\n",
		`{"apiVersion":"hardenkit.dev/v1alpha1","kind":"Policy","name":"j"}`,
		"a: &x [*x]\n",
		"a: b\n- c\n",
		"\xff",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data, nil)
		if err != nil {
			if p != nil {
				t.Errorf("Parse() returned a policy with error %v", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !locatedRe.MatchString(line) {
					t.Fatalf("error line %q does not start with fuzz.yaml:LINE:", line)
				}
			}
			return
		}
		canon, err := p.CanonicalJSON()
		if err != nil {
			t.Fatalf("CanonicalJSON() = %v", err)
		}
		back, err := Parse("canonical.json", canon, nil)
		if err != nil {
			t.Fatalf("Parse(CanonicalJSON()) = %v\n%s", err, canon)
		}
		if back.Digest() != p.Digest() {
			t.Fatalf("digest changed through the canonical form:\n%s", canon)
		}
	})
}
