package keep

import (
	"debug/elf"
	"reflect"
	"slices"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

func TestPackageMetadata(t *testing.T) {
	tests := []struct {
		name        string
		build       func(*rootfstest.Layout)
		kept        []string
		wantKept    []string
		wantDropped []string
		wantPaths   []string
		wantGen     map[string]string
	}{
		{
			name: "apk",
			build: func(l *rootfstest.Layout) {
				l.File("/lib/ld-musl-x86_64.so.1", []byte("x"), 0o755)
				l.File("/usr/lib/libz.so.1", []byte("x"), 0o644)
				l.File("/bin/busybox", []byte("x"), 0o755)
				l.File("/lib/apk/db/installed", []byte("C:Q1aa\nP:musl\nV:1.2.4\nF:lib\nR:ld-musl-x86_64.so.1\n\nC:Q1bb\nP:busybox\nF:bin\nR:busybox\n\nP:zlib\nF:usr/lib\nR:libz.so.1\n\nP:alpine-base\nV:3.19\n\n"), 0o644)
				l.File("/lib/apk/db/scripts.tar", []byte("x"), 0o644)
			},
			kept:        []string{"/lib/ld-musl-x86_64.so.1", "/usr/lib/libz.so.1"},
			wantKept:    []string{"musl", "zlib"},
			wantDropped: []string{"alpine-base", "busybox"},
			wantPaths:   []string{"/lib/apk/db/installed"},
			wantGen:     map[string]string{"/lib/apk/db/installed": "C:Q1aa\nP:musl\nV:1.2.4\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:zlib\nF:usr/lib\nR:libz.so.1\n\n"},
		},
		{
			name: "distroless status.d",
			build: func(l *rootfstest.Layout) {
				l.File("/etc/os-release", []byte("x"), 0o644)
				l.File("/usr/bin/tool", []byte("x"), 0o755)
				l.File("/var/lib/dpkg/status.d/base", []byte("Package: base-files\n"), 0o644)
				l.File("/var/lib/dpkg/status.d/base.md5sums", []byte("0123  etc/os-release\n"), 0o644)
				l.File("/var/lib/dpkg/status.d/tool", []byte("Package: tool\n"), 0o644)
				l.File("/var/lib/dpkg/status.d/tool.md5sums", []byte("0123  usr/bin/tool\n"), 0o644)
				l.File("/var/lib/dpkg/status.d/netbase", []byte("Package: netbase\n"), 0o644)
			},
			kept:        []string{"/etc/os-release"},
			wantKept:    []string{"base", "netbase"},
			wantDropped: []string{"tool"},
			wantPaths:   []string{"/var/lib/dpkg/status.d/base", "/var/lib/dpkg/status.d/base.md5sums", "/var/lib/dpkg/status.d/netbase"},
		},
		{
			name: "documentation does not keep a package",
			build: func(l *rootfstest.Layout) {
				l.File("/usr/share/doc/bash/copyright", []byte("x"), 0o644)
				l.File("/var/lib/dpkg/status", []byte("Package: bash\nStatus: install ok installed\nArchitecture: amd64\n"), 0o644)
				l.File("/var/lib/dpkg/info/bash.list", []byte("/.\n/usr/share/doc/bash/copyright\n/bin/bash\n"), 0o644)
			},
			kept:        []string{"/usr/share/doc/bash/copyright"},
			wantDropped: []string{"bash"},
			wantPaths:   []string{"/var/lib/dpkg/status"},
			wantGen:     map[string]string{"/var/lib/dpkg/status": ""},
		},
		{
			name:  "no database",
			build: func(l *rootfstest.Layout) { l.Dir("/app") },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := rootfstest.New(t)
			tc.build(l)
			tree, src := l.Load()
			m, err := PackageMetadata(t.Context(), tree, src, func(p string) bool { return slices.Contains(tc.kept, p) })
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Kept, tc.wantKept) || !reflect.DeepEqual(m.Dropped, tc.wantDropped) {
				t.Errorf("Kept = %q Dropped = %q; want %q %q", m.Kept, m.Dropped, tc.wantKept, tc.wantDropped)
			}
			if !reflect.DeepEqual(m.Paths, tc.wantPaths) {
				t.Errorf("Paths = %q, want %q", m.Paths, tc.wantPaths)
			}
			for p, want := range tc.wantGen {
				if got := string(m.Generated[p]); got != want {
					t.Errorf("Generated[%s] =\n%q\nwant\n%q", p, got, want)
				}
			}
		})
	}
}

