package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
)

// TestUnscannedFilesAreNamed builds an image with files over the policy's
// secret-scan size limit, in the image and in the context a builder stage
// copies: the build succeeds, a warning names every one of them, and the
// compliance attestation lists them — nothing is skipped silently.
func TestUnscannedFilesAreNamed(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 512) // 8 KiB
	paths := []struct {
		name  string
		build func(ctx context.Context, t *testing.T, contextDir, dockerfile, dest string, buildArgs []string) (string, error)
		want  string
	}{
		{"hardenkit-cli", buildWithCLI, "gateway"},
		{"buildx-remote", buildWithBuildx, "in-build"},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			dir := inspectContext(t, "unscanned", map[string]contextFile{
				"big.bin":         {content: big},
				"context-big.txt": {content: big},
				"app":             {content: "#!/app/run\n", mode: fs0755},
			})
			dest := filepath.Join(t.TempDir(), "image.tar")
			out, err := p.build(context.Background(), t, dir, filepath.Join(dir, "Dockerfile"), dest, []string{"HARDENKIT_MODE=enforce"})
			if err != nil {
				t.Fatalf("build: %v\n%s", err, out)
			}
			var warned string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "not scanned for secrets") {
					warned = l
				}
			}
			// big.bin is unscanned twice: as the shipped /data/big.bin and as the
			// context file the final stage's COPY brings in.
			wantUnscanned := []string{"/data/big.bin", "context:big.bin", "context:context-big.txt"}
			for _, want := range wantUnscanned {
				if !strings.Contains(warned, want) {
					t.Errorf("no warning names %s as unscanned; warning: %q", want, warned)
				}
			}

			dt, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			l, img := readOCI(t, dt)
			atts, err := l.Attestations(img.Descriptor.Digest)
			if err != nil {
				t.Fatal(err)
			}
			var st struct {
				Predicate compliance.Predicate `json:"predicate"`
			}
			if len(atts[compliance.PredicateType]) != 1 {
				t.Fatal("no compliance attestation")
			}
			if err := json.Unmarshal(atts[compliance.PredicateType][0], &st); err != nil {
				t.Fatal(err)
			}
			in := st.Predicate.Inspection
			if in == nil {
				t.Fatal("the compliance statement has no inspection record")
			}
			if !slices.Equal(in.Unscanned, wantUnscanned) {
				t.Errorf("inspection.unscanned = %v, want %v", in.Unscanned, wantUnscanned)
			}
			if in.Scanner != p.want {
				t.Errorf("inspection.scanner = %q, want %q", in.Scanner, p.want)
			}
			files, err := img.Files()
			if err != nil {
				t.Fatal(err)
			}
			if f, ok := files["/data/big.bin"]; !ok || f.Size != int64(len(big)) {
				t.Errorf("/data/big.bin does not ship whole: %+v", f)
			}
		})
	}
}
