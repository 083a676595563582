package promote_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/promote"
	"github.com/hardenkit/hardenkit/pkg/release/releasepolicy"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// fixture is a registry holding a signed release image.
type fixture struct {
	reg  string
	src  string // digest reference of the signed image (tagged src:v1)
	kp   *keys.Keypair
	pk   *keys.PublicKey
	now  time.Time
	opts promote.Options
}

func newFixture(t *testing.T, referrersAPI bool) *fixture {
	t.Helper()
	f := &fixture{reg: releasetest.Registry(t, referrersAPI), now: time.Now()}
	f.kp, f.pk, _ = releasetest.Keys(t, "pass-promote")
	f.src = f.push(t, "src")
	if _, err := sign.SignRef(context.Background(), f.src, store.RemoteOptions{}, f.kp, f.now); err != nil {
		t.Fatal(err)
	}
	f.opts = promote.Options{Verify: verify.Options{Key: f.pk, Policy: releasepolicy.Default(), Now: f.now}}
	return f
}

// push writes an unsigned synthetic release image to repo:v1 and returns
// its digest reference.
func (f *fixture) push(t *testing.T, repo string) string {
	t.Helper()
	ref, err := releasetest.PushSynthetic(context.Background(), f.reg+"/"+repo+":v1", releasetest.Predicate(f.now.Add(48*time.Hour)), f.now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestPromoteCopiesTheVerifiedDigest: the promoted image has the source's
// digest, under the destination tag, and verifies there with its copied
// signatures.
func TestPromoteCopiesTheVerifiedDigest(t *testing.T) {
	for _, referrersAPI := range []bool{false, true} {
		t.Run(map[bool]string{false: "tag-fallback", true: "referrers-api"}[referrersAPI], func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, referrersAPI)
			res, err := promote.Promote(ctx, f.src, f.reg+"/prod:v1", f.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Report.Compliant {
				t.Fatalf("report not compliant: %v", res.Report.Failures())
			}
			srcDigest := digestOf(t, f.src)
			if res.Digest != srcDigest {
				t.Errorf("Result.Digest = %s, want the source's %s", res.Digest, srcDigest)
			}
			if got := digestOf(t, f.reg+"/prod:v1"); got != srcDigest {
				t.Errorf("prod:v1 is %s, want the source's %s", got, srcDigest)
			}
			if res.Referrers != 3 {
				t.Errorf("copied %d signatures, want 3 (index, image, attestation)", res.Referrers)
			}
			st, err := store.OpenRemote(f.reg+"/prod:v1", store.RemoteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := verify.Verify(ctx, st, f.opts.Verify)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Compliant {
				t.Fatalf("the promoted image does not verify: %v", rep.Failures())
			}
		})
	}
}

// TestPromoteRefusesUnverified: an image that does not verify (unsigned,
// or signed by another key) is not copied.
func TestPromoteRefusesUnverified(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	other, _, _ := releasetest.Keys(t, "pass-other")
	otherKey := f.push(t, "otherkey")
	if _, err := sign.SignRef(ctx, otherKey, store.RemoteOptions{}, other, f.now); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"unsigned": f.push(t, "unsigned"), "other key": otherKey} {
		t.Run(name, func(t *testing.T) {
			dst := f.reg + "/prod-" + map[string]string{"unsigned": "a", "other key": "b"}[name] + ":v1"
			res, err := promote.Promote(ctx, src, dst, f.opts)
			if !errors.Is(err, promote.ErrNotCompliant) {
				t.Fatalf("err = %v, want ErrNotCompliant", err)
			}
			if res == nil || res.Report == nil || len(res.Report.Failures()[verify.CheckImageSignature]) == 0 {
				t.Fatalf("the report does not say the image signature failed: %+v", res)
			}
			if _, err := remote.Head(mustRef(t, dst)); err == nil {
				t.Fatal("the destination tag exists after a refused promotion")
			}
		})
	}
}

// TestPromoteCopiesByDigest: a source tag moved between verification and
// copy does not change what is copied.
func TestPromoteCopiesByDigest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	verifiedDigest := digestOf(t, f.src)
	srcTag := f.reg + "/src:v1"
	o := f.opts
	o.BeforeCopy = func(ctx context.Context) error {
		_, err := releasetest.Retag(ctx, f.push(t, "evil"), srcTag)
		return err
	}
	res, err := promote.Promote(ctx, srcTag, f.reg+"/prod:v1", o)
	if err != nil {
		t.Fatal(err)
	}
	if got := digestOf(t, f.reg+"/prod:v1"); got != verifiedDigest || res.Digest != verifiedDigest {
		t.Fatalf("promoted %s (result %s), want the verified %s", got, res.Digest, verifiedDigest)
	}
	if digestOf(t, srcTag) == verifiedDigest {
		t.Fatal("the source tag did not move; the test shows nothing")
	}
}

func mustRef(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// digestOf is the digest ref resolves to now.
func digestOf(t *testing.T, ref string) string {
	t.Helper()
	d, err := remote.Head(mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest.String()
}

// TestPromoteRefusesTampered: a source whose manifest, config, layer or
// attestation layer is altered, truncated, removed or swapped (served so
// by the registry) does not verify, and the destination registry is left
// empty — not a blob, manifest or tag of it is written.
func TestPromoteRefusesTampered(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true)
	st, err := store.OpenRemote(f.src, store.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	targets, others, err := releasetest.Targets(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range releasetest.Parts {
		for _, how := range releasetest.Tampers {
			t.Run(string(part)+"/"+string(how), func(t *testing.T) {
				proxy := releasetest.TamperProxy(t, f.reg, targets[part], how, others[part])
				dstReg := releasetest.Registry(t, true)
				src := proxy + "/src:v1"
				res, err := promote.Promote(ctx, src, dstReg+"/prod:v1", f.opts)
				if !errors.Is(err, promote.ErrNotCompliant) {
					t.Fatalf("err = %v, want ErrNotCompliant", err)
				}
				if len(res.Report.Failures()[verify.CheckIntegrity]) == 0 {
					t.Fatalf("no integrity failure: %v", res.Report.Failures())
				}
				reg, err := name.NewRegistry(dstReg)
				if err != nil {
					t.Fatal(err)
				}
				if repos, err := remote.Catalog(ctx, reg); err != nil || len(repos) != 0 {
					t.Fatalf("the destination holds %v (%v) after a refused promotion", repos, err)
				}
			})
		}
	}
}

// TestPromoteFromLayout: an OCI layout (as `hardenkit build -o
// type=oci,tar=false` writes and signs it) is promoted to a registry with
// its signatures, and verifies there.
func TestPromoteFromLayout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	idx, err := releasetest.Synthetic(releasetest.Predicate(f.now.Add(48*time.Hour)), f.now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := releasetest.LayoutDir(t, idx)
	l, err := store.OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Sign(ctx, l, f.kp, f.now); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"oci-layout://" + dir, "oci-archive://" + releasetest.ArchiveFile(t, dir)} {
		dst := f.reg + "/from-layout:v1"
		res, err := promote.Promote(ctx, src, dst, f.opts)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if res.Referrers != 3 {
			t.Errorf("%s: copied %d signatures, want 3", src, res.Referrers)
		}
		if rep := releasetest.VerifyRef(t, dst, f.pk, f.now); !rep.Compliant {
			t.Fatalf("%s promoted does not verify: %v", src, rep.Failures())
		}
	}
}
