package reportcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
)

// TestReportCommand runs "hardenkit report" on an OCI archive and an OCI
// layout given as plain paths, as a user types them.
func TestReportCommand(t *testing.T) {
	idx, err := releasetest.Synthetic(releasetest.Predicate(time.Now().Add(30*24*time.Hour)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := releasetest.LayoutDir(t, idx)
	archive := releasetest.ArchiveFile(t, dir)
	out := filepath.Join(t.TempDir(), "report.md")
	cases := []struct {
		name    string
		args    []string
		file    string
		want    []string
		wantErr string
	}{
		{name: "archive, text", args: []string{archive}, want: []string{"Verdict: PASS", "EX-1", "alice", "CIS Docker Benchmark §4"}},
		{name: "layout, markdown to a file", args: []string{"--format", "markdown", "-o", out, dir}, file: out, want: []string{"# hardenkit evidence report", "| EX-1 | HK2001 |"}},
		{name: "html", args: []string{"--format=html", "oci-layout://" + dir}, want: []string{"<!DOCTYPE html>", "Verdict: PASS"}},
		{name: "unknown format", args: []string{"--format", "pdf", archive}, wantErr: `--format "pdf": want text, markdown, html`},
		{name: "policy without key", args: []string{"--policy", "release.yaml", archive}, wantErr: "give --key too"},
		{name: "missing image", args: []string{filepath.Join(t.TempDir(), "nope.tar")}, wantErr: "nope.tar"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := NewCommand()
			var stdout bytes.Buffer
			cmd.SetOut(&stdout)
			cmd.SetErr(&bytes.Buffer{})
			cmd.SetArgs(tc.args)
			err := cmd.ExecuteContext(t.Context())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := stdout.String()
			if tc.file != "" {
				b, err := os.ReadFile(tc.file)
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("report lacks %q:\n%s", w, got)
				}
			}
		})
	}
}
