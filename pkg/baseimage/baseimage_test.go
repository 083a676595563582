package baseimage

import (
	"strings"
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
			if got := MatchesPattern(tt.pattern, ref); got != tt.want {
				t.Errorf("MatchesPattern(%q, %q) = %v, want %v", tt.pattern, tt.ref, got, tt.want)
			}
		})
	}
}

func TestAllowsName(t *testing.T) {
	dA, dB, dC := "sha256:"+strings.Repeat("a", 64), "sha256:"+strings.Repeat("b", 64), "sha256:"+strings.Repeat("c", 64)
	allowed := []Allowed{
		{Pattern: "gcr.io/distroless/*"},
		{Pattern: "registry.example.com/base/static", Digest: dA},
	}
	tests := []struct {
		name, digest string
		want         bool
	}{
		{"gcr.io/distroless/static:nonroot", "", true},
		{"gcr.io/distroless/static@" + dB, "", true},
		{"registry.example.com/base/static:1", dA, true},
		{"registry.example.com/base/static@" + dA, "", true},
		{"registry.example.com/base/static:1", dC, false},
		{"debian:bookworm", "", false},
		{"busybox", "", false},
	}
	for _, tt := range tests {
		if got := AllowsName(allowed, tt.name, tt.digest); got != tt.want {
			t.Errorf("AllowsName(%q, %q) = %v, want %v", tt.name, tt.digest, got, tt.want)
		}
	}
}
