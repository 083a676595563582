package keep

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// allowlistFinal is a Debian final stage whose entrypoint is a Perl
// script, on a base with perl-base, that apt-installed tools no list
// names and copied a patched shell in under another name and mode.
func allowlistFinal(t *testing.T) (base, final *rootfstest.Layout) {
	tr := rootfstest.Triple()
	interp := hostInterp(t)
	perl := rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: []string{"libc.so.6"}, Payload: []byte("perl interpreter")})
	lay := func(l *rootfstest.Layout) {
		debianBase(t, l)
		l.File("/usr/bin/perl", perl, 0o755)
		l.File("/usr/lib/"+tr+"/perl-base/strict.pm", []byte("package strict;\n1;\n"), 0o644)
		l.File("/usr/bin/mawk", rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: []string{"libc.so.6"}, Payload: []byte("mawk")}), 0o755)
		l.File("/usr/share/locale-data/perl.dat", []byte("data"), 0o644)
	}
	base, final = rootfstest.New(t), rootfstest.New(t)
	lay(base)
	lay(final)
	base.Stamp(epoch)
	final.Stamp(epoch)
	dash := rootfstest.HostFile(t, "/usr/bin/dash")
	// apt-get install mksh socat openssl in the shipped stage: tools no
	// list needs to name.
	mk := func(name string) []byte {
		return rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: []string{"libc.so.6"}, Payload: []byte(name)})
	}
	final.File("/usr/bin/mksh-static", mk("mksh"), 0o755)
	final.File("/usr/share/mksh/dot.mkshrc", []byte("PS1=x"), 0o644)
	final.File("/usr/bin/socat1", mk("socat"), 0o755)
	final.File("/usr/bin/openssl", mk("openssl"), 0o755)
	final.File("/usr/lib/"+tr+"/libsocatdata.so", rootfstest.ELF(rootfstest.ELFSpec{Needed: []string{"libc.so.6"}, Payload: []byte("lib")}), 0o644)
	// A shell copied in with mode 0644 and a byte appended: nothing to
	// compare it with, runnable through ld.so.
	final.File("/app/x", append(dash, 0), 0o644)
	// A tool copied from the base under another name, and hard-linked.
	final.File("/app/tool.pl", []byte("#!/usr/bin/perl\nuse strict;\n"), 0o755)
	final.File("/app/data.txt", []byte("x"), 0o644)
	final.Symlink("/opt/usr", "/usr")
	final.Symlink("/app/bin", "/usr/bin")
	pkgs := append(basePkgs(tr),
		pkg{name: "perl-base", files: []string{"/usr/bin/perl", "/usr/lib/" + tr + "/perl-base/strict.pm", "/usr/share/locale-data/perl.dat"}},
		pkg{name: "mawk", files: []string{"/usr/bin/mawk"}},
		pkg{name: "mksh", files: []string{"/usr/bin/mksh-static", "/usr/share/mksh/dot.mkshrc"}},
		pkg{name: "socat", files: []string{"/usr/bin/socat1", "/usr/lib/" + tr + "/libsocatdata.so"}},
		pkg{name: "openssl", files: []string{"/usr/bin/openssl"}},
		// dpkg lists /lib too, the symlink on the way to the loader: a
		// directory entry never seeds the closure.
		pkg{name: "dpkg", files: []string{"/lib", "/usr/bin/dpkg"}},
	)
	writeDpkg(final, pkgs)
	// perl-base depends on libc6 (and dpkg, a tool, whose files stay out).
	status := string(final.Read("/var/lib/dpkg/status"))
	status = strings.Replace(status, "Package: perl-base\n", "Package: perl-base\nPre-Depends: libc6 (>= 2.36), dpkg (>= 1.17.17)\n", 1)
	final.File("/var/lib/dpkg/status", []byte(status), 0o644)
	return base, final
}

