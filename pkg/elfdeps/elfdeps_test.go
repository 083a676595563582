package elfdeps

import (
	"debug/elf"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

func mk(t *testing.T, s rootfstest.ELFSpec) []byte {
	return rootfstest.MustELF(t, rootfstest.ELF(s))
}

const ld64 = "/lib64/ld-linux-x86-64.so.2"

// synthetic builds a Debian-like layout of hand-made x86-64 objects, so
// the search rules are tested the same way on every host.
func synthetic(t *testing.T) *rootfstest.Layout {
	const tr = "/usr/lib/x86_64-linux-gnu"
	l := rootfstest.New(t)
	x := func(s rootfstest.ELFSpec) []byte { s.Machine = elf.EM_X86_64; return mk(t, s) }
	l.Dir("/usr/bin").Dir(tr).Dir("/lib64").Symlink("/lib", "usr/lib").Symlink("/bin", "usr/bin")
	l.File(tr+"/ld-linux-x86-64.so.2", x(rootfstest.ELFSpec{}), 0o755)
	l.Symlink(ld64, "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
	l.File(tr+"/libc.so.6", x(rootfstest.ELFSpec{Needed: []string{"ld-linux-x86-64.so.2"}}), 0o755)
	l.File("/etc/ld.so.conf", []byte("# comment\ninclude ld.so.conf.d/*.conf\n"), 0o644)
	l.File("/etc/ld.so.conf.d/a.conf", []byte("/usr/local/lib\n/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu\n"), 0o644)
	l.File("/etc/ld.so.conf.d/b.conf", []byte("/opt/custom/lib\ninclude /etc/ld.so.conf\n"), 0o644)
	// libbar: real file behind a soname link, found through ld.so.conf.
	l.File(tr+"/libbar.so.2.0.1", x(rootfstest.ELFSpec{Needed: []string{"libc.so.6"}}), 0o644)
	l.Symlink(tr+"/libbar.so.2", "libbar.so.2.0.1")
	// libfoo in the app's own lib dir, reached through $ORIGIN.
	l.File("/app/lib/libfoo.so.1", x(rootfstest.ELFSpec{Needed: []string{"libbar.so.2", "libc.so.6"}}), 0o644)
	l.File("/app/bin/app", x(rootfstest.ELFSpec{Interp: ld64, Needed: []string{"libfoo.so.1", "libc.so.6"}, RunPath: "$ORIGIN/../lib"}), 0o755)
	// Incompatible copies earlier on the search path must be skipped.
	l.File("/usr/local/lib/libwide.so.1", mk(t, rootfstest.ELFSpec{Class: elf.ELFCLASS32, Machine: elf.EM_386}), 0o644)
	l.File("/opt/custom/lib/libwide.so.1", mk(t, rootfstest.ELFSpec{Machine: elf.EM_AARCH64}), 0o644)
	l.File(tr+"/libwide.so.1", x(rootfstest.ELFSpec{}), 0o644)
	l.File("/usr/bin/wide", x(rootfstest.ELFSpec{Interp: ld64, Needed: []string{"libwide.so.1"}}), 0o755)
	// A library only ld.so.conf.d knows about.
	l.File("/opt/custom/lib/libcustom.so", x(rootfstest.ELFSpec{}), 0o644)
	l.File("/usr/bin/custom", x(rootfstest.ELFSpec{Interp: ld64, Needed: []string{"libcustom.so", "libnope.so.9"}}), 0o755)
	// RPATH is inherited down the loading chain, RUNPATH is not.
	l.File("/opt/rp/libleaf.so", x(rootfstest.ELFSpec{}), 0o644)
	l.File("/opt/rp/libmid.so", x(rootfstest.ELFSpec{Needed: []string{"libleaf.so"}}), 0o644)
	l.File("/usr/bin/rpath", x(rootfstest.ELFSpec{Interp: ld64, Needed: []string{"libmid.so"}, RPath: "/opt/rp"}), 0o755)
	l.File("/usr/bin/runpath", x(rootfstest.ELFSpec{Interp: ld64, Needed: []string{"libmid.so"}, RunPath: "/opt/rp"}), 0o755)
	// $LIB expands to the multiarch directory.
	l.File("/opt/lib/x86_64-linux-gnu/libdst.so", x(rootfstest.ELFSpec{}), 0o644)
	l.File("/usr/bin/dst", x(rootfstest.ELFSpec{Interp: ld64, Needed: []string{"libdst.so"}, RunPath: "/opt/${LIB}"}), 0o755)
	// A dependency cycle.
	l.File(tr+"/libcyca.so", x(rootfstest.ELFSpec{Needed: []string{"libcycb.so"}}), 0o644)
	l.File(tr+"/libcycb.so", x(rootfstest.ELFSpec{Needed: []string{"libcyca.so"}}), 0o644)
	l.File("/usr/bin/cycle", x(rootfstest.ELFSpec{Interp: ld64, Needed: []string{"libcyca.so"}}), 0o755)
	// Static objects and a broken one.
	l.File("/usr/bin/static", x(rootfstest.ELFSpec{Payload: []byte("static")}), 0o755)
	l.File("/usr/bin/broken", append([]byte(elf.ELFMAG), []byte("\x02\x01\x01garbage-garbage-garbage")...), 0o755)
	// Scripts.
	l.File("/usr/bin/dash", x(rootfstest.ELFSpec{Interp: ld64, Needed: []string{"libc.so.6"}}), 0o755)
	l.Symlink("/usr/bin/sh", "dash")
	l.File("/usr/bin/env", x(rootfstest.ELFSpec{Interp: ld64, Needed: []string{"libc.so.6"}}), 0o755)
	l.File("/usr/bin/python3.11", x(rootfstest.ELFSpec{Interp: ld64, Needed: []string{"libc.so.6"}}), 0o755)
	l.Symlink("/usr/bin/python3", "python3.11")
	l.File("/app/run.sh", []byte("#!/bin/sh -e\necho hi\n"), 0o755)
	l.File("/app/tool.py", []byte("#!/usr/bin/env python3\nprint(1)\n"), 0o755)
	l.File("/app/split.py", []byte("#!/usr/bin/env -S PYTHONUNBUFFERED=1 python3 -u\n"), 0o755)
	l.File("/app/nosplit.py", []byte("#!/usr/bin/env python3 -u\n"), 0o755)
	l.File("/app/gone.py", []byte("#!/usr/bin/env nosuch\n"), 0o755)
	l.File("/app/wrap", []byte("#!/app/run.sh\n"), 0o755)
	l.File("/app/data.txt", []byte("just data"), 0o644)
	return l
}

func TestClosureSynthetic(t *testing.T) {
	const tr = "/usr/lib/x86_64-linux-gnu"
	loader := []string{ld64, "/lib", tr + "/ld-linux-x86-64.so.2"}
	libc := append([]string{tr + "/libc.so.6"}, loader...)
	tests := []struct {
		name        string
		roots       []string
		opts        []Option
		want        []string // all must be in Paths
		notWant     []string
		wantExact   bool
		missing     []string
		static      map[string]bool
		interps     []string
		invalid     []string
		wantReasons map[string]string
	}{
		{
			name:  "origin runpath and soname link",
			roots: []string{"/app/bin/app"},
			want:  append([]string{"/app/bin/app", "/app/lib/libfoo.so.1", tr + "/libbar.so.2", tr + "/libbar.so.2.0.1"}, libc...),
			wantReasons: map[string]string{
				"/app/lib/libfoo.so.1":  "DT_NEEDED libfoo.so.1 of /app/bin/app",
				tr + "/libbar.so.2":     "symlink on the way to libbar.so.2 needed by /app/lib/libfoo.so.1",
				tr + "/libbar.so.2.0.1": "DT_NEEDED libbar.so.2 of /app/lib/libfoo.so.1",
				ld64:                    "symlink on the way to the interpreter of /app/bin/app",
			},
			wantExact: true,
			static:    map[string]bool{"/app/bin/app": false, tr + "/ld-linux-x86-64.so.2": true},
		},
		{
			name:      "incompatible class and machine skipped",
			roots:     []string{"/usr/bin/wide"},
			want:      append([]string{"/usr/bin/wide", tr + "/libwide.so.1"}, loader...),
			notWant:   []string{"/usr/local/lib/libwide.so.1", "/opt/custom/lib/libwide.so.1"},
			wantExact: true,
		},
		{
			name:    "ld.so.conf include and missing library",
			roots:   []string{"/usr/bin/custom"},
			want:    []string{"/opt/custom/lib/libcustom.so"},
			missing: []string{"libnope.so.9"},
		},
		{
			name:  "rpath inherited",
			roots: []string{"/usr/bin/rpath"},
			want:  []string{"/opt/rp/libmid.so", "/opt/rp/libleaf.so"},
		},
		{
			name:    "runpath not inherited",
			roots:   []string{"/usr/bin/runpath"},
			want:    []string{"/opt/rp/libmid.so"},
			notWant: []string{"/opt/rp/libleaf.so"},
			missing: []string{"libleaf.so"},
		},
		{
			name:  "LD_LIBRARY_PATH",
			roots: []string{"/usr/bin/runpath"},
			opts:  []Option{WithLibraryPath("/nonexistent:/opt/rp")},
			want:  []string{"/opt/rp/libmid.so", "/opt/rp/libleaf.so"},
		},
		{
			name:  "dst LIB",
			roots: []string{"/usr/bin/dst"},
			want:  []string{"/opt/lib/x86_64-linux-gnu/libdst.so"},
		},
		{
			name:  "cycle terminates",
			roots: []string{"/usr/bin/cycle"},
			want:  []string{tr + "/libcyca.so", tr + "/libcycb.so"},
		},
		{
			name:      "static",
			roots:     []string{"/usr/bin/static"},
			want:      []string{"/usr/bin/static"},
			wantExact: true,
			static:    map[string]bool{"/usr/bin/static": true},
		},
		{
			name:    "invalid ELF kept as a file",
			roots:   []string{"/usr/bin/broken"},
			want:    []string{"/usr/bin/broken"},
			invalid: []string{"/usr/bin/broken"},
			static:  map[string]bool{"/usr/bin/broken": false},
		},
		{
			name:      "shell script through symlinks",
			roots:     []string{"/app/run.sh"},
			want:      append([]string{"/app/run.sh", "/bin", "/usr/bin/sh", "/usr/bin/dash"}, libc...),
			wantExact: true,
			interps:   []string{"/usr/bin/dash"},
		},
		{
			name:    "env python3 via PATH",
			roots:   []string{"/app/tool.py"},
			want:    []string{"/usr/bin/env", "/usr/bin/python3", "/usr/bin/python3.11", tr + "/libc.so.6"},
			interps: []string{"/usr/bin/env", "/usr/bin/python3.11"},
		},
		{
			name:    "env -S",
			roots:   []string{"/app/split.py"},
			want:    []string{"/usr/bin/env", "/usr/bin/python3.11"},
			interps: []string{"/usr/bin/env", "/usr/bin/python3.11"},
		},
		{
			name:    "env without -S takes the whole argument",
			roots:   []string{"/app/nosplit.py"},
			want:    []string{"/usr/bin/env"},
			missing: []string{"python3 -u"},
		},
		{
			name:    "env program outside PATH",
			roots:   []string{"/app/tool.py"},
			opts:    []Option{WithPath("/usr/local/bin")},
			missing: []string{"python3"},
		},
		{
			name:    "env program missing",
			roots:   []string{"/app/gone.py"},
			missing: []string{"nosuch"},
		},
		{
			name:    "script interpreting through a script",
			roots:   []string{"/app/wrap"},
			want:    []string{"/app/run.sh", "/usr/bin/dash"},
			interps: []string{"/app/run.sh", "/usr/bin/dash"},
		},
		{
			name:      "data file",
			roots:     []string{"/app/data.txt"},
			want:      []string{"/app/data.txt"},
			wantExact: true,
		},
	}
	l := synthetic(t)
	tree, src := l.Load()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Closure(t.Context(), tree, src, tc.roots, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !slices.Contains(res.Paths, w) {
					t.Errorf("Paths lacks %s; got %q", w, res.Paths)
				}
			}
			if tc.wantExact {
				want := slices.Clone(tc.want)
				slices.Sort(want)
				if !reflect.DeepEqual(res.Paths, slices.Compact(want)) {
					t.Errorf("Paths = %q\nwant    %q", res.Paths, slices.Compact(want))
				}
			}
			for _, nw := range tc.notWant {
				if slices.Contains(res.Paths, nw) {
					t.Errorf("Paths has %s", nw)
				}
			}
			if !reflect.DeepEqual(res.Missing, tc.missing) {
				t.Errorf("Missing = %q, want %q", res.Missing, tc.missing)
			}
			for _, m := range res.Missing {
				if len(res.NeededBy[m]) == 0 {
					t.Errorf("NeededBy[%s] empty", m)
				}
			}
			for p, want := range tc.static {
				if got := res.IsStatic(p); got != want {
					t.Errorf("IsStatic(%s) = %v, want %v", p, got, want)
				}
			}
			if tc.interps != nil && !reflect.DeepEqual(res.Interpreters, tc.interps) {
				t.Errorf("Interpreters = %q, want %q", res.Interpreters, tc.interps)
			}
			if !reflect.DeepEqual(res.Invalid, tc.invalid) {
				t.Errorf("Invalid = %q, want %q", res.Invalid, tc.invalid)
			}
			for p, want := range tc.wantReasons {
				if got := res.Reasons[p]; got != want {
					t.Errorf("Reasons[%s] = %q, want %q", p, got, want)
				}
			}
			for _, p := range res.Paths {
				if res.Reasons[p] == "" {
					t.Errorf("no reason for %s", p)
				}
			}
		})
	}
}

