package releasetest

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/pkg/ocilayout"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/releasepolicy"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// PolicyDigest is the build-policy digest in Predicate's statement.
const PolicyDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

// Registry starts go-containerregistry's in-memory registry for the test
// (with the OCI 1.1 referrers API when referrersAPI, else only the tag
// fallback) and returns its host:port.
func Registry(t testing.TB, referrersAPI bool) string {
	t.Helper()
	opts := []registry.Option{registry.Logger(log.New(io.Discard, "", 0))}
	if referrersAPI {
		opts = append(opts, registry.WithReferrersSupport(true))
	}
	srv := httptest.NewServer(registry.New(opts...))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Keys generates a cosign key pair whose private key is encrypted with
// pass; it also returns the path of the public key file, for cosign.
func Keys(t testing.TB, pass string) (*keys.Keypair, *keys.PublicKey, string) {
	t.Helper()
	pw := func(bool) ([]byte, error) { return []byte(pass), nil }
	priv, pub, err := keys.Generate(pw)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := keys.LoadPrivateKey(priv, pw)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := keys.LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(file, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return kp, pk, file
}

// Predicate is a compliance statement the default release policy
// accepts: strict baseline, enforce mode, one rule passed and one waived
// by an approved exception that expires at expires.
func Predicate(expires time.Time) compliance.Predicate {
	return compliance.Predicate{
		Hardenkit: compliance.Tool{Version: "dev"},
		Policy:    compliance.Policy{Name: "builtin:strict", Digest: PolicyDigest, Baseline: "strict"},
		Mode:      options.ModeEnforce,
		Rules: []compliance.Rule{
			{ID: "HK1001", Result: compliance.ResultPass},
			{ID: "HK2001", Result: compliance.ResultWaived, Findings: []compliance.Finding{{Level: rules.LevelWaived, Message: "m", Waiver: "EX-1"}}},
		},
		Exceptions:      []compliance.Exception{{ID: "EX-1", Rule: "HK2001", ApprovedBy: "alice", Expires: expires}},
		Vulnerabilities: compliance.Vulnerabilities{Status: compliance.VulnEvaluated, FailOn: rules.SeverityHigh, DB: &compliance.VulnDB{Built: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Schema: "v6.1.10"}},
	}
}

// LayoutDir writes idx into a new OCI image layout directory (index.json
// lists it as the one image) and returns the directory.
func LayoutDir(t testing.TB, idx v1.ImageIndex) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ArchiveFile packs the layout directory dir into an OCI layout tarball,
// as BuildKit's oci exporter writes one, and returns its path.
func ArchiveFile(t testing.TB, dir string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	err = ocilayout.WriteArchive(f, dir)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// VerifyRef verifies the image at ref (a registry reference,
// oci-layout://DIR or oci-archive://FILE) against the default release
// policy with pk at now, failing the test when it cannot be verified.
func VerifyRef(t testing.TB, ref string, pk *keys.PublicKey, now time.Time) *verify.Report {
	t.Helper()
	st, err := store.Open(ref, store.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := st.(io.Closer); ok {
		defer c.Close()
	}
	rep, err := verify.Verify(context.Background(), st, verify.Options{Key: pk, Policy: releasepolicy.Default(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
