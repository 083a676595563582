package integration

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// toolCopiesPolicy is the strict baseline with what these fixtures cannot
// avoid (unpinned bases and packages, no health check) at warn.
const toolCopiesPolicy = "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: toolcopies\nbaseline: strict\nrules:\n  HK1001: warn\n  HK1030: warn\n  HK1040: warn\n"

// buildFixture writes files into a context and builds it through the
// frontend; it returns the OCI archive, the build's output and its error.
func buildFixture(ctx context.Context, t *testing.T, files map[string]string) ([]byte, string, error) {
	t.Helper()
	dir := t.TempDir()
	files["hardenkit.yaml"] = toolCopiesPolicy
	files[".dockerignore"] = ".git\n"
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(t.TempDir(), "image.tar")
	out, err := buildWithBuildctl(ctx, t, dir, filepath.Join(dir, "Dockerfile"), dest, nil)
	if err != nil {
		return nil, out, err
	}
	oci, rerr := os.ReadFile(dest)
	if rerr != nil {
		t.Fatal(rerr)
	}
	return oci, out, nil
}

// TestProgramCopyFromImage: an interpreter (mawk, which runs any command
// through system()) copied straight out of another image under a new
// name into a scratch stage is that image's package's program: nothing
// runs it, so it does not ship, and the evidence says where it came from.
func TestProgramCopyFromImage(t *testing.T) {
	ctx := context.Background()
	oci, out, err := buildFixture(ctx, t, map[string]string{"Dockerfile": `FROM scratch
COPY --from=debian:bookworm /lib/x86_64-linux-gnu/ /lib/x86_64-linux-gnu/
COPY --from=debian:bookworm /lib64/ /lib64/
COPY --from=debian:bookworm /usr/bin/true /usr/bin/true
COPY --from=debian:bookworm /usr/bin/mawk /usr/local/libexec/report
ENTRYPOINT ["/usr/bin/true"]
`})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	bundle := unpackImage(t, oci, "")
	if _, err := os.Lstat(filepath.Join(bundle.rootfs(), "usr/local/libexec/report")); err == nil {
		t.Error("the copied interpreter ships")
	}
	got, err := bundle.runImage(ctx, t, runSpec{args: []string{"/usr/local/libexec/report", `BEGIN { print "copied-" 6*7 }`}})
	if err == nil || strings.Contains(got, "copied-42") {
		t.Errorf("the copied interpreter runs: %v\n%s", err, got)
	}
	l, img := readOCI(t, oci)
	atts, err := l.Attestations(img.Descriptor.Digest)
	if err != nil {
		t.Fatal(err)
	}
	evidence := string(bytes.Join(atts["https://hardenkit.dev/attestations/compliance/v1"], nil))
	if !strings.Contains(evidence, "image debian:bookworm /usr/bin/mawk") {
		t.Error("the evidence does not say the left-out copy is debian:bookworm's /usr/bin/mawk")
	}
}

// TestToolInArchive: a shell whose signature was patched away, in a
// gzipped tarball inside a plain tar the image ships, fails the build
// naming the archive and the member: the builder's dash is what it is
// similar to.
func TestToolInArchive(t *testing.T) {
	ctx := context.Background()
	_, out, err := buildFixture(ctx, t, map[string]string{"Dockerfile": `FROM debian:bookworm AS assets
RUN mkdir -p /v/lib /out && sed 's/OPTIND/OPTINX/g; s/PS1/QS1/g' /bin/dash > /v/lib/render \
    && tar -C /v -czf /tmp/fonts.tgz lib && tar -C /tmp -cf /out/assets.tar fonts.tgz

FROM debian:bookworm
COPY --from=assets /out/assets.tar /srv/data/assets.tar
CMD ["/usr/bin/true"]
`})
	if err == nil {
		t.Fatal("the build succeeded: the archive holding a shell ships")
	}
	for _, want := range []string{"HK2011", "archive /srv/data/assets.tar holds fonts.tgz!lib/render", "shell"} {
		if !strings.Contains(out, want) {
			t.Errorf("the build's output lacks %q:\n%s", want, out)
		}
	}
}
