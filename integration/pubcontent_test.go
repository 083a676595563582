package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPublicContentMojolicious: Debian's libmojolicious-perl ships the
// framework's test TLS key, listed in its md5sums. Built hardened with the
// strict policy, the application builds; if the key ships, the compliance
// statement records it under HK3052 as a warning, public content of the
// package at its version, with its fingerprint and without "rotate".
func TestPublicContentMojolicious(t *testing.T) {
	ctx := context.Background()
	dir := pinDockerfile(ctx, t, filepath.Join("testdata", "apps", "perl-mojolicious"), nil)
	res, err := build(ctx, t, gateway, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"),
		attrs: map[string]string{"build-arg:HARDENKIT_MODE": "enforce"}})
	if err != nil {
		t.Fatalf("hardened build: %v\n%s", err, tail(res.progress, 40))
	}
	const key = "/usr/share/perl5/Mojo/IOLoop/resources/server.key"
	bundle := unpackImage(t, res.oci, "")
	_, statErr := os.Stat(filepath.Join(bundle.rootfs(), key))
	r := complianceOf(t, res.oci)["HK3052"]
	fs := r.findingsAt(key)
	switch {
	case statErr != nil && len(fs) == 0:
		t.Logf("the key does not ship (%v); HK3052 = %s", statErr, r)
	case statErr != nil:
		t.Errorf("HK3052 reports %s, which does not ship: %s", key, r)
	case len(fs) != 1:
		t.Errorf("the key ships; HK3052 = %s, want one finding at %s", r, key)
	default:
		f := fs[0]
		if f.Level != "warn" || !strings.HasPrefix(f.Message, "public content of libmojolicious-perl@") || strings.Contains(f.Message, "rotate") || f.Fingerprint == "" {
			t.Errorf("HK3052 at the key: [%s] %q (fingerprint %q), want a public content warning", f.Level, f.Message, f.Fingerprint)
		}
		t.Logf("HK3052: [%s] %s", f.Level, f.Message)
	}
}
