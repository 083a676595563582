package keep

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

// removedFinal is debianFinal with what a kept program could load and the
// rebase leaves out: a library the server dlopen()s (as zlib1g installs
// it), glibc's NSS and iconv modules, a Perl module of a package outside
// the closure, /etc/services, and a package's documentation.
func removedFinal(t *testing.T) (base, final *rootfstest.Layout) {
	tr := rootfstest.Triple()
	interp := hostInterp(t)
	base, final = debianFinal(t)
	lib := "/usr/lib/" + tr
	perl := rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: []string{"libc.so.6"}, Payload: []byte("perl")})
	for _, l := range []*rootfstest.Layout{base, final} {
		l.File(lib+"/libz.so.1.2.13", rootfstest.ELF(rootfstest.ELFSpec{Needed: []string{"libc.so.6"}, Payload: []byte("zlib")}), 0o644)
		l.Symlink(lib+"/libz.so.1", "libz.so.1.2.13")
		l.File(lib+"/gconv/UTF-16.so", rootfstest.ELF(rootfstest.ELFSpec{Payload: []byte("gconv")}), 0o644)
		l.File(lib+"/gconv/gconv-modules", []byte("module UTF-16// INTERNAL UTF-16 1\n"), 0o644)
		l.File("/etc/services", []byte("http 80/tcp\n"), 0o644)
		l.File("/etc/protocols", []byte("tcp 6 TCP\n"), 0o644)
		l.File("/etc/nsswitch.conf", []byte("passwd: files\nservices:   db files # comment\nprotocols: db\n"), 0o644)
		l.File("/usr/bin/perl", perl, 0o755)
		l.File("/usr/share/perl5/Debconf/Db.pm", []byte("package Debconf::Db;\n"), 0o644)
		l.File("/usr/share/doc/zlib1g/copyright", []byte("zlib"), 0o644)
		writeDpkg(l, append(basePkgs(tr),
			pkg{name: "zlib1g", multiSame: true, files: []string{lib + "/libz.so.1.2.13", lib + "/libz.so.1", "/usr/share/doc/zlib1g/copyright"}},
			pkg{name: "netbase", files: []string{"/etc/services", "/etc/protocols"}},
			pkg{name: "perl-base", files: []string{"/usr/bin/perl"}},
			pkg{name: "debconf", files: []string{"/usr/share/perl5/Debconf/Db.pm"}},
		))
		l.Stamp(epoch)
	}
	return base, final
}

func TestRebaseListsLoadableLeftOut(t *testing.T) {
	tr := rootfstest.Triple()
	lib := "/usr/lib/" + tr
	for _, tc := range []struct {
		name       string
		entrypoint []string
		// listed maps a path to a word its reason must contain; "" means
		// the path must not be listed as loadable.
		listed map[string]string
		// summary are the package summaries that must be present.
		summary []string
	}{
		{
			name:       "C program",
			entrypoint: []string{"/app/server"},
			listed: map[string]string{
				lib + "/libz.so.1": "dlopen", lib + "/libz.so.1.2.13": "dlopen", lib + "/gconv/UTF-16.so": "dlopen",
				lib + "/gconv/gconv-modules": "iconv", "/etc/services": `"services" database`,
				"/etc/protocols": "", "/usr/share/perl5/Debconf/Db.pm": "", "/usr/share/doc/zlib1g/copyright": "", "/etc/motd": "",
			},
			summary: []string{"debconf 1.0: 1", "netbase 1.0: 1", "zlib1g 1.0: 1", "perl-base 1.0: 1", "dir /etc: 1"},
		},
		{
			name:       "Perl program",
			entrypoint: []string{"perl", "/app/config.json"},
			listed: map[string]string{
				"/usr/share/perl5/Debconf/Db.pm": "module under perl's module search path, and the image runs /usr/bin/perl",
				lib + "/libz.so.1":               "shared object",
			},
			summary: []string{"zlib1g 1.0: 1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, final := removedFinal(t)
			ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = tc.entrypoint })
			if err != nil {
				t.Fatal(err)
			}
			ft, _ := final.Load()
			checkInvariants(t, ft, ks)
			checkAccounted(t, ft, ks)
			loadable := map[string]string{}
			for _, d := range ks.NotAllowed {
				if d.Loadable {
					loadable[d.Path] = d.Reason
				}
			}
			for p, want := range tc.listed {
				got, ok := loadable[p]
				switch {
				case want == "" && ok:
					t.Errorf("%s listed as loadable (%q); nothing kept loads it", p, got)
				case want != "" && !strings.Contains(got, want):
					t.Errorf("%s: listed %v with reason %q, want a reason with %q", p, ok, got, want)
				}
			}
			var summary []string
			for _, s := range ks.LeftOut.Packages {
				if s.Package != "" {
					summary = append(summary, fmt.Sprintf("%s %s: %d", s.Package, s.Version, s.Files))
				} else {
					summary = append(summary, fmt.Sprintf("dir %s: %d", s.Dir, s.Files))
				}
			}
			for _, want := range tc.summary {
				if !slices.Contains(summary, want) {
					t.Errorf("summary %q lacks %q", summary, want)
				}
			}
		})
	}
}

