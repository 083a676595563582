package keep

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// TestPackageCopy: a package's program copied under another name — from
// the image's own packages or from another source of the build, exactly or
// with a byte appended — is that package's executable: it ships when the
// image runs it and is left out, naming the package, when it does not. The
// application's own program still ships.
func TestPackageCopy(t *testing.T) {
	ls := rootfstest.HostFile(t, "/usr/bin/ls")
	app := rootfstest.ELF(rootfstest.ELFSpec{Interp: hostInterp(t), Needed: []string{"libc.so.6"}, Payload: []byte("the application")})
	tests := []struct {
		name       string
		entrypoint []string
		files      map[string][]byte
		wantKept   []string
		wantDrop   map[string]string // path → part of the reason
	}{
		{name: "exact copy, not run", entrypoint: []string{"/app/server"},
			files:    map[string][]byte{"/app/bin/worker": ls},
			wantKept: []string{"/app/server"},
			wantDrop: map[string]string{"/app/bin/worker": "a copy of /usr/bin/ls of package coreutils"}},
		{name: "byte appended, not run", entrypoint: []string{"/app/server"},
			files:    map[string][]byte{"/opt/w": append(bytes.Clone(ls), 0)},
			wantDrop: map[string]string{"/opt/w": "/usr/bin/ls of package coreutils (same "}},
		{name: "copy the image runs", entrypoint: []string{"/app/bin/worker"},
			files:    map[string][]byte{"/app/bin/worker": ls},
			wantKept: []string{"/app/bin/worker"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, final := debianFinal(t)
			final.File("/app/server", app, 0o755)
			for p, b := range tc.files {
				final.File(p, b, 0o755)
			}
			ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = tc.entrypoint })
			if err != nil {
				t.Fatal(err)
			}
			assertCopies(t, ks, tc.wantKept, tc.wantDrop)
		})
	}
}

// TestPackageCopyLineage: perl copied out of another image into a scratch
// stage: only that image's dpkg database knows it is perl-base's, and
// lineage carries it as a program (Known without a Category).
func TestPackageCopyLineage(t *testing.T) {
	ls := rootfstest.HostFile(t, "/usr/bin/ls")
	src := rootfstest.New(t).Debian()
	src.File("/usr/bin/perl", ls, 0o755)
	writeMetaDpkg(src, []metaPkg{{"perl-base", "perl", "minimal Perl system", []string{"/usr/bin/perl"}}})
	st, ssrc := src.Load()
	known, err := IndexSource(t.Context(), st, ssrc, "image debian:bookworm", tooling.DefaultLists())
	if err != nil {
		t.Fatal(err)
	}
	final := rootfstest.New(t).Debian()
	final.File("/app/server", rootfstest.ELF(rootfstest.ELFSpec{Payload: []byte("static application")}), 0o755)
	final.File("/app/bin/worker", append(bytes.Clone(ls), 0), 0o755)
	ft, fsrc := final.Load()
	l := tooling.DefaultLists()
	l.Known = known
	ks, err := Rebase(t.Context(), RebaseInput{Base: nil, Final: ft, Src: fsrc, Entrypoint: []string{"/app/server"}, Tooling: l})
	if err != nil {
		t.Fatal(err)
	}
	assertCopies(t, ks, []string{"/app/server"},
		map[string]string{"/app/bin/worker": "image debian:bookworm /usr/bin/perl: a program, section perl (package perl-base)"})
}

func assertCopies(t *testing.T, ks KeepSet, wantKept []string, wantDrop map[string]string) {
	t.Helper()
	kept := map[string]bool{}
	for _, p := range ks.Paths {
		kept[p] = true
	}
	for _, p := range wantKept {
		if !kept[p] {
			t.Errorf("%s does not ship", p)
		}
	}
	for p, why := range wantDrop {
		if kept[p] {
			t.Errorf("%s ships: %s", p, ks.Reasons[p])
			continue
		}
		found := false
		for _, d := range ks.NotAllowed {
			found = found || d.Path == p && strings.Contains(d.Reason, why)
		}
		if !found {
			t.Errorf("%s not listed as left out with %q: %+v", p, why, ks.NotAllowed)
		}
	}
}
