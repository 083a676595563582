package buildflags

import (
	"context"
	"os/exec"
	"testing"
)

func TestDefaultSourceDateEpoch(t *testing.T) {
	gitDir := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "x"},
	} {
		cmd := exec.Command("git", append([]string{"-C", gitDir}, args...)...)
		cmd.Env = append(cmd.Environ(), "GIT_COMMITTER_DATE=@1700000000 +0000", "GIT_AUTHOR_DATE=@1700000000 +0000")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("this test needs git (install git): %v %s", err, out)
		}
	}
	tests := []struct {
		name    string
		attrs   map[string]string
		env     map[string]string
		dir     string
		want    string
		wantErr bool
	}{
		{name: "explicit build arg wins", attrs: map[string]string{attrSourceDateEpoch: "5"}, env: map[string]string{"SOURCE_DATE_EPOCH": "9"}, dir: gitDir, want: "5"},
		{name: "environment", env: map[string]string{"SOURCE_DATE_EPOCH": "9"}, dir: gitDir, want: "9"},
		{name: "bad environment", env: map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, dir: gitDir, wantErr: true},
		{name: "git commit time", dir: gitDir, want: "1700000000"},
		{name: "not a git checkout", dir: t.TempDir(), want: ""},
		{name: "remote context", dir: "https://example.com/repo.git", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{Attrs: map[string]string{}}
			for k, v := range tt.attrs {
				p.Attrs[k] = v
			}
			_, err := p.DefaultSourceDateEpoch(context.Background(), tt.dir, func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got := p.Attrs[attrSourceDateEpoch]; got != tt.want {
				t.Fatalf("SOURCE_DATE_EPOCH = %q, want %q", got, tt.want)
			}
		})
	}
}
