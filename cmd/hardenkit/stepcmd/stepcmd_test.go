package stepcmd

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantOK     bool
		wantCode   int
		wantStderr string
	}{
		{name: "no arguments name no step"},
		{name: "a CLI command is not a step", args: []string{"build", "."}},
		{name: "a flag is not a step", args: []string{"--version"}},
		{name: "a step's failure is reported under the binary's name", args: []string{"smoke"}, wantOK: true, wantCode: 1,
			wantStderr: "hardenkit smoke: usage: smoke --request FILE --out DIR"},
		{name: "every step is dispatched", args: []string{"scan"}, wantOK: true, wantCode: 1, wantStderr: "hardenkit scan: usage: scan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code, ok := Run(t.Context(), "hardenkit", tt.args, &stderr)
			if ok != tt.wantOK || code != tt.wantCode {
				t.Errorf("Run(%q) = %d, %v; want %d, %v (stderr %q)", tt.args, code, ok, tt.wantCode, tt.wantOK, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || (tt.wantStderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantStderr)
			}
		})
	}
	if want := []string{"scan", "sbom", "harden", "smoke"}; !slices.Equal(Names(), want) {
		t.Errorf("Names() = %q, want %q", Names(), want)
	}
}
