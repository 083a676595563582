package harden

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// TestVerifyNamesPaths: the problems HK2050 reports about files come with
// the paths they are about, each once, so the frontend can name the
// instruction that wrote each; a USER problem names no path.
func TestVerifyNamesPaths(t *testing.T) {
	epoch := time.Unix(1700000000, 0).UTC()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]fs.FileMode{"app/tool": 0o755 | fs.ModeSetuid, "app/data": 0o644} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	// /app/tool keeps its setuid bit and /app/data has another time:
	// both at once for /app/tool (named once).
	for name, at := range map[string]time.Time{"app": epoch, "app/tool": epoch.Add(time.Hour), "app/data": epoch.Add(time.Hour)} {
		if err := os.Chtimes(filepath.Join(dir, name), at, at); err != nil {
			t.Fatal(err)
		}
	}
	src := rootfs.DirSource(dir)
	tree, err := rootfs.Load(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	pol := strictConfig(nil)
	problems, paths, _, err := verify(t.Context(), Input{Config: pol, Epoch: epoch}, tree, src, "65532:65532", toolingLists(pol))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 3 {
		t.Errorf("problems = %q, want the setuid bit and two mtimes", problems)
	}
	if want := []string{"/app/data", "/app/tool"}; !slices.Equal(paths, want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}
}

// userAnalyzer is an Analyzer whose verification finds the given problems.
type userAnalyzer struct {
	Analyzer
	v Verification
}

func (a userAnalyzer) Verify(context.Context, llb.State, Input, *dockerspec.DockerOCIImage) (Verification, error) {
	return a.v, nil
}

// TestVerifyPointsAtUser: an HK2050 about the image's USER points at the
// USER instruction; one about files alone does not.
func TestVerifyPointsAtUser(t *testing.T) {
	epoch := time.Unix(1700000000, 0).UTC()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app"), []byte("x\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(dir, "app"), epoch, epoch); err != nil {
		t.Fatal(err)
	}
	user := []parser.Range{{Start: parser.Position{Line: 7}, End: parser.Position{Line: 7}}}
	in := Input{Config: strictConfig(nil), Epoch: epoch, Lines: Lines{User: user}}
	tests := []struct {
		name       string
		user       string
		wantRanges []parser.Range
	}{
		{name: "user that does not resolve", user: "app", wantRanges: user},
		{name: "root", user: "0:0", wantRanges: user},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := VerifyFS(t.Context(), rootfs.DirSource(dir), in.Params(), tt.user)
			if err != nil {
				t.Fatal(err)
			}
			if !v.User || len(v.Problems) == 0 {
				t.Fatalf("verification = %+v, want a USER problem", v)
			}
			_, err = Verify(t.Context(), userAnalyzer{v: v}, in, Result{Image: &dockerspec.DockerOCIImage{}})
			vs, ok := AsViolations(err)
			if !ok || vs[0].Rule != "HK2050" || !slices.Equal(vs[0].Ranges, tt.wantRanges) {
				t.Fatalf("Verify = %v (%+v), want HK2050 at the USER line", err, vs)
			}
		})
	}
	// Files alone: no USER line.
	_, err := Verify(t.Context(), userAnalyzer{v: Verification{Problems: []string{"/app keeps its setuid/setgid bit"}, Paths: []string{"/app"}}}, in, Result{Image: &dockerspec.DockerOCIImage{}})
	if vs, ok := AsViolations(err); !ok || len(vs[0].Ranges) != 0 {
		t.Fatalf("Verify = %v, want HK2050 without the USER line", err)
	}
}
