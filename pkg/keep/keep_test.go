package keep

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

var epoch = time.Unix(1700000000, 0)

// hostInterp is the program interpreter of the host's /usr/bin/ls.
func hostInterp(t *testing.T) string {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(rootfstest.HostFile(t, "/usr/bin/ls")))
	if err != nil {
		t.Fatalf("host /usr/bin/ls: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				t.Fatal(err)
			}
			return strings.TrimRight(string(b), "\x00")
		}
	}
	t.Fatal("host /usr/bin/ls has no program interpreter: these tests need a dynamically linked coreutils")
	return ""
}

func debArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "amd64"
}

func stanza(name string, multiSame bool, status string) string {
	s := "Package: " + name + "\nStatus: " + status + "\nArchitecture: " + debArch() + "\n"
	if multiSame {
		s += "Multi-Arch: same\n"
	}
	return s + "Version: 1.0\nDescription: " + name + "\n continuation line\n"
}

type pkg struct {
	name      string
	multiSame bool
	status    string
	files     []string // nil: no .list file
}

func (p pkg) listName() string {
	if p.multiSame {
		return p.name + ":" + debArch()
	}
	return p.name
}

// writeDpkg writes a dpkg database for pkgs.
func writeDpkg(l *rootfstest.Layout, pkgs []pkg) {
	var status strings.Builder
	for _, p := range pkgs {
		st := p.status
		if st == "" {
			st = "install ok installed"
		}
		status.WriteString(stanza(p.name, p.multiSame, st) + "\n")
		if p.files != nil {
			l.File("/var/lib/dpkg/info/"+p.listName()+".list", []byte("/.\n"+strings.Join(p.files, "\n")+"\n"), 0o644)
			var sums strings.Builder
			for _, f := range p.files {
				fmt.Fprintf(&sums, "d41d8cd98f00b204e9800998ecf8427e  %s\n", strings.TrimPrefix(f, "/"))
			}
			l.File("/var/lib/dpkg/info/"+p.listName()+".md5sums", []byte(sums.String()), 0o644)
		}
	}
	l.File("/var/lib/dpkg/status", []byte(status.String()), 0o644)
}

func basePkgs(tr string) []pkg {
	return []pkg{
		{name: "base-files", files: []string{"/etc", "/etc/os-release"}},
		{name: "libc6", multiSame: true, files: []string{"/lib", "/lib/" + tr + "/libc.so.6"}},
		{name: "libselinux1", multiSame: true, files: []string{"/lib/" + tr + "/libselinux.so.1"}},
		{name: "bash", files: []string{"/bin/bash", "/usr/share/doc/bash/copyright"}},
		{name: "dash", files: []string{"/bin/dash", "/bin/sh"}},
		{name: "apt", files: []string{"/usr/bin/apt-get"}},
		{name: "coreutils", files: []string{"/bin/ls"}},
		{name: "tzdata", files: []string{"/usr/share/zoneinfo/UTC"}},
		{name: "meta", files: []string{"/usr", "/usr/share"}},
		{name: "old", status: "deinstall ok config-files", files: []string{}},
		{name: "nolist"},
	}
}

// debianBase lays out a small Debian base image with real host binaries.
func debianBase(t *testing.T, l *rootfstest.Layout) {
	interp := hostInterp(t)
	l.Debian()
	tr := rootfstest.Triple()
	l.CopyELF("/usr/bin/ls", "/usr/bin/ls", 0o755)
	l.CopyELF("/usr/bin/bash", "/usr/bin/bash", 0o755)
	l.CopyELF("/usr/bin/dash", "/usr/bin/dash", 0o755)
	l.Symlink("/usr/bin/sh", "dash")
	fake := rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: []string{"libc.so.6"}, Payload: []byte("apt")})
	l.File("/usr/bin/apt-get", fake, 0o755)
	l.File("/usr/bin/dpkg", rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: []string{"libc.so.6"}, Payload: []byte("dpkg")}), 0o755)
	l.File("/usr/bin/setuidtool", []byte("#!/bin/sh\n"), 0o755|os.ModeSetuid)
	l.File("/etc/passwd", []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644)
	l.File("/etc/group", []byte("root:x:0:\n"), 0o644)
	l.File("/etc/nsswitch.conf", []byte("passwd: files\n"), 0o644)
	l.File("/etc/os-release", []byte("ID=debian\n"), 0o644)
	l.File("/etc/motd", []byte("hello\n"), 0o644)
	l.File("/usr/share/zoneinfo/UTC", []byte("TZif2"), 0o644)
	l.File("/usr/share/doc/bash/copyright", []byte("GPL"), 0o644)
	l.Dir("/usr/share/appdata")
	l.File("/usr/share/appdata/table.bin", []byte("data"), 0o644)
	l.Dir("/root")
	l.File("/etc/ssl/private/ssl-cert-snakeoil.key", []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600)
	l.File("/etc/pki/tls/certs/ca-bundle.crt", []byte("cert"), 0o644)
	l.File("/etc/pki/tls/private/localhost.key", []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600)
	writeDpkg(l, basePkgs(tr))
}

