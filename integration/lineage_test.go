package integration

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lineageDockerfile copies tools out of a builder stage under new names,
// socat with one NUL byte appended, and shells that carry no POSIX shell
// signature (sash, static; tcsh with its libraries) into a scratch final
// stage whose program is an ordinary one (true). Only the builder's
// package database and /etc/shells say what they are.
const lineageDockerfile = `FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends socat sash tcsh \
    && cp /usr/bin/socat /x && printf '\0' >> /x \
    && rm -rf /var/lib/apt/lists/*

FROM scratch
COPY --from=build /lib/x86_64-linux-gnu/ /lib/x86_64-linux-gnu/
COPY --from=build /lib64/ /lib64/
COPY --from=build /usr/bin/true /usr/bin/true
COPY --from=build /x /usr/local/bin/x
COPY --from=build /bin/sash /bin/s
COPY --from=build /usr/bin/tcsh /usr/bin/t
ENTRYPOINT ["/usr/bin/true"]
`

// TestLineage builds lineageDockerfile and proves from the exported image
// that none of the copied tools ships or runs, and that the evidence
// says where each was known from.
func TestLineage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"Dockerfile": lineageDockerfile, ".dockerignore": ".git\n.env\n**/*.key\n**/*.pem\n",
		"hardenkit.yaml": "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: lineage\nbaseline: strict\nrules:\n  HK1001: warn\n  HK1030: warn\n  HK1040: warn\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(t.TempDir(), "image.tar")
	out, err := buildWithBuildctl(ctx, t, dir, filepath.Join(dir, "Dockerfile"), dest, nil)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	oci, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	bundle := unpackImage(t, oci, "")
	root := bundle.rootfs()
	for _, p := range []string{"/usr/local/bin/x", "/bin/s", "/usr/bin/t"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
			t.Errorf("%s ships", p)
		}
		got, err := bundle.runImage(ctx, t, runSpec{args: []string{p, "-c", pwnCmd}})
		if err == nil || strings.Contains(got, pwned) {
			t.Errorf("%s runs: %v\n%s", p, err, got)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "/usr/bin/true")); err != nil {
		t.Errorf("the program the image runs does not ship: %v", err)
	}
	l, img := readOCI(t, oci)
	atts, err := l.Attestations(img.Descriptor.Digest)
	if err != nil {
		t.Fatal(err)
	}
	evidence := string(bytes.Join(atts["https://hardenkit.dev/attestations/compliance/v1"], nil))
	for _, want := range []string{"stage build /usr/bin/socat", "stage build /usr/bin/sash", "stage build /usr/bin/tcsh"} {
		if !strings.Contains(evidence, want) {
			t.Errorf("the evidence does not say a removed file came from %q", want)
		}
	}
}
