package tooling

import (
	"reflect"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

func TestCategory(t *testing.T) {
	l := DefaultLists()
	tests := []struct {
		name string
		want Category
		ok   bool
	}{
		{"apt-get", PackageManager, true},
		{"dpkg-query", PackageManager, true},
		{"pip3.12", PackageManager, true},
		{"curl", NetworkTool, true},
		{"nc.openbsd", NetworkTool, true},
		{"strace", Debugger, true},
		{"busybox", Shell, true},
		{"bash", Shell, true},
		{"python3", "", false},
		{"ls", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := l.Category(tc.name)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Category(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
			}
		})
	}
	custom := Lists{Shells: []string{"fish"}}
	if _, ok := custom.Category("bash"); ok {
		t.Error("an overriding list still matches a default name")
	}
}

const fakeBusybox = `package main

import "os"

func main() { os.Stdout.WriteString("BusyBox v1.36.1 (fixture) multi-call binary.\n") }
`

func fixture(t *testing.T) *rootfstest.Layout {
	l := rootfstest.New(t).Debian()
	elfFile := func(payload string) []byte {
		return rootfstest.ELF(rootfstest.ELFSpec{Payload: []byte(payload)})
	}
	l.File("/usr/bin/bash", elfFile("bash"), 0o755)
	l.File("/usr/bin/dash", elfFile("dash"), 0o755)
	l.Symlink("/usr/bin/sh", "dash")
	l.File("/usr/bin/curl", elfFile("curl-binary"), 0o755)
	l.File("/usr/bin/apt-get", elfFile("apt-get"), 0o755)
	l.File("/usr/bin/dpkg-query", elfFile("dpkg-query"), 0o755)
	l.File("/usr/local/bin/pip3.11", []byte("#!/usr/bin/python3\nimport pip\n"), 0o755)
	l.File("/usr/bin/python3.11", elfFile("python"), 0o755)
	l.File("/usr/bin/nc.openbsd", elfFile("netcat"), 0o755)
	l.Symlink("/etc/alternatives/nc", "/bin/nc.openbsd")
	l.Symlink("/usr/bin/nc", "/etc/alternatives/nc")
	// A renamed copy, and a same-size file with other content.
	l.File("/opt/tools/fetch", elfFile("curl-binary"), 0o755)
	l.File("/opt/tools/other", elfFile("curl-bin4ry"), 0o755)
	// Names that are not executables.
	l.File("/usr/share/bash-completion/completions/curl", []byte("complete"), 0o644)
	l.File("/usr/share/doc/bash/README", []byte("doc"), 0o644)
	// A multi-call binary under a harmless name, with every kind of link.
	l.GoBinary("/opt/bb/bin/box", fakeBusybox)
	l.Symlink("/opt/bb/bin/ls", "box")
	l.Hardlink("/opt/bb/bin/cat", "/opt/bb/bin/box")
	l.Hardlink("/opt/elsewhere/cp", "/opt/bb/bin/box")
	l.Symlink("/usr/local/bin/vi", "/opt/bb/bin/box")
	// toybox, marked only by its help text, in a file without sections.
	l.File("/system/xbin/tb", elfFile("\x00usage: toybox [--long | --help]\x00"), 0o755)
	l.Symlink("/system/xbin/grep", "tb")
	// Package manager data.
	l.File("/var/lib/apt/lists/deb.debian.org_Packages", []byte("Package: x"), 0o644)
	l.Dir("/var/lib/apt/lists/partial")
	l.File("/var/cache/apt/archives/x.deb", []byte("deb"), 0o644)
	l.File("/usr/local/lib/python3.12/site-packages/pip/__init__.py", []byte(""), 0o644)
	l.File("/usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA", []byte(""), 0o644)
	l.File("/usr/local/lib/python3.12/site-packages/requests/__init__.py", []byte(""), 0o644)
	l.File("/root/.npm/_cacache/index", []byte(""), 0o644)
	l.File("/var/lib/dpkg/status", []byte("Package: x\n"), 0o644)
	return l
}

