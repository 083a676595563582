package verify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hardenkit/hardenkit/pkg/ocilayout"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// TestIntegrity tampers with each kind of blob of a signed image in each
// way, on each transport, and checks that verify fails the integrity
// check naming the blob — including the layers and config, which no
// signature or statement check reads.
func TestIntegrity(t *testing.T) {
	ctx := context.Background()
	kp, pk := keypair(t, "pass-integrity")
	now := time.Now()
	idx, err := releasetest.Synthetic(predicate(now.Add(48*time.Hour)), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	signedDir := releasetest.LayoutDir(t, idx)
	st, err := store.OpenLayout(signedDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Sign(ctx, st, kp, now); err != nil {
		t.Fatal(err)
	}
	targets, others, err := releasetest.Targets(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	reg := releasetest.Registry(t, true)
	ref := reg + "/integrity/app:v1"
	dst, err := store.OpenRemote(ref, store.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := st.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CopyImage(ctx, st, root, dst); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Tag(tag, mustGet(t, dst, root), dst.Options(ctx)...); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []string{"layout", "archive", "registry"} {
		for _, part := range releasetest.Parts {
			for _, how := range releasetest.Tampers {
				h := targets[part]
				t.Run(fmt.Sprintf("%s/%s/%s", tr, part, how), func(t *testing.T) {
					var target string
					switch tr {
					case "registry":
						target = releasetest.TamperProxy(t, reg, h, how, others[part]) + "/integrity/app:v1"
					default:
						dir := t.TempDir()
						if err := os.CopyFS(dir, os.DirFS(signedDir)); err != nil {
							t.Fatal(err)
						}
						if err := releasetest.TamperLayout(dir, h, how, others[part]); err != nil {
							t.Fatal(err)
						}
						target = "oci-layout://" + dir
						if tr == "archive" {
							target = "oci-archive://" + releasetest.ArchiveFile(t, dir)
						}
					}
					rep := releasetest.VerifyRef(t, target, pk, now)
					got := rep.Failures()[verify.CheckIntegrity]
					if rep.Compliant || len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), h.String()) {
						t.Fatalf("compliant=%v, integrity failures %q; want a failure naming %s (all: %v)", rep.Compliant, got, h, rep.Failures())
					}
				})
			}
		}
	}
	t.Run("untampered passes on every transport", func(t *testing.T) {
		for _, ref := range []string{"oci-layout://" + signedDir, "oci-archive://" + releasetest.ArchiveFile(t, signedDir), ref} {
			if rep := releasetest.VerifyRef(t, ref, pk, now); !rep.Compliant {
				t.Fatalf("%s: %v", ref, rep.Failures())
			}
		}
	})
	t.Run("an extra manifest in index.json", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(signedDir)); err != nil {
			t.Fatal(err)
		}
		l, err := ocilayout.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		d := mustGet(t, dst, root).Descriptor
		d.Annotations = map[string]string{"org.opencontainers.image.ref.name": "extra"}
		if err := l.Path().AppendDescriptor(d); err != nil {
			t.Fatal(err)
		}
		rep := releasetest.VerifyRef(t, "oci-layout://"+filepath.Clean(dir), pk, now)
		if rep.Compliant || len(rep.Failures()[verify.CheckIntegrity]) == 0 {
			t.Fatalf("compliant=%v failures %v; want an integrity failure", rep.Compliant, rep.Failures())
		}
	})
}

func mustGet(t *testing.T, r *store.Remote, d v1.Descriptor) *remote.Descriptor {
	t.Helper()
	got, err := remote.Get(r.Repository().Digest(d.Digest.String()), r.Options(context.Background())...)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
