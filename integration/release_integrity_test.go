package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/ocilayout"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// integrityDockerfile is a release image with a base layer and an
// application layer, and no finding that needs an exception.
const integrityDockerfile = `FROM busybox:1.35
COPY app /app
USER 65532:65532
ENTRYPOINT ["/app"]
`

// integrityFixture is one image hardenkit built and signed as an OCI
// tarball, unpacked as a layout and pushed (with its signatures) to the
// development registry.
type integrityFixture struct {
	*releaseFixture
	layout, archive, registry string
	root                      v1.Descriptor
}

func newIntegrityFixture(ctx context.Context, t *testing.T) *integrityFixture {
	f := &releaseFixture{dir: t.TempDir(), pass: fmt.Sprintf("it-Pa55-%d", os.Getpid())}
	f.envv = []string{"COSIGN_PASSWORD=" + f.pass}
	if stdout, stderr, code := f.hk(ctx, t, "keygen", "--output-prefix", filepath.Join(f.dir, "release")); code != 0 {
		t.Fatalf("keygen: exit %d\n%s%s", code, stdout, stderr)
	}
	f.key, f.pub = filepath.Join(f.dir, "release.key"), filepath.Join(f.dir, "release.pub")
	server, err := os.ReadFile(filepath.Join("..", "examples", "static-site", "bin", "server"))
	if err != nil {
		t.Fatal(err)
	}
	app := t.TempDir()
	for n, content := range map[string]string{"Dockerfile": integrityDockerfile, "app": string(server), "hardenkit.yaml": unpinnedBasesPolicy} {
		if err := os.WriteFile(filepath.Join(app, n), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fx := &integrityFixture{releaseFixture: f, archive: filepath.Join(f.dir, "app.tar"), layout: filepath.Join(f.dir, "layout")}
	if stdout, stderr, code := f.hk(ctx, t, "build", "--addr", env.BuildkitAddr, "--progress", "plain",
		"--sign-key", f.key, "-o", "type=oci,dest="+fx.archive, app); code != 0 {
		t.Fatalf("hardenkit build -o type=oci --sign-key: exit %d\n%s%s", code, stdout, stderr)
	}
	tarball, err := os.Open(fx.archive)
	if err != nil {
		t.Fatal(err)
	}
	defer tarball.Close()
	if err := ocilayout.Extract(tarball, fx.layout); err != nil {
		t.Fatal(err)
	}
	fx.policy = f.releasePolicy(t, "accept", fx.compliancePolicyDigest(t), true, "")
	fx.registry = env.Registry + "/hk-release/integrity:v1"
	fx.root = pushLayout(ctx, t, fx.layout, fx.registry)
	return fx
}

// compliancePolicyDigest is the build policy digest the image's compliance
// statement records, which the release policy accepts.
func (fx *integrityFixture) compliancePolicyDigest(t *testing.T) string {
	dt, err := os.ReadFile(fx.archive)
	if err != nil {
		t.Fatal(err)
	}
	l, img := readOCI(t, dt)
	atts, err := l.Attestations(img.Descriptor.Digest)
	if err != nil || len(atts[compliance.PredicateType]) != 1 {
		t.Fatalf("no compliance statement in the OCI tarball (%v)", err)
	}
	var st struct {
		Predicate compliance.Predicate `json:"predicate"`
	}
	if err := json.Unmarshal(atts[compliance.PredicateType][0], &st); err != nil {
		t.Fatal(err)
	}
	return st.Predicate.Policy.Digest
}

// pushLayout copies the image of the layout dir, with every referrer, to
// the registry reference ref (tagged) and returns its root.
func pushLayout(ctx context.Context, t *testing.T, dir, ref string) v1.Descriptor {
	t.Helper()
	src, err := store.OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := store.OpenRemote(ref, store.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := src.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CopyImage(ctx, src, root, dst); err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(dst.Repository().Digest(root.Digest.String()), dst.Options(ctx)...)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Tag(tag, desc, dst.Options(ctx)...); err != nil {
		t.Fatal(err)
	}
	return root
}

// tampered returns a reference to the image with blob h tampered with on
// transport tr: a copy of the layout (or a tarball of it) whose blob file
// was changed, or the registry behind a proxy serving the changed blob.
func (fx *integrityFixture) tampered(t *testing.T, tr string, h v1.Hash, how releasetest.Tamper, other []byte) string {
	t.Helper()
	if tr == "registry" {
		return releasetest.TamperProxy(t, env.Registry, h, how, other) + "/hk-release/integrity:v1"
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(fx.layout)); err != nil {
		t.Fatal(err)
	}
	if err := releasetest.TamperLayout(dir, h, how, other); err != nil {
		t.Fatal(err)
	}
	if tr == "archive" {
		return "oci-archive://" + releasetest.ArchiveFile(t, dir)
	}
	return "oci-layout://" + dir
}

// TestReleaseIntegrity: every blob of a signed image hardenkit built —
// image manifest, config, application layer, attestation layer — altered,
// truncated, removed or swapped for another blob of the image makes
// `hardenkit verify` exit 1 naming the blob, on an OCI tarball, an OCI
// layout and the registry, and `hardenkit promote` copy nothing.
func TestReleaseIntegrity(t *testing.T) {
	ctx := context.Background()
	fx := newIntegrityFixture(ctx, t)
	st, err := store.OpenLayout(fx.layout)
	if err != nil {
		t.Fatal(err)
	}
	targets, others, err := releasetest.Targets(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	transports := map[string]string{"archive": "oci-archive://" + fx.archive, "layout": "oci-layout://" + fx.layout, "registry": fx.registry}
	for tr, ref := range transports {
		t.Run(tr+"/untampered", func(t *testing.T) {
			if rep, code, stderr := fx.verify(ctx, t, ref, fx.pub, fx.policy); code != 0 {
				t.Fatalf("exit %d, want 0: %v\n%s", code, failuresOf(rep), stderr)
			}
		})
	}
	for _, tr := range []string{"archive", "layout", "registry"} {
		for _, part := range releasetest.Parts {
			for _, how := range releasetest.Tampers {
				h := targets[part]
				t.Run(fmt.Sprintf("%s/%s/%s", tr, part, how), func(t *testing.T) {
					ref := fx.tampered(t, tr, h, how, others[part])
					rep, code, stderr := fx.verify(ctx, t, ref, fx.pub, fx.policy)
					if code != 1 || rep == nil {
						t.Fatalf("verify exit %d, want 1\n%s", code, stderr)
					}
					got := strings.Join(rep.Failures()[verify.CheckIntegrity], "\n")
					if !strings.Contains(got, h.String()) {
						t.Fatalf("the integrity check does not name %s: %q (all failures %v)", h, got, rep.Failures())
					}
					dst := fmt.Sprintf("%s/hk-release/integrity-%s-%s-%s:v1", env.Registry, tr, strings.ReplaceAll(string(part), " ", "-"), how)
					if stdout, stderr, code := fx.hk(ctx, t, "promote", "--key", fx.pub, "--policy", fx.policy, ref, dst); code != 1 {
						t.Fatalf("promote exit %d, want 1\n%s%s", code, stdout, stderr)
					}
					assertNothingAt(t, dst, fx.root.Digest)
				})
			}
		}
	}
	t.Run("promote from the tarball", func(t *testing.T) {
		dst := env.Registry + "/hk-release/integrity-promoted:v1"
		if stdout, stderr, code := fx.hk(ctx, t, "promote", "--key", fx.pub, "--policy", fx.policy, "oci-archive://"+fx.archive, dst); code != 0 {
			t.Fatalf("promote exit %d\n%s%s", code, stdout, stderr)
		}
		if rep, code, stderr := fx.verify(ctx, t, dst, fx.pub, fx.policy); code != 0 {
			t.Fatalf("the promoted image: exit %d: %v\n%s", code, failuresOf(rep), stderr)
		}
	})
}

// assertNothingAt fails unless neither dst's tag nor the digest h exists
// in dst's repository.
func assertNothingAt(t *testing.T, dst string, h v1.Hash) {
	t.Helper()
	tag, err := name.NewTag(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(tag); err == nil {
		t.Fatalf("%s exists after a refused promotion", dst)
	}
	if _, err := remote.Head(tag.Context().Digest(h.String())); err == nil {
		t.Fatalf("%s@%s exists after a refused promotion", tag.Context(), h)
	}
}

func failuresOf(rep *verify.Report) any {
	if rep == nil {
		return nil
	}
	return rep.Failures()
}
