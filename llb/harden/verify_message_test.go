package harden

import (
	"fmt"
	"strings"
	"testing"
)

// TestVerifyMessage: HK2050 never ends at a colon, puts the first reason
// on the first line, bounds the list and says what to do.
func TestVerifyMessage(t *testing.T) {
	many := make([]string, 30)
	for i := range many {
		many[i] = fmt.Sprintf("/p%d is world-writable", i)
	}
	tests := []struct {
		name      string
		problems  []string
		firstLine string
		lacks     string
	}{
		{name: "one", problems: []string{"shell /bin/sh is still present (name)"}, firstLine: "the hardened image failed verification: shell /bin/sh is still present (name)"},
		{name: "two", problems: []string{"a", "b"}, firstLine: "the hardened image failed verification: a (and 1 more)"},
		{name: "many", problems: many, firstLine: "the hardened image failed verification: /p0 is world-writable (and 29 more)", lacks: "/p25 "},
		{name: "none", problems: nil, firstLine: "the hardened image failed verification: no problem was recorded (a bug in hardenkit)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := verifyMessage(tt.problems)
			lines := strings.Split(msg, "\n")
			if lines[0] != tt.firstLine {
				t.Errorf("first line %q, want %q", lines[0], tt.firstLine)
			}
			if strings.HasSuffix(strings.TrimSpace(lines[0]), ":") {
				t.Errorf("first line ends at a colon: %q", lines[0])
			}
			if !strings.Contains(msg, "to fix: ") {
				t.Errorf("no remedy in %q", msg)
			}
			if tt.lacks != "" && strings.Contains(msg, tt.lacks) {
				t.Errorf("message lists %q beyond the bound", tt.lacks)
			}
			if tt.name == "many" && !strings.Contains(msg, "… and 10 more") {
				t.Errorf("bounded list does not count the rest:\n%s", msg)
			}
		})
	}
}
