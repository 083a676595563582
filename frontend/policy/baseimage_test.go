package policy

import (
	"testing"

	"github.com/distribution/reference"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestPatternMatches(t *testing.T) {
	tests := []struct {
		pattern, ref string
		want         bool
	}{
		{"debian", "debian:bookworm", true},
		{"docker.io/library/debian", "debian", true},
		{"debian", "ubuntu", false},
		{"registry.example:5000/base/*", "registry.example:5000/base/static:1", true},
		{"registry.example:5000/base/*", "registry.example:5000/base/a/b", false},
		{"registry.example:5000/base/**", "registry.example:5000/base/a/b", true},
		{"alpine:3.20", "alpine:3.20", true},
		{"alpine:3.20", "alpine", false},
		{"alpine@" + testDigest, "alpine@" + testDigest, true},
		{"alpine@" + testDigest, "alpine:3.20", false},
		{"", "alpine", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.ref, func(t *testing.T) {
			ref, err := reference.ParseNormalizedNamed(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if got := MatchesBasePattern(tt.pattern, ref); got != tt.want {
				t.Errorf("MatchesBasePattern(%q, %q) = %v, want %v", tt.pattern, tt.ref, got, tt.want)
			}
		})
	}
}
