package keep

import (
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

func TestInModulePath(t *testing.T) {
	tr := rootfstest.Triple()
	tests := []struct {
		path string
		want bool
	}{
		{"/usr/share/perl5/Getopt/Long.pm", true},
		{"/usr/lib/" + tr + "/perl-base/version.pm", true},
		{"/usr/lib/" + tr + "/perl/5.36/Config.pm", true},
		{"/usr/share/perl/5.36/ExtUtils/Miniperl.pm", true},
		{"/usr/local/lib/site_perl/My/Mod.pm", true},
		{"/etc/perl/Net/libnet.cfg", true},
		{"/usr/lib/python3/dist-packages/flask/app.py", true},
		{"/opt/venv/lib/python3.11/site-packages/pkg/cli.py", true},
		{"/usr/local/lib/python3.11/os.py", true},
		{"/app/node_modules/express/index.js", true},
		{"/usr/lib/ruby/3.1.0/set.rb", true},
		{"/var/lib/gems/3.1.0/gems/rack-3.0/lib/rack.rb", true},
		{"/usr/share/java/postgresql.jar", true},
		// Commands beside modules are commands.
		{"/app/node_modules/.bin/express", false},
		{"/var/lib/gems/3.1.0/gems/rack-3.0/exe/rackup", false},
		{"/opt/venv/bin/flask", false},
		{"/usr/lib/python3/dist-packages/pkg/bin/tool", false},
		{"/usr/bin/perl", false},
		{"/usr/share/perl-doc-ish", false},
		{"/app/lib/server.pm", false},
		{"/usr/lib/" + tr + "/libperl.so.5.36", false},
	}
	for _, tc := range tests {
		if got := inModulePath(tc.path); got != tc.want {
			t.Errorf("inModulePath(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

// TestRebaseModulesAreLibraries: Perl modules whose first line is
// "#!perl" and Python modules with a "#!" line and execute bits ship as
// the libraries they are; the package's commands nothing runs are listed
// as dropped, never silently gone.
func TestRebaseModulesAreLibraries(t *testing.T) {
	tr := rootfstest.Triple()
	interp := hostInterp(t)
	base, final := debianFinal(t)
	perl := rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: []string{"libc.so.6"}, Payload: []byte("perl")})
	for _, l := range []*rootfstest.Layout{base, final} {
		l.File("/usr/bin/perl", perl, 0o755)
		l.File("/usr/share/perl5/Getopt/Long.pm", []byte("#!perl\npackage Getopt::Long;\n"), 0o644)
		l.File("/usr/lib/"+tr+"/perl-base/version.pm", []byte("#!perl -w\npackage version;\n"), 0o755)
		l.File("/usr/bin/perlbug", []byte("#!/usr/bin/perl\nprint 1;\n"), 0o755)
		pkgs := append(basePkgs(tr), pkg{name: "perl-base", files: []string{"/usr/bin/perl", "/usr/bin/perlbug",
			"/usr/share/perl5/Getopt/Long.pm", "/usr/lib/" + tr + "/perl-base/version.pm"}})
		writeDpkg(l, pkgs)
		l.Stamp(epoch)
	}
	final.File("/app/tool.pl", []byte("use Getopt::Long;\n"), 0o644)
	final.File("/opt/venv/lib/python3.11/site-packages/pkg/cli.py", []byte("#!/usr/bin/env python\nimport sys\n"), 0o755)
	final.File("/opt/venv/bin/cli", []byte("#!/opt/venv/bin/python\nimport pkg.cli\n"), 0o755)
	ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = []string{"perl", "/app/tool.pl"} })
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := final.Load()
	checkInvariants(t, ft, ks)
	for _, p := range []string{"/usr/share/perl5/Getopt/Long.pm", "/usr/lib/" + tr + "/perl-base/version.pm", "/opt/venv/lib/python3.11/site-packages/pkg/cli.py"} {
		if !slices.Contains(ks.Paths, p) {
			t.Errorf("module %s not kept", p)
		}
		if slices.ContainsFunc(ks.Executables, func(a Allowed) bool { return a.Path == p }) {
			t.Errorf("module %s listed as an executable", p)
		}
	}
	if r := ks.Reasons["/usr/share/perl5/Getopt/Long.pm"]; !strings.HasPrefix(r, "module of package perl-base") {
		t.Errorf("reason for Long.pm = %q", r)
	}
	dropped := map[string]string{}
	for _, d := range ks.NotAllowed {
		dropped[d.Path] = d.Reason
	}
	if slices.Contains(ks.Paths, "/usr/bin/perlbug") || !strings.Contains(dropped["/usr/bin/perlbug"], "that the image does not run") {
		t.Errorf("perlbug: kept %v, dropped as %q; want it dropped and listed", slices.Contains(ks.Paths, "/usr/bin/perlbug"), dropped["/usr/bin/perlbug"])
	}
}