// debianFinal is the final stage: the base plus what its own
// instructions add (apt-get install curl ca-certificates, COPY app).
func debianFinal(t *testing.T) (base, final *rootfstest.Layout) {
	tr := rootfstest.Triple()
	interp := hostInterp(t)
	base, final = rootfstest.New(t), rootfstest.New(t)
	debianBase(t, base)
	debianBase(t, final)
	base.Stamp(epoch)
	final.Stamp(epoch)

	final.File("/usr/lib/"+tr+"/libcurl.so.4", rootfstest.ELF(rootfstest.ELFSpec{Needed: []string{"libc.so.6"}, Payload: []byte("libcurl")}), 0o644)
	final.File("/usr/bin/curl", rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: []string{"libcurl.so.4", "libc.so.6"}, Payload: []byte("curl")}), 0o755)
	final.File("/etc/ssl/certs/ca-certificates.crt", []byte("-----BEGIN CERTIFICATE-----\n"), 0o644)
	final.File("/usr/share/ca-certificates/mozilla/x.crt", []byte("cert"), 0o644)
	final.File("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", []byte("index"), 0o644)
	final.File("/var/cache/apt/archives/curl.deb", []byte("deb"), 0o644)
	final.File("/var/lib/dpkg/status-old", []byte("old"), 0o644)
	pkgs := append(basePkgs(tr),
		pkg{name: "curl", files: []string{"/usr/bin/curl"}},
		pkg{name: "libcurl4", multiSame: true, files: []string{"/usr/lib/" + tr + "/libcurl.so.4"}},
		pkg{name: "ca-certificates", files: []string{"/etc/ssl/certs/ca-certificates.crt", "/usr/share/ca-certificates/mozilla/x.crt"}},
	)
	writeDpkg(final, pkgs)
	final.CopyELF("/usr/bin/ls", "/app/server", 0o755)
	final.File("/app/config.json", []byte("{}"), 0o644)
	final.Symlink("/app/data", "/usr/share/appdata")
	final.File("/app/run.sh", []byte("#!/bin/bash\nexec /app/server\n"), 0o755)
	final.File("/app/start", []byte("#!/bin/sh\nexec /app/server\n"), 0o755)
	return base, final
}

func rebase(t *testing.T, base, final *rootfstest.Layout, mutate func(*RebaseInput)) (KeepSet, error) {
	t.Helper()
	bt, _ := base.Load()
	ft, src := final.Load()
	in := RebaseInput{Base: bt, Final: ft, Src: src, Entrypoint: []string{"/app/server", "--serve"}, Tooling: tooling.DefaultLists()}
	if mutate != nil {
		mutate(&in)
	}
	return Rebase(t.Context(), in)
}

