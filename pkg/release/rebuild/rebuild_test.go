package rebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

const (
	baseDigest  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	otherDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	dockerfile  = "FROM debian:bookworm\nCOPY app.py /app/app.py\nRUN date > /stamp\nENTRYPOINT [\"python3\", \"/app/app.py\"]\n"
)

// fixture is one build of a test image.
type fixture struct {
	files map[string]string
	epoch int64
	base  string
}

// record is the compliance predicate a build with f writes.
func (f fixture) record(ctxTree compliance.ContextTree) compliance.Predicate {
	return compliance.Predicate{
		Hardenkit:       compliance.Tool{Version: "v1.0.0", InProcess: true},
		SourceDateEpoch: f.epoch,
		Rebuild: &compliance.Rebuild{Dockerfile: "Dockerfile", Platform: "linux/amd64", BuildArgs: map[string]string{"VERSION": "1"},
			Images:  []compliance.PinnedImage{{Ref: "docker.io/library/debian:bookworm", Digest: f.base}},
			Context: &ctxTree},
	}
}

// write writes f's image as an OCI layout and returns its store.
func (f fixture) write(t *testing.T, ctxTree compliance.ContextTree) store.Store {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"app/app.py", "stamp"} {
		body := f.files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(f.epoch, 0), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	tw.Close()
	dt := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(dt)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	created := v1.Time{Time: time.Unix(f.epoch, 0).UTC()}
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{Architecture: "amd64", OS: "linux", Created: created,
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{mustDiffID(t, layer)}}, History: []v1.History{{Created: created, CreatedBy: "hardenkit"}}})
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	imgDigest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	pred, err := json.Marshal(map[string]any{"predicateType": compliance.PredicateType, "predicate": f.record(ctxTree)})
	if err != nil {
		t.Fatal(err)
	}
	att, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{
		Layer:       static.NewLayer(pred, "application/vnd.in-toto+json"),
		Annotations: map[string]string{annotationPredicateType: compliance.PredicateType},
	})
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Annotations: map[string]string{annotationRefType: refTypeAttestation, annotationRefDigest: imgDigest.String()}}},
	)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustDiffID(t *testing.T, l v1.Layer) v1.Hash {
	t.Helper()
	h, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestCompare: what a user sees for a reproduced build, planted
// non-determinism, and a rebuild with other inputs.
func TestCompare(t *testing.T) {
	ctx := context.Background()
	tree := compliance.ContextDigest([]compliance.ContextFile{{Path: "app.py", Mode: "f0644", Digest: compliance.ContentDigest([]byte("print(1)"))}})
	orig := fixture{files: map[string]string{"app/app.py": "print(1)", "stamp": "Mon 10:00"}, epoch: 1714564800, base: baseDigest}
	tests := []struct {
		name       string
		rebuilt    fixture
		reproduced bool
		want       []string
	}{
		{name: "same bytes", rebuilt: orig, reproduced: true},
		{name: "stamp", rebuilt: fixture{files: map[string]string{"app/app.py": "print(1)", "stamp": "Mon 10:05"}, epoch: orig.epoch, base: baseDigest},
			want: []string{"same recorded inputs, other bytes", "file [linux/amd64] /stamp: content", "RUN date > /stamp (Dockerfile:3)"}},
		{name: "epoch", rebuilt: fixture{files: orig.files, epoch: 1700000000, base: baseDigest},
			want: []string{"other inputs: SOURCE_DATE_EPOCH (recorded 1714564800, rebuilt with 1700000000)", "/app/app.py: mtime"}},
		{name: "base", rebuilt: fixture{files: map[string]string{"app/app.py": "print(1)", "stamp": "x"}, epoch: orig.epoch, base: otherDigest},
			want: []string{"other inputs: image docker.io/library/debian:bookworm (recorded " + baseDigest + ", rebuilt with " + otherDigest + ")"}},
	}
	origStore := orig.write(t, tree)
	origImg, err := Read(ctx, origStore)
	if err != nil {
		t.Fatal(err)
	}
	records, err := origImg.Records()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanOf(records)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.rebuilt.write(t, tree)
			img, err := Read(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			plats, diffs, err := Compare(ctx, origImg, origStore, img, st, Explainer([]byte(dockerfile), "Dockerfile", plan))
			if err != nil {
				t.Fatal(err)
			}
			rep := Report{Image: "app", Platforms: plats, Differences: append(InputDiffs(origImg, img), diffs...), Context: ContextCheck{Want: "a", Got: "a"}}
			rep.Finish()
			var text strings.Builder
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Log(text.String())
			if got := rep.Verdict == VerdictReproduced; got != tt.reproduced {
				t.Fatalf("verdict %s, want reproduced=%v\n%s", rep.Verdict, tt.reproduced, text.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(text.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, text.String())
				}
			}
		})
	}
}

// TestPlanOf: the plan pins every base per platform, sets the recorded
// epoch, and asks for what the record cannot hold.
func TestPlanOf(t *testing.T) {
	rec := fixture{epoch: 1714564800, base: baseDigest}.record(compliance.ContextTree{Digest: baseDigest})
	rec.Rebuild.Secrets, rec.Rebuild.RedactedArgs = []string{"npm"}, []string{"TOKEN"}
	rec.Rebuild.NamedContexts = map[string]string{"hardenkit-policy": "local:hardenkit-policy", "tools": "docker-image://alpine@" + otherDigest}
	plan, err := PlanOf([]*compliance.Predicate{&rec})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Pins["debian:bookworm::linux/amd64"]; got != "docker-image://docker.io/library/debian:bookworm@"+baseDigest {
		t.Errorf("pin = %q (pins %v)", got, plan.Pins)
	}
	if plan.BuildArgs["SOURCE_DATE_EPOCH"] != "1714564800" || plan.BuildArgs["VERSION"] != "1" {
		t.Errorf("build args = %v", plan.BuildArgs)
	}
	missing := strings.Join(plan.Missing(nil, nil, nil, nil), "\n")
	for _, w := range []string{"--build-context hardenkit-policy=DIR", "--secret id=npm", "--build-arg TOKEN=VALUE"} {
		if !strings.Contains(missing, w) {
			t.Errorf("Missing lacks %q:\n%s", w, missing)
		}
	}
	if m := plan.Missing([]string{"hardenkit-policy"}, []string{"npm"}, nil, []string{"TOKEN"}); len(m) != 0 {
		t.Errorf("everything supplied, still missing %v", m)
	}
}

// TestCheckContext: a checkout with one file changed is named as such,
// and .dockerignore'd files do not count.
func TestCheckContext(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, body := range map[string]string{"app.py": "print(1)", "Dockerfile": dockerfile, ".dockerignore": "notes.txt\n", "notes.txt": "x"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := compliance.HashContext(ctx, dirSource(dir), func(rel string) bool { return rel == "notes.txt" })
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("changed, ignored"), 0o644)
	c, err := CheckContext(ctx, dir, "Dockerfile", &want)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Matches() {
		t.Fatalf("an ignored file changed the digest: %+v", c)
	}
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("print(2)"), 0o644)
	if c, err = CheckContext(ctx, dir, "Dockerfile", &want); err != nil {
		t.Fatal(err)
	}
	if c.Matches() || len(c.Changes) != 1 || c.Changes[0] != (compliance.ContextChange{Path: "app.py", Change: "content"}) {
		t.Errorf("after editing app.py: %+v, want app.py content", c)
	}
}
