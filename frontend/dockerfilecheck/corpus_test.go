package dockerfilecheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCorpus checks the regression corpus, testdata/corpus/*.Dockerfile:
// Dockerfiles written from the patterns real projects use, each
// instruction preceded by `# want: RULE[:level] …` when it must be
// reported (and by nothing when it must not). `# ignore: RULE …` at the
// top names rules a file does not judge (base pinning in a file about
// packages).
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.Dockerfile")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	total := 0
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			dt, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			want, ignore := corpusExpectations(string(dt))
			fs, err := Check(dt, Options{Filename: filepath.Base(p), HasDockerignore: true, DockerignorePatterns: []string{".git", ".env", "*.pem"}})
			if err != nil {
				t.Fatal(err)
			}
			got := map[int][]string{}
			for _, f := range fs {
				if !ignore[f.Rule] {
					got[f.Line] = append(got[f.Line], f.Rule+":"+string(f.Level))
				}
			}
			for line := range mergeKeys(want, got) {
				total++
				if !corpusMatch(want[line], got[line]) {
					t.Errorf("%s:%d: findings %v, want %v", p, line, got[line], want[line])
				}
			}
		})
	}
	if total < 60 {
		t.Errorf("the corpus judges %d lines, want at least 60", total)
	}
}

// corpusExpectations reads the `# want:` and `# ignore:` comments.
func corpusExpectations(src string) (want map[int][]string, ignore map[string]bool) {
	want, ignore = map[int][]string{}, map[string]bool{}
	var pending []string
	hasPending := false
	for i, l := range strings.Split(src, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "# ignore:"):
			for _, r := range strings.Fields(strings.TrimPrefix(l, "# ignore:")) {
				ignore[r] = true
			}
		case strings.HasPrefix(l, "# want:"):
			pending, hasPending = append(pending, strings.Fields(strings.TrimPrefix(l, "# want:"))...), true
		case l == "" || strings.HasPrefix(l, "#"):
		case hasPending:
			want[i+1] = pending
			pending, hasPending = nil, false
		default:
			if _, ok := want[i+1]; !ok {
				want[i+1] = nil // judged: must have no finding
			}
		}
	}
	return want, ignore
}

// corpusMatch compares findings with expectations; an expectation
// without a level matches any level.
func corpusMatch(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	got = slices.Clone(got)
	for _, w := range want {
		i := slices.IndexFunc(got, func(g string) bool { return g == w || !strings.Contains(w, ":") && strings.HasPrefix(g, w+":") })
		if i < 0 {
			return false
		}
		got = slices.Delete(got, i, i+1)
	}
	return true
}

// mergeKeys returns the lines either map has.
func mergeKeys(a, b map[int][]string) map[int]bool {
	out := map[int]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