func TestRebaseDebian(t *testing.T) {
	tr := rootfstest.Triple()
	base, final := debianFinal(t)
	ks, err := rebase(t, base, final, nil)
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := final.Load()
	checkInvariants(t, ft, ks)

	kept := []string{
		"/app", "/app/server", "/app/config.json", "/app/data", "/usr/share/appdata",
		"/lib", "/usr/lib/" + tr + "/libc.so.6", "/usr/lib/" + tr + "/libselinux.so.1",
		"/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/os-release", "/tmp",
		"/usr/share/zoneinfo/UTC", "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/usr/share/ca-certificates/mozilla/x.crt",
		"/etc/ld.so.conf", "/etc/ld.so.conf.d/" + tr + ".conf",
		"/var/lib/dpkg/status", "/var/lib/dpkg/info/libc6:" + debArch() + ".list", "/var/lib/dpkg/info/libc6:" + debArch() + ".md5sums",
		"/var/lib/dpkg/info/base-files.list",
		// The final stage's own scripts ship even though their shells do not.
		"/app/run.sh", "/app/start",
	}
	if tr == "x86_64-linux-gnu" {
		kept = append(kept, "/lib64", "/lib64/ld-linux-x86-64.so.2", "/usr/lib/"+tr+"/ld-linux-x86-64.so.2")
	}
	for _, p := range kept {
		if !slices.Contains(ks.Paths, p) {
			t.Errorf("%s not kept", p)
		}
	}
	gone := []string{
		"/usr/bin/bash", "/usr/bin/dash", "/usr/bin/sh", "/usr/bin/curl", "/usr/bin/apt-get", "/usr/bin/dpkg",
		"/usr/bin/ls", "/usr/bin/setuidtool", "/etc/motd", "/etc/ssl/private/ssl-cert-snakeoil.key", "/etc/ssl/private",
		"/etc/pki/tls/private", "/etc/pki/tls/private/localhost.key",
		"/var/lib/apt/lists", "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
		"/var/cache/apt/archives/curl.deb", "/var/lib/dpkg/status-old",
		"/var/lib/dpkg/info/curl.list", "/var/lib/dpkg/info/bash.list", "/usr/share/doc/bash/copyright",
		// A symlink to a directory the image does not otherwise keep
		// brings the directory, not what is below it.
		"/usr/share/appdata/table.bin",
		// The stage installed libcurl4, but nothing the image runs links
		// it: its package is not in the runtime closure.
		"/usr/lib/" + tr + "/libcurl.so.4", "/var/lib/dpkg/info/libcurl4:" + debArch() + ".list",
	}
	for _, p := range gone {
		if slices.Contains(ks.Paths, p) {
			t.Errorf("%s kept: %s", p, ks.Reasons[p])
		}
	}
	removed := map[string]string{}
	for _, m := range ks.Removed {
		removed[m.Path] = m.Reason
	}
	for _, p := range []string{"/usr/bin/bash", "/usr/bin/curl", "/usr/bin/sh", "/var/lib/apt", "/var/cache/apt"} {
		if _, ok := removed[p]; !ok {
			t.Errorf("%s not in Removed", p)
		}
	}
	if got := ks.Reasons["/app/server"]; got != "added by the final stage" {
		t.Errorf("reason for /app/server = %q", got)
	}
	if got := ks.Reasons["/usr/lib/"+tr+"/libselinux.so.1"]; !strings.HasPrefix(got, "entrypoint /app/server") {
		t.Errorf("reason for libselinux = %q", got)
	}

	status := string(ks.Generated["/var/lib/dpkg/status"])
	for _, p := range []string{"base-files", "libc6", "libselinux1", "ca-certificates", "tzdata", "nolist"} {
		if !strings.Contains(status, "Package: "+p+"\n") {
			t.Errorf("status lacks %s", p)
		}
	}
	for _, p := range []string{"bash", "dash", "apt", "coreutils", "curl", "libcurl4", "meta", "old"} {
		if strings.Contains(status, "Package: "+p+"\n") {
			t.Errorf("status still lists %s", p)
		}
	}
	if !strings.Contains(status, "Description: libc6\n continuation line\n\n") || !strings.HasPrefix(status, "Package: base-files\n") {
		t.Errorf("status stanzas not preserved:\n%s", status)
	}
	if len(ks.Unresolved) != 0 {
		t.Errorf("Unresolved = %v", ks.Unresolved)
	}
}