func TestDetect(t *testing.T) {
	l := fixture(t)
	tree, src := l.Load()
	got, err := Detect(t.Context(), tree, src, DefaultLists())
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]Match{}
	for i, m := range got {
		if i > 0 && got[i-1].Path >= m.Path {
			t.Errorf("result not sorted or duplicated at %s", m.Path)
		}
		byPath[m.Path] = m
	}
	want := []Match{
		{"/usr/bin/bash", Shell, ReasonName, "bash"},
		{"/usr/bin/dash", Shell, ReasonName, "dash"},
		{"/usr/bin/sh", Shell, ReasonName, "sh"},
		{"/usr/bin/curl", NetworkTool, ReasonName, "curl"},
		{"/usr/bin/apt-get", PackageManager, ReasonName, "apt-get"},
		{"/usr/bin/dpkg-query", PackageManager, ReasonName, "dpkg-query"},
		{"/usr/local/bin/pip3.11", PackageManager, ReasonName, "pip3.11"},
		{"/usr/bin/nc", NetworkTool, ReasonName, "nc"},
		{"/usr/bin/nc.openbsd", NetworkTool, ReasonName, "nc.openbsd"},
		{"/etc/alternatives/nc", NetworkTool, ReasonName, "nc"},
		{"/opt/tools/fetch", NetworkTool, ReasonSameContentAs + "/usr/bin/curl", "curl"},
		{"/opt/bb/bin/box", Shell, ReasonBusyboxBinary, "busybox"},
		{"/opt/bb/bin/ls", Shell, ReasonBusyboxApplet, "busybox"},
		{"/opt/bb/bin/cat", Shell, ReasonBusyboxApplet, "busybox"},
		{"/opt/elsewhere/cp", Shell, ReasonBusyboxApplet, "busybox"},
		{"/usr/local/bin/vi", Shell, ReasonBusyboxApplet, "busybox"},
		{"/system/xbin/tb", Shell, ReasonBusyboxBinary, "toybox"},
		{"/system/xbin/grep", Shell, ReasonBusyboxApplet, "toybox"},
		{"/var/lib/apt", PackageManager, ReasonPackageManagerData, "/var/lib/apt"},
		{"/var/cache/apt", PackageManager, ReasonPackageManagerData, "/var/cache/apt"},
		{"/usr/local/lib/python3.12/site-packages/pip", PackageManager, ReasonPackageManagerData, "/usr/local/lib/python3*/site-packages/pip"},
		{"/usr/local/lib/python3.12/site-packages/pip-24.0.dist-info", PackageManager, ReasonPackageManagerData, "/usr/local/lib/python3*/site-packages/pip-*.dist-info"},
		{"/root/.npm", PackageManager, ReasonPackageManagerData, "/root/.npm"},
	}
	for _, w := range want {
		if g, ok := byPath[w.Path]; !ok {
			t.Errorf("%s not detected", w.Path)
		} else if g != w {
			t.Errorf("%s = %+v, want %+v", w.Path, g, w)
		}
		delete(byPath, w.Path)
	}
	for p, m := range byPath {
		t.Errorf("unexpected match %s: %+v", p, m)
	}
}

func TestDetectCustomLists(t *testing.T) {
	l := fixture(t)
	tree, src := l.Load()
	// A policy that only removes curl: shells, multi-call binaries and
	// data stay.
	got, err := Detect(t.Context(), tree, src, Lists{NetworkTools: []string{"curl"}})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, m := range got {
		paths = append(paths, m.Path)
	}
	if want := []string{"/opt/tools/fetch", "/usr/bin/curl"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %q, want %q", paths, want)
	}
}

func TestDetectHostBusybox(t *testing.T) {
	const host = "/usr/bin/busybox"
	data := rootfstest.HostFile(t, host)
	l := rootfstest.New(t)
	l.File("/usr/lib/renamed/multi", data, 0o755)
	l.Symlink("/usr/lib/renamed/wget", "multi")
	tree, src := l.Load()
	got, err := Detect(t.Context(), tree, src, DefaultLists())
	if err != nil {
		t.Fatal(err)
	}
	want := []Match{
		{"/usr/lib/renamed/multi", Shell, ReasonBusyboxBinary, "busybox"},
		{"/usr/lib/renamed/wget", NetworkTool, ReasonName, "wget"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Detect = %+v\nwant %+v", got, want)
	}
}

// TestByContent: shells are found by content under any name and mode;
// other interpreters and programs are not.
func TestByContent(t *testing.T) {
	tests := []struct {
		host   string
		reason string
	}{
		{"/usr/bin/dash", ReasonShellBinary},
		{"/usr/bin/bash", ReasonShellBinary},
		{"/usr/bin/busybox", ReasonBusyboxBinary},
		{"/usr/bin/perl", ""},
		{"/usr/bin/python3", ""},
		{"/usr/bin/ls", ""},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			data := rootfstest.HostFile(t, tc.host)
			// Renamed, mode 0644, one byte appended.
			l := rootfstest.New(t).File("/app/x", append(data, 0), 0o644)
			tree, src := l.Load()
			e, _ := tree.Lookup("/app/x")
			m, ok, err := ByContent(t.Context(), src, e, DefaultLists())
			if err != nil {
				t.Fatal(err)
			}
			if ok != (tc.reason != "") || m.Reason != tc.reason {
				t.Errorf("ByContent = %+v %v, want reason %q", m, ok, tc.reason)
			}
			if ok && m.Category != Shell {
				t.Errorf("category %s", m.Category)
			}
			// A list without shells does not look for them.
			if _, ok, _ := ByContent(t.Context(), src, e, Lists{}); ok {
				t.Error("found with empty lists")
			}
		})
	}
}

// TestRelocatedInstallers: pip and npm copied to another module directory
// are package managers by their layout.
func TestRelocatedInstallers(t *testing.T) {
	l := rootfstest.New(t).
		File("/app/dist-packages/pip/__main__.py", []byte("x"), 0o644).
		File("/app/dist-packages/pip/_internal/__init__.py", []byte("x"), 0o644).
		File("/app/lib/npm/bin/npm-cli.js", []byte("x"), 0o644).
		File("/app/lib/npm/lib/npm.js", []byte("x"), 0o644).
		File("/app/pip/readme.txt", []byte("not pip"), 0o644)
	tree, src := l.Load()
	ms, err := Detect(t.Context(), tree, src, DefaultLists())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range ms {
		got[m.Path] = m.Category == PackageManager && m.Reason == ReasonPackageManagerData
	}
	if !got["/app/dist-packages/pip"] || !got["/app/lib/npm"] || len(got) != 2 {
		t.Errorf("matches %v", ms)
	}
}
