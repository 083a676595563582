package secrets_test

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

// TestPublicContent: a private key a package installed and whose bytes its
// database vouches for is public content of that package; the same key
// with a database the package manager would not have left is not.
func TestPublicContent(t *testing.T) {
	key := []byte(secretstest.Generate(t).PrivateKeyPEM)
	const keyPath = "/usr/share/perl5/Mojo/IOLoop/resources/server.key"
	sums := md5hex(key) + "  usr/share/perl5/Mojo/IOLoop/resources/server.key\n"
	list := "/.\n/usr\n/usr/share/perl5/Mojo/IOLoop/resources\n" + keyPath + "\n"
	installed := "Package: libmojolicious-perl\nStatus: install ok installed\nArchitecture: all\nVersion: 9.32+dfsg-1\n\n" +
		"Package: ssl-cert\nStatus: install ok installed\nVersion: 1.1.2\n"
	pySum := sha256.Sum256(key)
	record := "tests/server.key,sha256=" + base64.RawURLEncoding.EncodeToString(pySum[:]) + ",99\n"
	const pyDir = "/usr/lib/python3/dist-packages/"

	dpkg := func(status, sumsFile, listFile string) *rootfstest.Layout {
		l := rootfstest.New(t).File(keyPath, key, 0o644)
		if sumsFile != "" {
			l = l.File("/var/lib/dpkg/info/libmojolicious-perl.md5sums", []byte(sumsFile), 0o644)
		}
		if listFile != "" {
			l = l.File("/var/lib/dpkg/info/libmojolicious-perl.list", []byte(listFile), 0o644)
		}
		return l.File("/var/lib/dpkg/status", []byte(status), 0o644)
	}
	tests := []struct {
		name  string
		layer *rootfstest.Layout
		path  string
		want  string // "" = not public
	}{
		{"dpkg: installed, listed, bytes match", dpkg(installed, sums, list), keyPath, "libmojolicious-perl@9.32+dfsg-1 (dpkg)"},
		{"dpkg: digest appended but the package does not list the file", dpkg(installed, sums, "/usr\n"), keyPath, ""},
		{"dpkg: no .list at all", dpkg(installed, sums, ""), keyPath, ""},
		{"dpkg: package not installed", dpkg("Package: libmojolicious-perl\nStatus: deinstall ok config-files\nVersion: 9.32+dfsg-1\n", sums, list), keyPath, ""},
		{"dpkg: no status stanza", dpkg("Package: other\nStatus: install ok installed\nVersion: 1\n", sums, list), keyPath, ""},
		{"dpkg: bytes changed", dpkg(installed, md5hex([]byte("the original"))+"  usr/share/perl5/Mojo/IOLoop/resources/server.key\n", list), keyPath, ""},
		{"dpkg: no md5sums line", dpkg(installed, "", list), keyPath, ""},
		{"python: RECORD with METADATA and INSTALLER", rootfstest.New(t).
			File(pyDir+"tests/server.key", key, 0o644).
			File(pyDir+"mojo_tests-1.2.dist-info/RECORD", []byte(record), 0o644).
			File(pyDir+"mojo_tests-1.2.dist-info/METADATA", []byte("Name: mojo-tests\n"), 0o644).
			File(pyDir+"mojo_tests-1.2.dist-info/INSTALLER", []byte("pip\n"), 0o644), pyDir + "tests/server.key", "mojo_tests@1.2 (python)"},
		{"python: a RECORD without the installer's files", rootfstest.New(t).
			File(pyDir+"tests/server.key", key, 0o644).
			File(pyDir+"mojo_tests-1.2.dist-info/RECORD", []byte(record), 0o644), pyDir + "tests/server.key", ""},
		{"a file no package records", rootfstest.New(t).File("/app/server.key", key, 0o644).
			File("/var/lib/dpkg/status", []byte(installed), 0o644), "/app/server.key", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, src := tt.layer.Load()
			got, err := secrets.PublicContent(t.Context(), tree, src, []string{tt.path})
			if err != nil {
				t.Fatal(err)
			}
			pub, ok := got[tt.path]
			if tt.want == "" {
				if ok {
					t.Errorf("%s is public content of %s, want a finding", tt.path, pub)
				}
				return
			}
			if !ok || pub.String() != tt.want {
				t.Fatalf("PublicContent = %v, want %s", got, tt.want)
			}
			if len(pub.Databases) == 0 {
				t.Errorf("no database files recorded for the origin check")
			}
		})
	}
}

// TestPublicContentNPM: a file of a package the lockfile resolved from a
// registry, with no install script anywhere, is public content; a
// package with an install script, a root postinstall, a git dependency or
// a version that does not match is not.
func TestPublicContentNPM(t *testing.T) {
	key := []byte(secretstest.Generate(t).PrivateKeyPEM)
	const keyPath = "/app/node_modules/@types/agent/test/server.key"
	lock := func(extra string) string {
		return `{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/@types/agent": {"version": "7.1.0", "resolved": "https://registry.npmjs.org/@types/agent/-/agent-7.1.0.tgz", "integrity": "sha512-AAAA"` + extra + `}}}`
	}
	layout := func(lockfile, rootPkg, pkgVersion string) *rootfstest.Layout {
		return rootfstest.New(t).
			File(keyPath, key, 0o644).
			File("/app/package.json", []byte(rootPkg), 0o644).
			File("/app/node_modules/.package-lock.json", []byte(lockfile), 0o644).
			File("/app/node_modules/@types/agent/package.json", []byte(`{"name": "@types/agent", "version": "`+pkgVersion+`"}`), 0o644)
	}
	const plainRoot = `{"name": "app", "scripts": {"start": "node server.js"}}`
	tests := []struct {
		name   string
		layout *rootfstest.Layout
		want   bool
	}{
		{"registry package", layout(lock(""), plainRoot, "7.1.0"), true},
		{"the package has an install script", layout(lock(`, "hasInstallScript": true`), plainRoot, "7.1.0"), false},
		{"the project has a postinstall", layout(lock(""), `{"name": "app", "scripts": {"postinstall": "node gen-certs.js"}}`, "7.1.0"), false},
		{"installed version differs", layout(lock(""), plainRoot, "7.2.0"), false},
		{"resolved from git", layout(`{"packages": {"node_modules/@types/agent": {"version": "7.1.0", "resolved": "git+ssh://git@github.com/x/agent.git#abc", "integrity": "sha512-AAAA"}}}`, plainRoot, "7.1.0"), false},
		{"no integrity", layout(`{"packages": {"node_modules/@types/agent": {"version": "7.1.0", "resolved": "https://registry.npmjs.org/@types/agent/-/agent-7.1.0.tgz"}}}`, plainRoot, "7.1.0"), false},
		{"not in the lockfile", layout(`{"packages": {}}`, plainRoot, "7.1.0"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, src := tt.layout.Load()
			got, err := secrets.PublicContent(t.Context(), tree, src, []string{keyPath})
			if err != nil {
				t.Fatal(err)
			}
			pub, ok := got[keyPath]
			if ok != tt.want {
				t.Fatalf("public = %v (%s), want %v", ok, pub, tt.want)
			}
			if ok && pub.String() != "@types/agent@7.1.0 (npm)" {
				t.Errorf("public content of %s, want @types/agent@7.1.0 (npm)", pub)
			}
		})
	}
}
