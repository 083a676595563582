package compliance

import (
	"io/fs"
	"slices"
	"testing"
)

func TestContextMode(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		want string
	}{
		{0o644, "f0644"},
		{0o755 | fs.ModeSetuid, "f4755"},
		{0o777 | fs.ModeSymlink, "l"},
		{0o1777 | fs.ModeSticky, "f1777"},
	}
	for _, tt := range tests {
		if got := ContextMode(tt.mode); got != tt.want {
			t.Errorf("ContextMode(%v) = %q, want %q", tt.mode, got, tt.want)
		}
	}
}

func TestContextDigestIsOrderFreeAndContentBound(t *testing.T) {
	a := []ContextFile{{Path: "a", Mode: "f0644", Digest: ContentDigest([]byte("1"))}, {Path: "b/c", Mode: "f0755", Digest: ContentDigest([]byte("2"))}}
	b := []ContextFile{a[1], a[0]}
	if ContextDigest(a).Digest != ContextDigest(b).Digest {
		t.Fatal("order of the entries changed the digest")
	}
	changed := slices.Clone(a)
	changed[0].Digest = ContentDigest([]byte("x"))
	moded := slices.Clone(a)
	moded[1].Mode = "f0644"
	for name, c := range map[string][]ContextFile{"content": changed, "mode": moded, "fewer": a[:1]} {
		if ContextDigest(c).Digest == ContextDigest(a).Digest {
			t.Errorf("%s change kept the digest", name)
		}
	}
	if got := ContextDigest(a); got.Count != 2 || len(got.Files) != 2 || got.Files[0].Path != "a" {
		t.Errorf("ContextDigest = %+v, want 2 sorted files", got)
	}
}

func TestDiffContexts(t *testing.T) {
	d1, d2 := ContentDigest([]byte("1")), ContentDigest([]byte("2"))
	want := []ContextFile{{Path: "app.py", Mode: "f0644", Digest: d1}, {Path: "run.sh", Mode: "f0755", Digest: d1}, {Path: "gone", Mode: "f0644", Digest: d1}}
	got := []ContextFile{{Path: "app.py", Mode: "f0644", Digest: d2}, {Path: "run.sh", Mode: "f0644", Digest: d1}, {Path: "new", Mode: "f0644", Digest: d1}}
	diff := DiffContexts(want, got)
	wantDiff := []ContextChange{{"app.py", "content"}, {"gone", "removed"}, {"new", "added"}, {"run.sh", "mode"}}
	if !slices.Equal(diff, wantDiff) {
		t.Errorf("DiffContexts = %v, want %v", diff, wantDiff)
	}
}

func TestReproducibilityNeverClaimsContent(t *testing.T) {
	for _, res := range []Result{ResultPass, ResultFail, ResultNotEvaluated} {
		p := Predicate{Rules: []Rule{{ID: RuleNormalised, Result: res}}}.normalized()
		if p.Reproducibility.Normalised != res || p.Reproducibility.ContentReproduced != ContentNotVerified {
			t.Errorf("HK2001 %s: reproducibility = %+v, want normalised %s, content not-verified", res, p.Reproducibility, res)
		}
	}
}

func TestRebuildValidate(t *testing.T) {
	bad := &Rebuild{Platform: "", Images: []PinnedImage{{Ref: "debian", Digest: "latest"}},
		BuildArgs: map[string]string{"TOKEN": "x"}, RedactedArgs: []string{"TOKEN"}}
	if errs := bad.validate(); len(errs) != 3 {
		t.Errorf("validate = %v, want 3 errors (platform, image digest, arg both recorded and redacted)", errs)
	}
}
