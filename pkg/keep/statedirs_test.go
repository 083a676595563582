package keep

import (
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

// TestStateDirs: the directories a non-root image user is given are /run
// and the closure packages' own directories below /var/lib, /var/cache,
// /var/log and /var/spool — not the roots themselves, not another
// package's, not a symlink, and not a subdirectory of one already given.
func TestStateDirs(t *testing.T) {
	tr := rootfstest.Triple()
	base, final := allowlistFinal(t)
	final.Dir("/run")
	final.Dir("/var/lib/perl-state/sessions")
	final.Dir("/var/log/perl")
	final.Dir("/var/lib/mksh")
	final.Symlink("/var/cache/perl", "/tmp")
	// perl-base (in the closure) lists its state directories; mksh (a
	// shell, outside it) lists its own.
	list := func(pkg string, extra ...string) {
		p := "/var/lib/dpkg/info/" + pkg + ".list"
		final.File(p, []byte(string(final.Read(p))+strings.Join(extra, "\n")+"\n"), 0o644)
	}
	list("perl-base", "/var/lib/perl-state", "/var/lib/perl-state/sessions", "/var/log/perl", "/var/cache/perl", "/var/lib")
	list("mksh", "/var/lib/mksh")
	ks, err := rebase(t, base, final, func(in *RebaseInput) {
		in.Entrypoint = []string{"/app/tool.pl"}
		in.Keep = []string{"/run", "/var/lib/perl-state", "/var/log/perl", "/var/lib/mksh", "/var/cache/perl"}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/run", "/var/lib/perl-state", "/var/log/perl"}
	if !slices.Equal(ks.StateDirs, want) {
		t.Errorf("state dirs = %v, want %v (kept: %v; closure %v; triple %s)", ks.StateDirs, want, ks.Paths, ks.RuntimePackages, tr)
	}
}
