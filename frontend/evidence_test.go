package frontend

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"
)

// TestEvidenceState: small evidence goes inline; large evidence goes to the
// session directory, one subdirectory per platform, and the definition
// carries none of its bytes.
func TestEvidenceState(t *testing.T) {
	dir := t.TempDir()
	in := evidenceInput{platform: "linux/amd64", out: Config{EvidenceDir: dir, EvidenceLocal: "hardenkit-evidence"}, sessionID: "sess"}
	tests := []struct {
		name   string
		size   int
		inline bool
	}{
		{name: "small", size: 1 << 10, inline: true},
		{name: "large", size: maxInlineEvidence + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := []byte(strings.Repeat("x", tt.size))
			st, err := evidenceState(in, "SBOM", map[string][]byte{sbomSPDXPath: doc})
			if err != nil {
				t.Fatal(err)
			}
			def, err := st.Marshal(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			total, local := 0, ""
			for _, dt := range def.Def {
				total += len(dt)
				var op pb.Op
				if err := op.UnmarshalVT(dt); err != nil {
					t.Fatal(err)
				}
				if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "local://") {
					local = src.Identifier
				}
			}
			if tt.inline {
				if local != "" || total < tt.size {
					t.Errorf("small evidence: local %q, definition %d bytes, want inline", local, total)
				}
				return
			}
			if local != "local://hardenkit-evidence" || total > 1<<20 {
				t.Errorf("large evidence: local %q, definition %d bytes, want the session local and a small definition", local, total)
			}
			got, err := os.ReadFile(filepath.Join(dir, evidenceSubdir("linux/amd64", "SBOM"), "sbom.spdx.json"))
			if err != nil || len(got) != tt.size {
				t.Errorf("session directory holds %d bytes (%v), want %d", len(got), err, tt.size)
			}
		})
	}
}
