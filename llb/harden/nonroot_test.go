package harden

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// debianPasswd is the head of Debian bookworm's base-passwd /etc/passwd.
const debianPasswd = "root:x:0:0:root:/root:/bin/bash\n" +
	"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
	"sync:x:4:65534:sync:/bin:/bin/sync\n" +
	"app:x:1000:1000::/home/app:/bin/sh\n"

// TestLoginShellsThatDoNotShipBecomeNologin: hardening removes bash and
// sync, so the passwd it ships names nologin for them (HK3022), whether
// or not it also injects the user; a shell that ships stays.
func TestLoginShellsThatDoNotShipBecomeNologin(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"etc", "usr/bin", "usr/sbin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("usr/bin", filepath.Join(dir, "bin")); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"etc/passwd": debianPasswd, "etc/group": "root:x:0:\napp:x:1000:\n",
		"usr/bin/bash": "bash", "usr/bin/sync": "sync", "usr/bin/sh": "sh", "usr/sbin/nologin": "nologin"}
	for name, dt := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(dt), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src := rootfs.DirSource(dir)
	final, err := rootfs.Load(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"/", "/etc", "/etc/passwd", "/etc/group", "/usr", "/usr/bin"}
	tests := []struct {
		name, user string
		paths      []string
		want       string
	}{
		{
			name: "injected, shells removed", paths: base,
			want: "root:x:0:0:root:/root:/usr/sbin/nologin\n" +
				"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
				"sync:x:4:65534:sync:/bin:/usr/sbin/nologin\n" +
				"app:x:1000:1000::/home/app:/usr/sbin/nologin\n" +
				"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
		},
		{
			name: "USER app, shells removed", user: "app", paths: base,
			want: "root:x:0:0:root:/root:/usr/sbin/nologin\n" +
				"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
				"sync:x:4:65534:sync:/bin:/usr/sbin/nologin\n" +
				"app:x:1000:1000::/home/app:/usr/sbin/nologin\n",
		},
		{
			// /bin/sh is reached through the /bin link: both must ship.
			name: "USER app, sh ships", user: "app", paths: append([]string{"/bin", "/usr/bin/sh"}, base...),
			want: "root:x:0:0:root:/root:/usr/sbin/nologin\n" +
				"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
				"sync:x:4:65534:sync:/bin:/usr/sbin/nologin\n" +
				"app:x:1000:1000::/home/app:/bin/sh\n",
		},
		{
			name: "USER app, sh ships but not the /bin link", user: "app", paths: append([]string{"/usr/bin/sh"}, base...),
			want: "root:x:0:0:root:/root:/usr/sbin/nologin\n" +
				"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
				"sync:x:4:65534:sync:/bin:/usr/sbin/nologin\n" +
				"app:x:1000:1000::/home/app:/usr/sbin/nologin\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := &dockerspec.DockerOCIImage{}
			img.Config.User = tt.user
			in := Input{Image: img, Config: strictConfig(nil)}
			plan := fsPlan{paths: tt.paths, generated: map[string][]byte{}}
			for i := 0; i < 2; i++ {
				id, err := resolveUser(context.Background(), in, final, src, plan)
				if err != nil {
					t.Fatal(err)
				}
				if got := string(id.generated[passwdPath]); got != tt.want {
					t.Fatalf("shipped passwd:\n%s\nwant:\n%s", got, tt.want)
				}
			}
		})
	}

	// Every shell ships: passwd ships unchanged, nothing is generated.
	img := &dockerspec.DockerOCIImage{}
	img.Config.User = "app"
	all := append([]string{"/bin", "/usr/bin/bash", "/usr/bin/sync", "/usr/bin/sh"}, base...)
	id, err := resolveUser(context.Background(), Input{Image: img, Config: strictConfig(nil)}, final, src, fsPlan{paths: all, generated: map[string][]byte{}})
	if err != nil {
		t.Fatal(err)
	}
	if id.generated != nil || id.user != "1000:1000" {
		t.Errorf("every shell ships: generated %q, user %q; want nothing generated, 1000:1000", id.generated, id.user)
	}
}
