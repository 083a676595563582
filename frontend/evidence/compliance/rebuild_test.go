package compliance

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
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

func TestHashContextOfADirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("app.py", "print(1)\n", 0o644)
	write("bin/run", "#!/bin/sh\n", 0o755)
	write("secret.env", "X=1\n", 0o600)
	if err := os.Symlink("app.py", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	skip := func(rel string) bool { return rel == "secret.env" }
	tree, err := HashContext(ctx, rootfs.DirSource(dir), skip)
	if err != nil {
		t.Fatal(err)
	}
	want := []ContextFile{
		{Path: "app.py", Mode: "f0644", Digest: ContentDigest([]byte("print(1)\n"))},
		{Path: "bin/run", Mode: "f0755", Digest: ContentDigest([]byte("#!/bin/sh\n"))},
		{Path: "link", Mode: "l", Digest: ContentDigest([]byte("app.py"))},
	}
	if !slices.Equal(tree.Files, want) || tree.Digest != ContextDigest(want).Digest {
		t.Errorf("HashContext = %+v, want %+v", tree.Files, want)
	}
	write("app.py", "print(2)\n", 0o644)
	again, err := HashContext(ctx, rootfs.DirSource(dir), skip)
	if err != nil {
		t.Fatal(err)
	}
	if d := DiffContexts(tree.Files, again.Files); len(d) != 1 || d[0] != (ContextChange{"app.py", "content"}) {
		t.Errorf("after editing app.py: diff %v", d)
	}
}
