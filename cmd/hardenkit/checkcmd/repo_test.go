package checkcmd

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepoDockerfilesAreClean dogfoods the static rules: the repository's
// own Dockerfile and every example pass `hardenkit check` with their
// policies (warnings allowed, nothing enforced).
func TestRepoDockerfilesAreClean(t *testing.T) {
	dirs, err := filepath.Glob("../../../examples/*/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, "../../../Dockerfile")
	if len(dirs) < 4 {
		t.Fatalf("found only %v", dirs)
	}
	for _, df := range dirs {
		t.Run(df, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Check(context.Background(), CheckOptions{
				Context: filepath.Dir(df), Dockerfile: df, Format: "json",
				Stdout: &out, Stderr: &errOut,
			})
			if err != nil {
				t.Fatalf("hardenkit check %s: %v\n%s%s", df, err, out.String(), errOut.String())
			}
			if strings.Contains(out.String(), `"level": "enforce"`) || strings.Contains(out.String(), `"level":"enforce"`) {
				t.Fatalf("enforced findings:\n%s", out.String())
			}
		})
	}
}
