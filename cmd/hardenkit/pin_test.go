package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPinCommandWithoutDaemon covers what pin decides before it needs a
// daemon: nothing to pin is a success that touches nothing, and the
// Dockerfile must be a file it can write back. The address points nowhere,
// so any attempt to connect would fail the test.
func TestPinCommandWithoutDaemon(t *testing.T) {
	pinned := "# app\nFROM debian:bookworm@sha256:" + strings.Repeat("a", 64) + "\nRUN apt-get install -y curl=7.88.1-10+deb12u12\n"
	tests := []struct {
		name       string
		args       []string
		dockerfile string
		wantErr    string
		wantStderr string
	}{
		{name: "pinned: nothing to do", args: []string{"pin"}, dockerfile: pinned, wantStderr: "nothing to pin"},
		{name: "check --fix on a pinned file", args: []string{"check", "--fix"}, dockerfile: pinned, wantStderr: "nothing to pin"},
		{name: "stdin cannot be rewritten", args: []string{"pin", "-f", "-"}, dockerfile: pinned, wantErr: "give it as a file"},
		{name: "missing Dockerfile", args: []string{"pin", "-f", "nope/Dockerfile"}, dockerfile: pinned, wantErr: "reading the Dockerfile"},
		{name: "unparsable Dockerfile", args: []string{"pin"}, dockerfile: "FROM\n", wantErr: "FROM requires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "Dockerfile")
			if err := os.WriteFile(path, []byte(tt.dockerfile), 0o600); err != nil {
				t.Fatal(err)
			}
			root := newRootCommand()
			var stdout, stderr bytes.Buffer
			root.SetOut(&stdout)
			root.SetErr(&stderr)
			root.SetArgs(append(append([]string{"--addr", "unix:///nonexistent/buildkitd.sock"}, tt.args...), dir))
			err := root.Execute()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantStderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
			if dt, _ := os.ReadFile(path); string(dt) != tt.dockerfile {
				t.Errorf("Dockerfile changed to %q", dt)
			}
		})
	}
}
