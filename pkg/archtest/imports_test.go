package archtest

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/hardenkit/hardenkit/"

// goPackage is the part of `go list -json` these tests read.
type goPackage struct {
	ImportPath string
	Dir        string
	Imports    []string
	GoFiles    []string
}

// listPackages returns every package of the module with its direct imports
// (tests excluded: a test may reach across layers to set up fixtures).
func listPackages(t *testing.T) []goPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "../../...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; expected the whole module", len(pkgs))
	}
	return pkgs
}

// layer names the area of the tree a package belongs to. Imports may only
// run from a higher layer to a lower or the same one.
func layer(importPath string) (name string, rank int) {
	rel := strings.TrimPrefix(importPath, module)
	top := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if rel == p || strings.HasPrefix(rel, p+"/") {
				return true
			}
		}
		return false
	}
	switch {
	case top("integration", "examples"):
		return "integration", 6
	case top("cmd"):
		return "cmd", 5
	case top("pkg/release", "pkg/daemon", "pkg/ocilayout"):
		return "pkg (clients of the frontend)", 4
	case top("frontend"):
		return "frontend", 3
	case top("llb"):
		return "llb", 2
	case top("pkg"):
		return "pkg (file analysis)", 1
	}
	return "unknown", 0
}

// TestImportsRunDownhill checks that imports run one way: integration →
// cmd → release/daemon/OCI libraries → frontend → llb → file analysis.
func TestImportsRunDownhill(t *testing.T) {
	for _, p := range listPackages(t) {
		from, fromRank := layer(p.ImportPath)
		if fromRank == 0 {
			t.Errorf("%s: in no known area of the tree; add it to docs/architecture.md and to layer()", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to, toRank := layer(imp)
			if toRank > fromRank {
				t.Errorf("%s (%s) imports %s (%s): imports must run downhill", p.ImportPath, from, imp, to)
			}
		}
	}
}

// TestNoLibraryImportsACommand checks that code under cmd/ is only flag
// parsing and printing: nothing outside cmd/ imports it.
func TestNoLibraryImportsACommand(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.HasPrefix(p.ImportPath, module+"cmd/") {
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"cmd/") {
				t.Errorf("%s imports %s: move what it needs out of cmd/", p.ImportPath, imp)
			}
		}
	}
}

func TestLayerOfKnownPackages(t *testing.T) {
	tests := []struct {
		path string
		want int
	}{
		{module + "pkg/rootfs", 1},
		{module + "llb/harden", 2},
		{module + "frontend", 3},
		{module + "frontend/dockerfilecheck", 3},
		{module + "pkg/release/verify", 4},
		{module + "cmd/hardenkit", 5},
		{module + "integration/devenv", 6},
		{module + "pkgx", 0},
	}
	for _, tt := range tests {
		if _, got := layer(tt.path); got != tt.want {
			t.Errorf("layer(%s) = %d, want %d", tt.path, got, tt.want)
		}
	}
}
