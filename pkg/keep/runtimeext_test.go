package keep

import (
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
