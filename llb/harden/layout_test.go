package harden

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// TestLayout: every image gets base-files' layout; the image's user gets
// its home; what ships keeps its metadata except where the rule says.
func TestLayout(t *testing.T) {
	tests := []struct {
		name    string
		tree    map[string]string
		links   map[string]string
		modes   map[string]os.FileMode
		passwd  string
		owner   *owner
		owned   []string
		sticky  bool
		want    []string
		notWant []string
	}{
		{
			name: "scratch image, injected user", owner: &owner{65532, 65532},
			passwd: "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
			want: []string{"/home 0755 0:0", "/home/nonroot 0700 65532:65532", "/run 0755 0:0", "/run/lock 1777 0:0",
				"/tmp 1777 0:0", "/var 0755 0:0", "/var/lock -> /run/lock", "/var/run -> /run"},
		},
		{
			name: "debian image: shipped links and dirs keep theirs, /run is handed over", owner: &owner{65532, 65532},
			tree:   map[string]string{"var/": "", "run/": "", "tmp/": "", "home/": "", "opt/": ""},
			links:  map[string]string{"var/run": "/run", "var/lock": "/run/lock"},
			modes:  map[string]os.FileMode{"tmp": 0o755 | os.ModeSticky, "var": 0o750},
			owned:  []string{"/run"},
			passwd: "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
			want:   []string{"/run 0755 65532:65532", "/tmp 1777 0:0", "/home/nonroot 0700 65532:65532", "/run/lock 1777 0:0"},
			// /var/run and /var/lock ship as links: nothing to add.
			notWant: []string{"/var/run ->", "/var/lock ->", "/var 0"},
		},
		{
			name: "a /var/run directory stays", tree: map[string]string{"var/run/app/": ""},
			want: []string{"/var/lock -> /run/lock"}, notWant: []string{"/var/run ->", "/home"},
		},
		{
			name: "named user with a system home gets none", owner: &owner{100, 101},
			passwd: "redis:x:100:101::/nonexistent:/usr/sbin/nologin\n",
			want:   []string{"/tmp 1777 0:0"}, notWant: []string{"/home", "/nonexistent"},
		},
		{
			name: "named user whose home ships outside system dirs", owner: &owner{100, 101},
			tree:   map[string]string{"var/lib/redis/": ""},
			passwd: "redis:x:100:101::/var/lib/redis:/usr/sbin/nologin\n",
			want:   []string{"/var/lib/redis 0755 100:101", "/var/lib 0755 0:0"},
		},
		{
			name: "/home as a symlink is not written through", owner: &owner{65532, 65532},
			tree: map[string]string{"var/home/": ""}, links: map[string]string{"home": "var/home"},
			passwd:  "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
			notWant: []string{"/home/nonroot", "/home 0"},
		},
		{
			name: "postgres' chmod 2777 run directory gets the sticky bit and the user", owner: &owner{100, 101}, sticky: true,
			tree:  map[string]string{"run/postgresql/": "", "var/lib/php/sessions/": "", "app/uploads/": "", "app/x": "x"},
			modes: map[string]os.FileMode{"run/postgresql": 0o777 | os.ModeSetgid, "var/lib/php/sessions": 0o733 | os.ModeSticky, "app/uploads": 0o777, "app/x": 0o777},
			owned: []string{"/run"},
			want: []string{"/run/postgresql 1777 100:101 (sticky bit: world-writable)", "/app/uploads 1777 0:0 (sticky bit: world-writable)",
				"/app 0755 0:0", "/run 0755 100:101"},
			// A sticky directory is left as it is; a file gets no sticky bit.
			notWant: []string{"/var/lib/php/sessions", "/app/x"},
		},
		{
			name: "with HK2041 off nothing is changed", sticky: false,
			tree: map[string]string{"app/uploads/": ""}, modes: map[string]os.FileMode{"app/uploads": 0o777},
			notWant: []string{"/app/uploads", "sticky"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.tree)
			for l, target := range tt.links {
				if err := os.Symlink(target, filepath.Join(dir, l)); err != nil {
					t.Fatal(err)
				}
			}
			for p, m := range tt.modes {
				if err := os.Chmod(filepath.Join(dir, p), m); err != nil {
					t.Fatal(err)
				}
			}
			final, err := rootfs.Load(context.Background(), rootfs.DirSource(dir))
			if err != nil {
				t.Fatal(err)
			}
			shipped := map[string]bool{}
			uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
			for _, p := range final.Paths() {
				shipped[p] = true
			}
			entries, _ := decideLayout(layoutInput{final: final, shipped: shipped, owned: tt.owned, owner: tt.owner, passwd: []byte(tt.passwd), sticky: tt.sticky})
			var got []string
			for _, e := range entries {
				if e.Link != "" {
					got = append(got, e.Path+" -> "+e.Link)
					continue
				}
				// The test's files belong to whoever runs it: show them as root's.
				if e.UID == uid && e.GID == gid {
					e.UID, e.GID = 0, 0
				}
				line := fmt.Sprintf("%s %04o %d:%d", e.Path, e.Mode, e.UID, e.GID)
				if e.Why != "" {
					line += " (" + e.Why + ")"
				}
				got = append(got, line)
			}
			all := strings.Join(got, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("layout lacks %q:\n%s", w, all)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(all, w) {
					t.Errorf("layout has %q:\n%s", w, all)
				}
			}
		})
	}
}
