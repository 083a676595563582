package keep

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

// TestRequestedPackages: packages the Dockerfile asked apt for join the
// runtime closure when they extend the interpreter the image runs (a Perl
// module package that depends on perl-base) or are data only (iso-codes);
// one installed only as a dependency, or one with executables that
// extends nothing the image runs (mksh), stays out.
func TestRequestedPackages(t *testing.T) {
	base, final := allowlistFinal(t)
	files := map[string]string{
		"libjson-pp-perl": "/usr/share/perl5/JSON/PP.pm",
		"iso-codes":       "/usr/share/iso-codes/json/iso_3166-1.json",
		"node-lib":        "/usr/share/nodejs/lib/index.js",
		"perl-modules":    "/usr/share/perl/5.36/JSON/PP.pm",
		"perl":            "/usr/bin/cpan",
		// A metapackage: documentation and a command link, no data.
		"php-cli": "/usr/share/doc/php-cli/changelog.gz",
	}
	status := string(final.Read("/var/lib/dpkg/status"))
	for name, f := range files {
		content, mode := []byte("data of "+name), fs.FileMode(0o644)
		if name == "perl" {
			content, mode = []byte("#!/usr/bin/perl\n"), 0o755
		}
		final.File(f, content, mode)
		final.File("/var/lib/dpkg/info/"+name+".list", []byte("/.\n"+f+"\n"), 0o644)
		st := stanza(name, false, "install ok installed")
		switch name {
		case "iso-codes", "perl-modules", "php-cli":
		case "perl":
			st = strings.Replace(st, "Version:", "Depends: perl-base (>= 5.36), perl-modules\nVersion:", 1)
		default:
			st = strings.Replace(st, "Version:", "Depends: perl-base (>= 5.36)\nVersion:", 1)
		}
		status += "\n" + st
	}
	final.File("/var/lib/dpkg/status", []byte(status), 0o644)
	// Debian's minbase already has perl (asked for by name there): a base
	// package that extends the runtime joins too.
	base.File("/var/lib/dpkg/info/perl.list", []byte("/.\n/usr/bin/cpan\n"), 0o644)
	final.File(aptExtendedStates, []byte("Package: node-lib\nArchitecture: "+debArch()+"\nAuto-Installed: 1\n\n"+
		"Package: perl-modules\nArchitecture: "+debArch()+"\nAuto-Installed: 1\n"), 0o644)

	ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = []string{"/app/tool.pl"} })
	if err != nil {
		t.Fatal(err)
	}
	// perl extends perl-base: the modules it depends on ship; its own
	// program cpan, which nothing runs, does not (the allowlist).
	for _, p := range []string{files["libjson-pp-perl"], files["iso-codes"], files["perl-modules"]} {
		if !slices.Contains(ks.Paths, p) {
			t.Errorf("%s not kept (closure %v)", p, ks.RuntimePackages)
		}
	}
	for _, p := range []string{files["node-lib"], files["perl"], files["php-cli"], "/usr/share/mksh/dot.mkshrc", "/usr/bin/mksh-static"} {
		if slices.Contains(ks.Paths, p) {
			t.Errorf("%s kept: %s", p, ks.Reasons[p])
		}
	}
	if why, ok := ks.RuntimePackages["php-cli"]; ok {
		t.Errorf("metapackage php-cli in the closure: %s", why)
	}
	if why := ks.RuntimePackages["libjson-pp-perl"]; !strings.Contains(why, "extends") {
		t.Errorf("libjson-pp-perl in the closure for %q", why)
	}
}