// checkAccounted checks that every file of the final tree ships, is
// listed (a tooling match, covering its subtree, or a NotAllowed path), or
// is counted in exactly one LeftOut summary.
func checkAccounted(t *testing.T, ft *rootfs.Tree, ks KeepSet) {
	t.Helper()
	listed := map[string]bool{}
	for _, m := range ks.Removed {
		listed[m.Path] = true
	}
	for _, d := range ks.NotAllowed {
		if len(d.OutsideClosure) == 0 {
			listed[d.Path] = true
		}
	}
	want := 0
	for _, e := range ft.Entries() {
		if e.IsDir() || slices.Contains(ks.Paths, e.Path) {
			continue
		}
		covered := listed[e.Path]
		for _, d := range rootfs.Parents(e.Path) {
			covered = covered || listed[d]
		}
		if !covered {
			want++
		}
	}
	got := 0
	for _, s := range ks.LeftOut.Packages {
		got += s.Files
	}
	if got != want {
		t.Errorf("LeftOut summaries count %d files, want %d (every file left out and not listed)", got, want)
	}
}

func TestRebaseLoadableBound(t *testing.T) {
	loadable := func(ks KeepSet) []string {
		var out []string
		for _, d := range ks.NotAllowed {
			if d.Loadable {
				out = append(out, d.Path)
			}
		}
		return out
	}
	base, final := removedFinal(t)
	ks, err := rebase(t, base, final, nil)
	if err != nil {
		t.Fatal(err)
	}
	baseline := len(loadable(ks))

	// Plugins of the base image, loadable by path, outnumber the bound and
	// sort before /usr/lib: the shared objects on the search path still
	// come first.
	extra := MaxLoadableListed + 5
	base, final = removedFinal(t)
	for _, l := range []*rootfstest.Layout{base, final} {
		for i := range extra {
			l.File(fmt.Sprintf("/opt/plugins/p%04d.so", i), []byte("plugin"), 0o644)
		}
		l.Stamp(epoch)
	}
	ks, err = rebase(t, base, final, nil)
	if err != nil {
		t.Fatal(err)
	}
	listed := loadable(ks)
	if len(listed) != MaxLoadableListed {
		t.Fatalf("%d loadable files listed, want the bound %d", len(listed), MaxLoadableListed)
	}
	if want := baseline + extra - MaxLoadableListed; ks.LeftOut.LoadableOmitted != want {
		t.Errorf("LoadableOmitted = %d, want %d", ks.LeftOut.LoadableOmitted, want)
	}
	if tr := rootfstest.Triple(); !slices.Contains(listed, "/usr/lib/"+tr+"/libz.so.1") {
		t.Error("libz.so.1, on the library search path, is not among the listed shared objects")
	}
	ft, _ := final.Load()
	checkAccounted(t, ft, ks)
}