// checkInvariants holds for every keep-set.
func checkInvariants(t *testing.T, ft *rootfs.Tree, ks KeepSet) {
	t.Helper()
	if !slices.IsSorted(ks.Paths) {
		t.Error("Paths not sorted")
	}
	in := map[string]bool{}
	for _, p := range ks.Paths {
		in[p] = true
	}
	for _, p := range ks.Paths {
		if ks.Reasons[p] == "" {
			t.Errorf("no reason for %s", p)
		}
		if _, ok := ft.Lookup(p); !ok {
			t.Errorf("kept path %s is not in the final tree", p)
		}
		if d := path.Dir(p); d != "/" && !in[d] {
			t.Errorf("parent %s of %s not kept", d, p)
		}
		// Every symlink kept must resolve inside the kept set.
		if e, _ := ft.Lookup(p); e.IsSymlink() {
			rl, ok := ft.ResolveLinks(p, true)
			if !ok {
				continue
			}
			for _, q := range append(rl.Links, rl.Path) {
				if !in[q] {
					t.Errorf("symlink %s needs %s, which is not kept", p, q)
				}
			}
		}
	}
	for p := range ks.Generated {
		if !in[p] {
			t.Errorf("generated %s not in Paths", p)
		}
	}
	if len(ks.Reasons) != len(ks.Paths) {
		t.Errorf("%d reasons for %d paths", len(ks.Reasons), len(ks.Paths))
	}
}

func TestRebaseEntrypoints(t *testing.T) {
	base, final := debianFinal(t)
	tests := []struct {
		name       string
		entrypoint []string
		keep       []string
		path       string
		wantNeeds  string
		direct     bool
		notFound   bool
		wantKept   []string
	}{
		{name: "shell form", entrypoint: []string{"/bin/sh", "-c", "/app/server"}, wantNeeds: "/usr/bin/sh", direct: true},
		{name: "tool on PATH", entrypoint: []string{"curl", "http://x"}, wantNeeds: "/usr/bin/curl", direct: true},
		{name: "script needing bash", entrypoint: []string{"/app/run.sh"}, wantNeeds: "/usr/bin/bash"},
		{name: "script needing sh", entrypoint: []string{"/app/start"}, wantNeeds: "/usr/bin/dash"},
		{name: "missing", entrypoint: []string{"nosuch"}, notFound: true},
		{name: "not on PATH", entrypoint: []string{"server"}, notFound: true},
		{name: "on custom PATH", entrypoint: []string{"server"}, path: "/app", wantKept: []string{"/app/server"}},
		{name: "policy keeps the shell", entrypoint: []string{"/app/run.sh"}, keep: []string{"/usr/bin/bash"}, wantKept: []string{"/usr/bin/bash", "/app/run.sh"}},
		// /app/server is coreutils' ls copied: with nothing running it, it
		// is that package's executable that the image does not run
		// (pkgcopy.go), and the stage's data still ships.
		{name: "no entrypoint", entrypoint: nil, wantKept: []string{"/app/config.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := rebase(t, base, final, func(in *RebaseInput) {
				in.Entrypoint, in.Keep, in.Path = tc.entrypoint, tc.keep, tc.path
			})
			switch {
			case tc.wantNeeds != "":
				var ee *EntrypointError
				if !errors.As(err, &ee) {
					t.Fatalf("err = %v, want an EntrypointError", err)
				}
				if ee.Needs != tc.wantNeeds || ee.Direct != tc.direct {
					t.Errorf("Needs = %s direct %v, want %s direct %v (%v)", ee.Needs, ee.Direct, tc.wantNeeds, tc.direct, err)
				}
				if !strings.Contains(err.Error(), "hardenkit removes") {
					t.Errorf("message %q", err)
				}
				return
			case tc.notFound:
				if !errors.Is(err, ErrEntrypointNotFound) {
					t.Fatalf("err = %v, want ErrEntrypointNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.wantKept {
				if !slices.Contains(ks.Paths, p) {
					t.Errorf("%s not kept", p)
				}
			}
			for _, m := range ks.Removed {
				if slices.Contains(tc.keep, m.Path) {
					t.Errorf("policy-kept %s reported removed", m.Path)
				}
			}
		})
	}
}

func TestRebaseStaticOnScratch(t *testing.T) {
	final := rootfstest.New(t)
	final.GoBinary("/app/static", "package main\n\nfunc main() {}\n")
	final.File("/etc/passwd", []byte("nonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"), 0o644)
	final.Dir("/tmp")
	ft, src := final.Load()
	ks, err := Rebase(t.Context(), RebaseInput{Final: ft, Src: src, Entrypoint: []string{"/app/static"}, Tooling: tooling.DefaultLists()})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, ft, ks)
	if want := []string{"/app", "/app/static", "/etc", "/etc/passwd", "/tmp"}; !slices.Equal(ks.Paths, want) {
		t.Errorf("Paths = %q, want %q", ks.Paths, want)
	}
	if len(ks.Generated) != 0 || len(ks.Removed) != 0 || len(ks.Unresolved) != 0 {
		t.Errorf("unexpected extras: %+v", ks)
	}
}