// TestRequestedDataWithoutInterpreter: an image that runs a static binary
// owned by no package still ships a data package the Dockerfile asked for.
func TestRequestedDataWithoutInterpreter(t *testing.T) {
	base, final := allowlistFinal(t)
	final.File("/app/server", rootfstest.ELF(rootfstest.ELFSpec{Payload: []byte("static server")}), 0o755)
	final.File("/data/1", []byte("one"), 0o644)
	final.File("/var/lib/dpkg/info/bigdata.list", []byte("/.\n/data\n/data/1\n"), 0o644)
	status := string(final.Read("/var/lib/dpkg/status")) + "\n" + stanza("bigdata", false, "install ok installed")
	final.File("/var/lib/dpkg/status", []byte(status), 0o644)
	final.File(aptExtendedStates, []byte{}, 0o644)
	ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = []string{"/app/server"} })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ks.Paths, "/data/1") {
		t.Errorf("/data/1 not kept (closure %v)", ks.RuntimePackages)
	}
	if slices.Contains(ks.Paths, "/usr/bin/mksh-static") {
		t.Error("mksh kept")
	}
}

// TestRequestedSameSourceExtension: PHP's extension packages depend on
// php8.2-common, not on the CLI that loads them; built from the CLI's own
// source package, they are the interpreter's modules and join the closure
// when asked for (through the php-sqlite3 metapackage). A program asked
// for beside them that only shares a library with the runtime stays out.
func TestRequestedSameSourceExtension(t *testing.T) {
	base, final := allowlistFinal(t)
	php := rootfstest.ELF(rootfstest.ELFSpec{Interp: hostInterp(t), Needed: []string{"libc.so.6"}, Payload: []byte("php")})
	type deb struct{ name, source, section, depends, file string }
	debs := []deb{
		{"php8.2-cli", "php8.2", "php", "php8.2-common", "/usr/bin/php8.2"},
		{"php8.2-common", "php8.2", "php", "libsqlite3-0", "/usr/lib/php/20220829/pdo.so"},
		{"php8.2-sqlite3", "php8.2", "php", "php8.2-common (= 8.2.36-1~deb12u1), libsqlite3-0 (>= 3.14.0)", "/usr/lib/php/20220829/pdo_sqlite.so"},
		{"php-sqlite3", "php-defaults (93)", "php", "php8.2-sqlite3", "/usr/share/doc/php-sqlite3/changelog.gz"},
		{"libsqlite3-0", "sqlite3", "libs", "", "/usr/lib/libsqlite3.so.0"},
		{"sqlite3", "", "database", "libsqlite3-0", "/usr/bin/sqlite3"},
	}
	status := string(final.Read("/var/lib/dpkg/status"))
	var auto strings.Builder
	for _, d := range debs {
		content, mode := []byte("data of "+d.name), fs.FileMode(0o644)
		if strings.Contains(d.file, "/bin/") {
			content, mode = php, 0o755
		}
		final.File(d.file, content, mode)
		final.File("/var/lib/dpkg/info/"+d.name+".list", []byte("/.\n"+d.file+"\n"), 0o644)
		extra := "Section: " + d.section + "\n"
		if d.source != "" {
			extra += "Source: " + d.source + "\n"
		}
		if d.depends != "" {
			extra += "Depends: " + d.depends + "\n"
		}
		status += "\n" + strings.Replace(stanza(d.name, false, "install ok installed"), "Version:", extra+"Version:", 1)
		if d.name != "php8.2-cli" && d.name != "php-sqlite3" && d.name != "sqlite3" {
			fmt.Fprintf(&auto, "Package: %s\nArchitecture: %s\nAuto-Installed: 1\n\n", d.name, debArch())
		}
	}
	final.File("/var/lib/dpkg/status", []byte(status), 0o644)
	final.File(aptExtendedStates, []byte(auto.String()), 0o644)

	ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = []string{"/usr/bin/php8.2", "-S", "127.0.0.1:80"} })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ks.Paths, "/usr/lib/php/20220829/pdo_sqlite.so") {
		t.Errorf("pdo_sqlite.so not kept (closure %v)", ks.RuntimePackages)
	}
	if slices.Contains(ks.Paths, "/usr/bin/sqlite3") {
		t.Errorf("sqlite3 kept: %s", ks.Reasons["/usr/bin/sqlite3"])
	}
}