func TestClosureMissingRoot(t *testing.T) {
	tree, src := synthetic(t).Load()
	if _, err := Closure(t.Context(), tree, src, []string{"/nope"}); err == nil || !strings.Contains(err.Error(), "/nope") {
		t.Fatalf("err = %v, want one naming the root", err)
	}
}

func TestClosureMusl(t *testing.T) {
	l := rootfstest.New(t)
	x := func(s rootfstest.ELFSpec) []byte { s.Machine = elf.EM_X86_64; return mk(t, s) }
	l.File("/lib/ld-musl-x86_64.so.1", x(rootfstest.ELFSpec{}), 0o755)
	l.Symlink("/lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1")
	l.File("/usr/lib/libz.so.1", x(rootfstest.ELFSpec{Needed: []string{"libc.musl-x86_64.so.1"}}), 0o644)
	l.File("/opt/extra/libextra.so", x(rootfstest.ELFSpec{}), 0o644)
	// glibc's configuration must not matter to musl.
	l.File("/etc/ld.so.conf", []byte("/opt/glibc-only\n"), 0o644)
	l.File("/opt/glibc-only/libonly.so", x(rootfstest.ELFSpec{}), 0o644)
	l.File("/usr/bin/app", x(rootfstest.ELFSpec{Interp: "/lib/ld-musl-x86_64.so.1", Needed: []string{"libz.so.1", "libc.musl-x86_64.so.1", "libextra.so", "libonly.so"}}), 0o755)
	tree, src := l.Load()
	res, err := Closure(t.Context(), tree, src, []string{"/usr/bin/app"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1", "/usr/lib/libz.so.1"} {
		if !slices.Contains(res.Paths, w) {
			t.Errorf("Paths lacks %s: %q", w, res.Paths)
		}
	}
	if want := []string{"libextra.so", "libonly.so"}; !reflect.DeepEqual(res.Missing, want) {
		t.Errorf("Missing = %q, want %q", res.Missing, want)
	}
	// With a path file, musl searches exactly what it lists.
	l.File("/etc/ld-musl-x86_64.path", []byte("/lib\n/usr/lib:/opt/extra\n"), 0o644)
	tree, src = l.Load()
	res, err = Closure(t.Context(), tree, src, []string{"/usr/bin/app"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"libonly.so"}; !reflect.DeepEqual(res.Missing, want) {
		t.Errorf("with path file Missing = %q, want %q", res.Missing, want)
	}
}

// TestClosureHostBinaries runs the closure on real Debian binaries copied
// from the host into a merged-/usr layout.
func TestClosureHostBinaries(t *testing.T) {
	tr := rootfstest.Triple()
	l := rootfstest.New(t).Debian()
	l.CopyELF("/usr/bin/ls", "/usr/bin/ls", 0o755)
	l.GoBinary("/app/static", "package main\n\nfunc main() { println(\"static\") }\n")
	tree, src := l.Load()

	res, err := Closure(t.Context(), tree, src, []string{"/bin/ls", "/app/static"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != 0 {
		t.Errorf("Missing = %q (needed by %v)", res.Missing, res.NeededBy)
	}
	want := []string{"/bin", "/usr/bin/ls", "/lib", "/usr/lib/" + tr + "/libc.so.6", "/app/static"}
	if tr == "x86_64-linux-gnu" {
		want = append(want, "/lib64/ld-linux-x86-64.so.2", "/usr/lib/"+tr+"/ld-linux-x86-64.so.2")
	}
	for _, w := range want {
		if !slices.Contains(res.Paths, w) {
			t.Errorf("Paths lacks %s: %q", w, res.Paths)
		}
	}
	if res.IsStatic("/bin/ls") || res.IsStatic("/usr/bin/ls") {
		t.Error("ls reported static")
	}
	if !res.IsStatic("/app/static") {
		t.Error("CGO_ENABLED=0 Go binary not reported static")
	}
	// Everything the closure names must be a real path of the tree.
	for _, p := range res.Paths {
		if _, ok := tree.Lookup(p); !ok {
			t.Errorf("closure path %s is not in the tree", p)
		}
	}
	// Each DT_NEEDED library copied from the host must be in the closure.
	for _, e := range tree.Children("/usr/lib/" + tr) {
		if !slices.Contains(res.Paths, e.Path) {
			t.Errorf("library %s copied for ls is not in its closure", e.Path)
		}
	}

	if ok, err := IsELF(t.Context(), src, "/usr/bin/ls"); err != nil || !ok {
		t.Errorf("IsELF(ls) = %v, %v", ok, err)
	}
	if ok, err := IsELF(t.Context(), src, "/etc/ld.so.conf"); err != nil || ok {
		t.Errorf("IsELF(ld.so.conf) = %v, %v", ok, err)
	}
}

func TestExpandDSTs(t *testing.T) {
	id := ident{class: elf.ELFCLASS64, data: elf.ELFDATA2LSB, machine: elf.EM_X86_64}
	tests := []struct {
		in   string
		want []string
	}{
		{"$ORIGIN/../lib", []string{"/app/bin/../lib"}},
		{"${ORIGIN}/x", []string{"/app/bin/x"}},
		{"$ORIGINAL/x", nil},
		{"/opt/$PLATFORM", []string{"/opt/x86_64"}},
		{"/usr/$LIB", []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"}},
		{"/plain", []string{"/plain"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := expandDSTs(tc.in, "/app/bin", id); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("expandDSTs(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEnvProgram(t *testing.T) {
	tests := map[string]string{
		"python3":                  "python3",
		"python3 -u":               "python3 -u",
		"-S python3 -u":            "python3",
		"-S A=1 B=2 node --x":      "node",
		"-Spython3":                "python3",
		"--split-string=x -i perl": "perl",
	}
	for in, want := range tests {
		if got := envProgram(in); got != want {
			t.Errorf("envProgram(%q) = %q, want %q", in, got, want)
		}
	}
}