func TestRebaseBadKeepPattern(t *testing.T) {
	final := rootfstest.New(t).Dir("/app")
	ft, src := final.Load()
	if _, err := Rebase(t.Context(), RebaseInput{Final: ft, Src: src, Keep: []string{"/a/**b"}}); err == nil {
		t.Fatal("invalid keep pattern accepted")
	}
}

func TestRebasePolicyKeepGlob(t *testing.T) {
	base, final := debianFinal(t)
	ks, err := rebase(t, base, final, func(in *RebaseInput) {
		in.Keep = []string{"/etc/mot*", "/usr/share/doc"}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/etc/motd", "/usr/share/doc/bash/copyright"} {
		if !slices.Contains(ks.Paths, p) {
			t.Errorf("%s not kept by policy", p)
		}
	}
}

// TestRebasePython keeps the host's python3 standard library when the
// entrypoint runs python.
func TestRebasePython(t *testing.T) {
	real, err := filepath.EvalSymlinks("/usr/bin/python3")
	if err != nil {
		t.Fatalf("this test needs the host's /usr/bin/python3: %v; install python3", err)
	}
	ver := strings.TrimPrefix(filepath.Base(real), "python")
	stdlib := "/usr/lib/python" + ver
	dynload, _ := filepath.Glob(stdlib + "/lib-dynload/_ssl*.so")
	if _, err := os.Stat(stdlib + "/os.py"); err != nil || len(dynload) == 0 {
		t.Fatalf("this test needs the host's python standard library: %s has no os.py or lib-dynload/_ssl (%v); install python3", stdlib, err)
	}
	tr := rootfstest.Triple()
	base, final := rootfstest.New(t), rootfstest.New(t)
	for _, l := range []*rootfstest.Layout{base, final} {
		l.Debian()
		l.CopyELF(real, "/usr/bin/"+filepath.Base(real), 0o755)
		l.Symlink("/usr/bin/python3", filepath.Base(real))
		for _, f := range []string{"/os.py", "/encodings/__init__.py"} {
			data, err := os.ReadFile(stdlib + f)
			if err != nil {
				t.Fatal(err)
			}
			l.File(stdlib+f, data, 0o644)
		}
		// Extension modules are ELF files with their own libraries.
		l.CopyELF(dynload[0], stdlib+"/lib-dynload/"+filepath.Base(dynload[0]), 0o644)
		l.File("/usr/lib/python3/dist-packages/vendored.py", []byte(""), 0o644)
		l.File("/usr/lib/python3.0/unrelated.py", []byte(""), 0o644)
		l.File("/etc/passwd", []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
		l.Stamp(epoch)
	}
	final.File("/app/main.py", []byte("print('hi')\n"), 0o644)
	ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = []string{"python3", "/app/main.py"} })
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := final.Load()
	checkInvariants(t, ft, ks)
	want := []string{
		"/app/main.py", "/usr/bin/python3", real, stdlib + "/os.py", stdlib + "/encodings/__init__.py",
		stdlib + "/lib-dynload/" + filepath.Base(dynload[0]), "/usr/lib/python3/dist-packages/vendored.py",
	}
	// _ssl's own libraries come from the ELF closure of kept files.
	for _, e := range ft.Children("/usr/lib/" + tr) {
		if strings.HasPrefix(path.Base(e.Path), "libssl") || strings.HasPrefix(path.Base(e.Path), "libcrypto") {
			want = append(want, e.Path)
		}
	}
	for _, p := range want {
		if !slices.Contains(ks.Paths, p) {
			t.Errorf("%s not kept", p)
		}
	}
	if slices.Contains(ks.Paths, "/usr/lib/python3.0/unrelated.py") {
		t.Errorf("another python version's directory kept: %s", ks.Reasons["/usr/lib/python3.0/unrelated.py"])
	}
	if r := ks.Reasons[stdlib+"/os.py"]; !strings.HasPrefix(r, "python runtime of ") {
		t.Errorf("reason for os.py = %q", r)
	}
}