// TestRebaseRuntimes covers interpreters recognised from the entrypoint
// with hand-made objects, so it runs the same on every host.
func TestRebaseRuntimes(t *testing.T) {
	const ld = "/lib64/ld-linux-x86-64.so.2"
	const tr = "/usr/lib/x86_64-linux-gnu"
	x := func(s rootfstest.ELFSpec) []byte {
		s.Machine = elf.EM_X86_64
		return rootfstest.MustELF(t, rootfstest.ELF(s))
	}
	build := func(l *rootfstest.Layout) {
		l.Dir("/usr/bin").Dir(tr).Dir("/lib64").Symlink("/lib", "usr/lib").Dir("/tmp")
		l.File(tr+"/ld-linux-x86-64.so.2", x(rootfstest.ELFSpec{}), 0o755)
		l.Symlink(ld, "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
		l.File(tr+"/libc.so.6", x(rootfstest.ELFSpec{}), 0o755)
		l.File(tr+"/libnss_files.so.2", x(rootfstest.ELFSpec{Needed: []string{"libc.so.6"}}), 0o644)
		l.File(tr+"/libunused.so.1", x(rootfstest.ELFSpec{}), 0o644)
		// A JDK reached through Debian's alternatives.
		jdk := "/usr/lib/jvm/java-17"
		l.File(jdk+"/bin/java", x(rootfstest.ELFSpec{Interp: ld, Needed: []string{"libjli.so", "libc.so.6"}, RunPath: "$ORIGIN/../lib"}), 0o755)
		l.File(jdk+"/lib/libjli.so", x(rootfstest.ELFSpec{Needed: []string{"libc.so.6"}}), 0o644)
		l.File(jdk+"/lib/server/libjvm.so", x(rootfstest.ELFSpec{Needed: []string{"libz.so.1"}}), 0o644)
		l.File(tr+"/libz.so.1", x(rootfstest.ELFSpec{}), 0o644)
		l.File(jdk+"/lib/modules", []byte("jimage"), 0o644)
		l.Symlink(jdk+"/lib/security/cacerts", "/etc/ssl/certs/java/cacerts")
		l.File("/etc/ssl/certs/java/cacerts", []byte("keystore"), 0o644)
		l.Symlink("/etc/alternatives/java", jdk+"/bin/java")
		l.Symlink("/usr/bin/java", "/etc/alternatives/java")
		// Node under /usr/local with global modules, npm among them.
		l.File("/usr/local/bin/node", x(rootfstest.ELFSpec{Interp: ld, Needed: []string{"libc.so.6"}}), 0o755)
		l.File("/usr/local/lib/node_modules/left-pad/index.js", []byte("module.exports=1"), 0o644)
		l.File("/usr/local/lib/node_modules/npm/bin/npm-cli.js", []byte("npm"), 0o755)
		l.Symlink("/usr/local/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js")
	}
	base, final := rootfstest.New(t), rootfstest.New(t)
	build(base)
	build(final)
	base.Stamp(epoch)
	final.Stamp(epoch)
	final.File("/app/app.jar", []byte("PK"), 0o644)
	final.File("/app/index.js", []byte("1"), 0o644)
	final.File("/app/bin/server", x(rootfstest.ELFSpec{Interp: ld, Needed: []string{"libc.so.6"}}), 0o755)

	tests := []struct {
		name       string
		entrypoint []string
		workdir    string
		want       []string
		notWant    []string
	}{
		{
			name:       "java",
			entrypoint: []string{"java", "-jar", "/app/app.jar"},
			want: []string{
				"/usr/bin/java", "/etc/alternatives/java", "/usr/lib/jvm/java-17/bin/java",
				"/usr/lib/jvm/java-17/lib/libjli.so", "/usr/lib/jvm/java-17/lib/modules",
				"/usr/lib/jvm/java-17/lib/server/libjvm.so", tr + "/libz.so.1",
				"/usr/lib/jvm/java-17/lib/security/cacerts", "/etc/ssl/certs/java/cacerts",
				tr + "/libnss_files.so.2",
			},
			notWant: []string{"/usr/local/lib/node_modules/left-pad/index.js", tr + "/libunused.so.1"},
		},
		{
			name:       "node",
			entrypoint: []string{"node", "/app/index.js"},
			want:       []string{"/usr/local/bin/node", "/usr/local/lib/node_modules/left-pad/index.js"},
			notWant:    []string{"/usr/local/lib/node_modules/npm/bin/npm-cli.js", "/usr/local/bin/npm", "/usr/lib/jvm/java-17/lib/modules"},
		},
		{
			name:       "relative to the working directory",
			entrypoint: []string{"./bin/server"},
			workdir:    "/app",
			want:       []string{"/app/bin/server", tr + "/libc.so.6"},
			notWant:    []string{"/usr/lib/jvm/java-17/lib/modules", "/usr/local/lib/node_modules/left-pad/index.js"},
		},
	}
	bt, _ := base.Load()
	ft, src := final.Load()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := Rebase(t.Context(), RebaseInput{Base: bt, Final: ft, Src: src, Entrypoint: tc.entrypoint, WorkingDir: tc.workdir, Tooling: tooling.DefaultLists()})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, ft, ks)
			for _, p := range tc.want {
				if !slices.Contains(ks.Paths, p) {
					t.Errorf("%s not kept", p)
				}
			}
			for _, p := range tc.notWant {
				if slices.Contains(ks.Paths, p) {
					t.Errorf("%s kept: %s", p, ks.Reasons[p])
				}
			}
		})
	}
}
