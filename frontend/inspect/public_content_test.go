package inspect_test

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

const mojoKey = "/usr/share/perl5/Mojo/IOLoop/resources/server.key"

// mojolicious is a root filesystem with Debian's libmojolicious-perl test
// key as dpkg installs it, and the same key again where no package put it.
func mojolicious(t *testing.T, key []byte, userCopy bool) *rootfstest.Layout {
	sum := md5.Sum(key)
	l := base(t)
	if userCopy {
		l = l.File("/app/server.key", key, 0o600)
	}
	return l.
		File(mojoKey, key, 0o644).
		File("/var/lib/dpkg/info/libmojolicious-perl.md5sums", []byte(hex.EncodeToString(sum[:])+"  "+mojoKey[1:]+"\n"), 0o644).
		File("/var/lib/dpkg/info/libmojolicious-perl.list", []byte("/usr/share/perl5\n"+mojoKey+"\n"), 0o644).
		File("/var/lib/dpkg/status", []byte("Package: libmojolicious-perl\nStatus: install ok installed\nArchitecture: all\nVersion: 9.32+dfsg-1\n"), 0o644)
}

// TestPublicContentFinding: the package's key is reported as public
// content at warn, without "rotate it"; the user's copy of the same key
// fails as a secret.
func TestPublicContentFinding(t *testing.T) {
	key := []byte(secretstest.Generate(t).PrivateKeyPEM)
	for _, level := range []rules.Level{rules.LevelEnforce, rules.LevelWarn} {
		t.Run(string(level), func(t *testing.T) {
			p := only("HK3052")
			p.Rules["HK3052"] = level
			res := run(t, mojolicious(t, key, true), image("app"), p)
			got := map[string]rules.Finding{}
			for _, f := range res.Findings {
				got[f.File] = f
			}
			pub, user := got[mojoKey], got["/app/server.key"]
			if pub.Level != rules.LevelWarn || !inspect.IsPublicContent(pub) || !strings.Contains(pub.Message, "libmojolicious-perl@9.32+dfsg-1 (dpkg)") || strings.Contains(pub.Message, "rotate") {
				t.Errorf("package key = [%s] %q, want a public content warning without rotate", pub.Level, pub.Message)
			}
			if user.Level != level || inspect.IsPublicContent(user) || !strings.Contains(user.Message, "rotate") {
				t.Errorf("user key = [%s] %q, want [%s] and rotate", user.Level, user.Message, level)
			}
			if pub.Fingerprint == "" || pub.Fingerprint != user.Fingerprint {
				t.Errorf("fingerprints %q and %q, want the same key's", pub.Fingerprint, user.Fingerprint)
			}
			if res.Public[mojoKey].Package != "libmojolicious-perl" {
				t.Errorf("Result.Public = %v", res.Public)
			}
			wantStatus := inspect.StatusWarn
			if level == rules.LevelEnforce {
				wantStatus = inspect.StatusFail
			}
			if res.Status["HK3052"] != wantStatus {
				t.Errorf("HK3052 status = %s, want %s (the user's key)", res.Status["HK3052"], wantStatus)
			}
		})
	}
	t.Run("alone it only warns", func(t *testing.T) {
		res := run(t, mojolicious(t, key, false), image("app"), only("HK3052"))
		if res.Status["HK3052"] != inspect.StatusWarn {
			t.Errorf("HK3052 status = %s, want warn: %+v", res.Status["HK3052"], res.Findings)
		}
	})
}

// TestPublicOrigins: a package database or file the Dockerfile wrote
// vouches for nothing.
func TestPublicOrigins(t *testing.T) {
	key := []byte(secretstest.Generate(t).PrivateKeyPEM)
	res := run(t, mojolicious(t, key, true), image("app"), only("HK3052"))
	level := func(string) rules.Level { return rules.LevelEnforce }
	tests := []struct {
		name    string
		written map[string]string
		want    rules.Level
	}{
		{"from the base image or apt-get", nil, rules.LevelWarn},
		{"the key was COPY'd", map[string]string{mojoKey: "written by COPY server.key /usr/share/perl5/Mojo/IOLoop/resources/ (Dockerfile:4)"}, rules.LevelEnforce},
		{"md5sums appended by a RUN", map[string]string{"/var/lib/dpkg/info/libmojolicious-perl.md5sums": "written or changed by RUN echo … >> /var/lib/dpkg/info/libmojolicious-perl.md5sums (Dockerfile:5)"}, rules.LevelEnforce},
		{"the info directory rewritten", map[string]string{"/var/lib/dpkg/info": "written or changed by RUN cp sums /var/lib/dpkg/info/ (Dockerfile:5)"}, rules.LevelEnforce},
		{"the status database COPY'd", map[string]string{"/var/lib/dpkg/status": "written by COPY status /var/lib/dpkg/status (Dockerfile:3)"}, rules.LevelEnforce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := inspect.PublicOrigins(append([]rules.Finding(nil), res.Findings...), res.Public, level, func(p string) string { return tt.written[p] })
			for _, f := range fs {
				if f.File != mojoKey {
					continue
				}
				if f.Level != tt.want {
					t.Errorf("level = %s, want %s: %s", f.Level, tt.want, f.Message)
				}
				if tt.want == rules.LevelEnforce && (inspect.IsPublicContent(f) || !strings.Contains(f.Message, "vouches for nothing") || !strings.Contains(f.Message, "Dockerfile:")) {
					t.Errorf("message = %q, want the instruction and rotate", f.Message)
				}
			}
		})
	}
}
