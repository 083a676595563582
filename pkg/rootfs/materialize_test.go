package rootfs

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestMaterialize(t *testing.T) {
	src := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "usr/bin"), 0o755))
	must(os.WriteFile(filepath.Join(src, "usr/bin/app"), []byte("binary"), 0o755))
	must(os.Link(filepath.Join(src, "usr/bin/app"), filepath.Join(src, "usr/bin/app2")))
	must(os.Symlink("usr/bin", filepath.Join(src, "bin")))
	must(os.MkdirAll(filepath.Join(src, "ro"), 0o755))
	must(os.WriteFile(filepath.Join(src, "ro/f"), []byte("x"), 0o444))
	must(os.Chmod(filepath.Join(src, "ro"), 0o555))
	t.Cleanup(func() { os.Chmod(filepath.Join(src, "ro"), 0o755) })

	ctx := context.Background()
	s := DirSource(src)
	tree, err := Load(ctx, s)
	must(err)
	out := t.TempDir()
	must(Materialize(ctx, tree, s, out))
	t.Cleanup(func() { os.Chmod(filepath.Join(out, "ro"), 0o755) })

	for p, want := range map[string]string{"usr/bin/app": "binary", "usr/bin/app2": "binary", "bin/app": "binary", "ro/f": "x"} {
		got, err := os.ReadFile(filepath.Join(out, p))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	if target, err := os.Readlink(filepath.Join(out, "bin")); err != nil || target != "usr/bin" {
		t.Errorf("bin -> %q, %v", target, err)
	}
	again, err := Load(ctx, DirSource(out))
	must(err)
	if again.Len() != tree.Len() {
		t.Errorf("materialized tree has %d entries, source %d", again.Len(), tree.Len())
	}
}
