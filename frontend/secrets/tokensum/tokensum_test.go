package tokensum

import "testing"

// TestValid holds the checksum to tokens GitHub issued (published
// revoked examples), and rejects each with one character changed.
func TestValid(t *testing.T) {
	for _, tc := range []struct {
		token string
		want  bool
	}{
		// The pseudocode example of github.com/therootcompany/base62-token.js.
		{"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", true},
		// Revoked personal access tokens published as test vectors of
		// checksum validators.
		{"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", true},
		{"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", true},
		{"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", true},
		{"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", true},
		{"ghp_M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V3", false},
		{"ghp_N7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4", false},
		{"ghp_M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V", false},
		{"", false},
	} {
		if got := Valid(tc.token); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.token, got, tc.want)
		}
	}
}