func TestRebaseAllowlist(t *testing.T) {
	tr := rootfstest.Triple()
	base, final := allowlistFinal(t)
	ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = []string{"/app/tool.pl"} })
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := final.Load()
	checkInvariants(t, ft, ks)
	for _, p := range []string{
		"/app/tool.pl", "/app/data.txt", "/usr/bin/perl", "/usr/lib/" + tr + "/libc.so.6",
		// perl-base came with the base image; its modules and data ship
		// because the image runs perl.
		"/usr/lib/" + tr + "/perl-base/strict.pm", "/usr/share/locale-data/perl.dat",
		// Symlinks ship as symlinks; their targets are directories only.
		"/opt/usr", "/usr", "/app/bin", "/usr/bin",
	} {
		if !slices.Contains(ks.Paths, p) {
			t.Errorf("%s not kept", p)
		}
	}
	for _, p := range []string{
		"/usr/bin/mksh-static", "/usr/share/mksh/dot.mkshrc", "/usr/bin/socat1", "/usr/bin/openssl", "/usr/lib/" + tr + "/libsocatdata.so",
		"/app/x", "/usr/bin/mawk", "/usr/bin/ls", "/usr/bin/dash", "/usr/bin/dpkg",
	} {
		if slices.Contains(ks.Paths, p) {
			t.Errorf("%s kept: %s", p, ks.Reasons[p])
		}
	}
	if _, ok := ks.RuntimePackages["perl-base"]; !ok {
		t.Errorf("runtime packages %v lack perl-base", ks.RuntimePackages)
	}
	for _, p := range []string{"dpkg", "mksh", "socat", "openssl", "mawk"} {
		if why, ok := ks.RuntimePackages[p]; ok {
			t.Errorf("%s in the runtime closure: %s", p, why)
		}
	}
	dropped := map[string]string{}
	for _, d := range ks.NotAllowed {
		dropped[d.Path] = d.Reason
	}
	if r := dropped["/usr/bin/socat1"]; !strings.Contains(r, "package socat is not in the runtime closure") {
		t.Errorf("socat1 dropped for %q", r)
	}
	removed := map[string]tooling.Match{}
	for _, m := range ks.Removed {
		removed[m.Path] = m
	}
	if m := removed["/app/x"]; m.Category != tooling.Shell || m.Reason != tooling.ReasonShellBinary {
		t.Errorf("/app/x removed as %+v, want a shell by content", m)
	}
	allowed := map[string]string{}
	for _, a := range ks.Executables {
		allowed[a.Path] = a.Reason
	}
	if !strings.HasPrefix(allowed["/app/tool.pl"], "entrypoint") || !strings.HasPrefix(allowed["/usr/bin/perl"], "entrypoint") {
		t.Errorf("executables %v", allowed)
	}
	if _, ok := allowed["/usr/lib/"+tr+"/perl-base/strict.pm"]; ok {
		t.Error("strict.pm listed as an executable")
	}
}

// TestRebasePolicyKeepContent: a path the policy keeps is still checked by
// content.
func TestRebasePolicyKeepContent(t *testing.T) {
	bb := rootfstest.HostFile(t, "/usr/bin/busybox")
	base, final := allowlistFinal(t)
	final.File("/usr/bin/tini", bb, 0o755)
	_, err := rebase(t, base, final, func(in *RebaseInput) {
		in.Entrypoint = []string{"/app/tool.pl"}
		in.Keep = []string{"/usr/bin/tini"}
	})
	var ce *ContentError
	if !errors.As(err, &ce) || ce.Path != "/usr/bin/tini" || !strings.Contains(err.Error(), "policy keep /usr/bin/tini") {
		t.Fatalf("err = %v, want a ContentError naming /usr/bin/tini", err)
	}
}

// TestRebaseRenamedShellEntrypoint: the entrypoint itself being a shell
// under another name fails.
func TestRebaseRenamedShellEntrypoint(t *testing.T) {
	base, final := allowlistFinal(t)
	final.File("/app/x", []byte{}, 0o755)
	final.CopyELF("/usr/bin/dash", "/app/server-bin", 0o755)
	_, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = []string{"/app/server-bin"} })
	var ee *EntrypointError
	if !errors.As(err, &ee) || ee.Needs != "/app/server-bin" || ee.Match.Category != tooling.Shell {
		t.Fatalf("err = %v, want an EntrypointError for the renamed shell", err)
	}
}

func TestParseHeader(t *testing.T) {
	interp := "/lib64/ld-linux-x86-64.so.2"
	tests := []struct {
		name string
		b    []byte
		want header
	}{
		{"script", []byte("#!/bin/sh\n"), header{exec: true}},
		{"text", []byte("hello"), header{}},
		{"executable", rootfstest.ELF(rootfstest.ELFSpec{Interp: interp}), header{elf: true, exec: true}},
		{"library", rootfstest.ELF(rootfstest.ELFSpec{Needed: []string{"libc.so.6"}}), header{elf: true}},
		{"short", []byte("\x7fELF"), header{}},
	}
	for _, tc := range tests {
		if got := parseHeader(tc.b); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestUnknownInterpreters: an interpreter hardenkit has no runtime
// knowledge of is named at build time; python and package-owned ones are
// not.
func TestUnknownInterpreters(t *testing.T) {
	tree := rootfstest.New(t).
		File("/usr/local/bin/ruby", []byte("x"), 0o755).
		File("/usr/bin/perl", []byte("x"), 0o755).
		File("/usr/bin/python3.11", []byte("x"), 0o755).
		Dir("/usr/lib/python3.11").
		File("/app/server", []byte("x"), 0o755)
	tr, _ := tree.Load()
	owned := func(p string) bool { return p == "/usr/bin/perl" }
	tests := []struct {
		exe     string
		scripts []string
		want    string
	}{
		{exe: "/usr/local/bin/ruby", want: "runs /usr/local/bin/ruby, an interpreter hardenkit does not know"},
		{exe: "/app/server", scripts: []string{"/usr/local/bin/ruby"}, want: "/usr/local/bin/ruby"},
		{exe: "/usr/bin/perl"},
		{exe: "/usr/bin/python3.11"},
		{exe: "/app/server"},
	}
	for _, tc := range tests {
		notes := unknownInterpreters(tr, []string{tc.exe}, tc.scripts, []string{tc.exe}, owned)
		if tc.want == "" && len(notes) != 0 || tc.want != "" && (len(notes) != 1 || !strings.Contains(notes[0], tc.want)) {
			t.Errorf("%s %v: notes %q, want %q", tc.exe, tc.scripts, notes, tc.want)
		}
	}
}
