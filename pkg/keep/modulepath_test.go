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
		// A gem's executables are loaded by the binstub on PATH.
		{"/var/lib/gems/3.1.0/gems/rack-3.0/exe/rackup", true},
		{"/usr/share/rubygems-integration/all/gems/rack-2.2.22/bin/rackup", true},
		{"/usr/local/bundle/gems/puma-6.4.2/bin/puma", true},
		// Commands beside modules are commands.
		{"/app/node_modules/.bin/express", false},
		{"/usr/local/bundle/bin/puma", false},
		{"/var/lib/gems/3.1.0/bin/rackup", false},
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

// TestRebaseGemExecutablesAreLoaded: the binstub on PATH `load`s the gem's
// own executable, so a command the image runs through a binstub ships the
// file it loads; the gem's commands the image does not run still ship as
// the code they are, while another package's binstub is dropped.
func TestRebaseGemExecutablesAreLoaded(t *testing.T) {
	tr := rootfstest.Triple()
	interp := hostInterp(t)
	base, final := debianFinal(t)
	ruby := rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: []string{"libc.so.6"}, Payload: []byte("ruby")})
	const gem = "/usr/share/rubygems-integration/all/gems/rack-2.2.22"
	for _, l := range []*rootfstest.Layout{base, final} {
		l.File("/usr/bin/ruby", ruby, 0o755)
		l.File("/usr/bin/rackup", []byte("#!/usr/bin/ruby\nload Gem.bin_path('rack', 'rackup', version)\n"), 0o755)
		l.File("/usr/bin/rake", []byte("#!/usr/bin/ruby\nload Gem.bin_path('rake', 'rake', version)\n"), 0o755)
		l.File(gem+"/bin/rackup", []byte("#!/usr/bin/env ruby\nrequire 'rack'\nRack::Server.start\n"), 0o755)
		l.File(gem+"/lib/rack.rb", []byte("module Rack; end\n"), 0o644)
		pkgs := append(basePkgs(tr),
			pkg{name: "ruby3.1", files: []string{"/usr/bin/ruby"}},
			pkg{name: "rake", files: []string{"/usr/bin/rake"}},
			pkg{name: "ruby-rack", files: []string{"/usr/bin/rackup", gem + "/bin/rackup", gem + "/lib/rack.rb"}})
		writeDpkg(l, pkgs)
		l.Stamp(epoch)
	}
	ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = []string{"rackup", "--port", "9292"} })
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := final.Load()
	checkInvariants(t, ft, ks)
	for _, p := range []string{"/usr/bin/rackup", gem + "/bin/rackup", gem + "/lib/rack.rb", "/usr/bin/ruby"} {
		if !slices.Contains(ks.Paths, p) {
			t.Errorf("%s not kept", p)
		}
	}
	if slices.ContainsFunc(ks.Executables, func(a Allowed) bool { return a.Path == gem+"/bin/rackup" }) {
		t.Errorf("the gem's rackup is listed as an executable; it is code the binstub loads")
	}
	if slices.Contains(ks.Paths, "/usr/bin/rake") {
		t.Errorf("rake's binstub kept; nothing runs it")
	}
}
