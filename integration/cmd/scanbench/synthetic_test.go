package main

import (
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// TestSyntheticDeterministic: the same seed gives the same bytes, and the
// inspection finds every planted secret and nothing else.
func TestSyntheticDeterministic(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	var sums [2]map[string][32]byte
	for i, d := range dirs {
		s, err := secretstest.WriteSynthetic(d, 4<<20)
		if err != nil {
			t.Fatal(err)
		}
		if s.Files != 16 || s.Bytes < 4<<20 || s.Bytes > 4<<20+16<<10 {
			t.Fatalf("wrote %d files, %d bytes; want 16, about %d", s.Files, s.Bytes, 4<<20)
		}
		want := map[string]int{"github-pat": 1, "private-key": 1, "aws-access-token": 1}
		for k, n := range want {
			if s.Planted[k] != n {
				t.Errorf("planted %v, want %v", s.Planted, want)
			}
		}
		sums[i] = map[string][32]byte{}
		err = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			dt, err := os.ReadFile(p)
			rel, _ := filepath.Rel(d, p)
			sums[i][rel] = sha256.Sum256(dt)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(sums[0]) != len(sums[1]) {
		t.Fatalf("%d files, then %d", len(sums[0]), len(sums[1]))
	}
	for p, h := range sums[0] {
		if sums[1][p] != h {
			t.Errorf("%s differs between two runs", p)
		}
	}

	pol, err := policy.Baseline("strict")
	if err != nil {
		t.Fatal(err)
	}
	res, err := inspect.ScanDirScope(t.Context(), dirs[0], benchImage(), pol, inspect.ScopeFilesystem)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]bool{}
	for _, f := range res.Findings {
		if f.Rule == "HK3052" {
			secrets[f.File] = true
		}
	}
	for _, p := range []string{"/d000/f00002", "/d000/f00003", "/d000/f00004"} {
		if !secrets[p] {
			t.Errorf("no secret found in %s (found: %v)", p, secrets)
		}
	}
	if len(secrets) != 3 {
		t.Errorf("secrets found in %v, want only the 3 planted", secrets)
	}
}
