package sbomstep

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/opencontainers/go-digest"

	"github.com/hardenkit/hardenkit/frontend/evidence/sbom"
)

// TestMainWritesWhatGenerateWrites: the step's documents are byte for byte
// the ones the frontend writes in-process for the same tree and epoch.
func TestMainWritesWhatGenerateWrites(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "app", "hello.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if err := Command().Main(context.Background(), []string{"--root", root, "--epoch", "1714564800", "--out", out}, &stderr); err != nil {
		t.Fatalf("Main: %v\n%s", err, stderr.String())
	}
	want, err := sbom.Generate(context.Background(), root, sbom.Options{Epoch: time.Unix(1714564800, 0)})
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string][]byte{SPDXFile: want.SPDX, CycloneDXFile: want.CycloneDX} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, doc) {
			t.Errorf("%s differs from sbom.Generate's document", name)
		}
		if !json.Valid(got) {
			t.Errorf("%s is not JSON", name)
		}
	}
	if !strings.Contains(stderr.String(), "hardenkit sbom:") {
		t.Errorf("no summary on stderr: %q", stderr.String())
	}
}

func TestMainRejectsBadArgs(t *testing.T) {
	for _, args := range [][]string{
		{"--root", "/x", "--out", "/y"},
		{"--root", "/x", "--epoch", "-1", "--out", "/y"},
		{"--epoch", "0", "--out", "/y"},
		{"--root", "/x", "--epoch", "0", "--out", "/y", "extra"},
	} {
		if err := Command().Main(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("Command().Main(%q) accepted it", args)
		}
	}
}

// TestStepCarriesOnlyTheEpoch: the step's definition holds its arguments,
// not the documents, whatever the size of the image.
func TestStepCarriesOnlyTheEpoch(t *testing.T) {
	st, err := Step(llb.Image("frontend"), llb.Image("app"), time.Unix(1714564800, 0))
	if err != nil {
		t.Fatal(err)
	}
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if e := op.GetExec(); e != nil {
			args = e.Meta.Args
		}
	}
	want := "/bin/hardenkit-frontend sbom --root /hardenkit/rootfs --epoch 1714564800 --out /hardenkit/out"
	if got := strings.Join(args, " "); got != want {
		t.Errorf("args = %q, want %q", got, want)
	}
}

// TestStepKeepsItsCache: the step reads no policy setting, only the
// epoch; its definition changes with the epoch and nothing else.
func TestStepKeepsItsCache(t *testing.T) {
	digestAt := func(epoch int64) digest.Digest {
		st, err := Step(llb.Image("frontend"), llb.Image("app"), time.Unix(epoch, 0))
		if err != nil {
			t.Fatal(err)
		}
		def, err := st.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return digest.FromBytes(def.Def[len(def.Def)-1])
	}
	if digestAt(1714564800) != digestAt(1714564800) {
		t.Error("the same epoch gave two definitions")
	}
	if digestAt(1714564800) == digestAt(1714564801) {
		t.Error("another epoch gave the same definition")
	}
}
