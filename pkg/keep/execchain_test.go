package keep

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

// wrappedFinal is debianFinal whose stage also installed a process
// wrapper and an interpreter with its library, the way
// `apt-get install tini python3` does: their packages are the stage's, and
// nothing but the command line says python3 runs.
func wrappedFinal(t *testing.T) (base, final *rootfstest.Layout) {
	tr := rootfstest.Triple()
	interp := hostInterp(t)
	base, final = debianFinal(t)
	libpy := "/usr/lib/" + tr + "/libpython3.11.so.1.0"
	elf := func(payload string, needed ...string) []byte {
		return rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: needed, Payload: []byte(payload)})
	}
	final.File("/usr/bin/tini", elf("tini", "libc.so.6"), 0o755)
	final.File("/usr/bin/dumb-init", elf("dumb-init", "libc.so.6"), 0o755)
	final.File("/usr/bin/env", elf("env", "libc.so.6"), 0o755)
	final.File(libpy, rootfstest.ELF(rootfstest.ELFSpec{Needed: []string{"libc.so.6"}, Payload: []byte("libpython")}), 0o644)
	final.File("/usr/bin/python3.11", elf("python", "libpython3.11.so.1.0", "libc.so.6"), 0o755)
	final.Symlink("/usr/bin/python3", "python3.11")
	final.File("/usr/lib/python3.11/os.py", []byte("# os\n"), 0o644)
	final.File("/app/run.py", []byte("#!/usr/bin/env python3\nprint('hi')\n"), 0o755)
	final.File("/app/plain.py", []byte("print('hi')\n"), 0o644)
	final.File("/app/tool.sh", []byte("#!/bin/bash\necho\n"), 0o755)
	final.Dir("/srv/app")
	final.CopyELF("/usr/bin/ls", "/srv/app/worker", 0o755)
	pkgs := append(basePkgs(tr),
		pkg{name: "curl", files: []string{"/usr/bin/curl"}},
		pkg{name: "libcurl4", multiSame: true, files: []string{"/usr/lib/" + tr + "/libcurl.so.4"}},
		pkg{name: "ca-certificates", files: []string{"/etc/ssl/certs/ca-certificates.crt", "/usr/share/ca-certificates/mozilla/x.crt"}},
		pkg{name: "tini", files: []string{"/usr/bin/tini"}},
		pkg{name: "dumb-init", files: []string{"/usr/bin/dumb-init"}},
		pkg{name: "python3.11-minimal", files: []string{"/usr/bin/python3.11"}},
		pkg{name: "libpython3.11", multiSame: true, files: []string{libpy}},
		pkg{name: "python3", files: []string{"/usr/bin/python3"}},
	)
	writeDpkg(final, pkgs)
	return base, final
}

func TestRebaseExecChain(t *testing.T) {
	tr := rootfstest.Triple()
	base, final := wrappedFinal(t)
	python := []string{"/usr/bin/python3", "/usr/bin/python3.11", "/usr/lib/" + tr + "/libpython3.11.so.1.0", "/usr/lib/python3.11/os.py"}
	tests := []struct {
		name       string
		argv       []string
		workDir    string
		healthy    []string
		wantKept   []string
		wantGone   []string
		wantNeeds  string // an EntrypointError for this path
		wantArg    string
		wantDirect bool
	}{
		{name: "tini runs python3", argv: []string{"/usr/bin/tini", "--", "python3", "/app/run.py"},
			wantKept: append([]string{"/usr/bin/tini", "/app/run.py"}, python...)},
		{name: "dumb-init through env -i", argv: []string{"dumb-init", "--rewrite", "15:2", "env", "-i", "A=1", "python3", "/app/plain.py"},
			wantKept: append([]string{"/usr/bin/dumb-init", "/usr/bin/env"}, python...)},
		{name: "interpreter without wrapper", argv: []string{"python3", "/app/plain.py"}, wantKept: python},
		{name: "relative program from WORKDIR", argv: []string{"tini", "--", "./worker"}, workDir: "/srv/app",
			wantKept: []string{"/srv/app/worker", "/usr/bin/tini"}},
		{name: "script argument from WORKDIR", argv: []string{"/app/server", "run.py"}, workDir: "/app",
			wantKept: append([]string{"/app/run.py"}, python...)},
		{name: "bare word handed to a program", argv: []string{"/app/server", "python3"}, wantKept: python},
		{name: "bare word that is a tool is a value", argv: []string{"/app/server", "-k", "curl"},
			wantKept: []string{"/app/server"}, wantGone: []string{"/usr/bin/curl"}},
		{name: "read script's shebang is not run", argv: []string{"python3", "/app/tool.sh"},
			wantKept: append([]string{"/app/tool.sh"}, python...), wantGone: []string{"/usr/bin/bash"}},
		{name: "health check runs python3", argv: []string{"/app/server"}, healthy: []string{"tini", "--", "python3", "/app/plain.py"},
			wantKept: python},
		{name: "wrapped shell is refused by name", argv: []string{"tini", "--", "bash", "-c", "python3 /app/run.py"},
			wantNeeds: "/usr/bin/bash", wantArg: "bash", wantDirect: true},
		{name: "tool path argument is refused", argv: []string{"/app/server", "/usr/bin/curl"},
			wantNeeds: "/usr/bin/curl", wantArg: "/usr/bin/curl", wantDirect: true},
		{name: "wrapped script needing a shell", argv: []string{"tini", "--", "/app/tool.sh"},
			wantNeeds: "/usr/bin/bash", wantArg: "/app/tool.sh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := rebase(t, base, final, func(in *RebaseInput) {
				in.Entrypoint, in.WorkingDir, in.Healthcheck = tc.argv, tc.workDir, tc.healthy
			})
			if tc.wantNeeds != "" {
				var ee *EntrypointError
				if !errors.As(err, &ee) {
					t.Fatalf("err = %v, want an EntrypointError", err)
				}
				if ee.Needs != tc.wantNeeds || ee.Entrypoint != tc.wantArg || ee.Direct != tc.wantDirect || ee.Position != slices.Index(tc.argv, tc.wantArg) {
					t.Errorf("error %+v, want Needs %s, Entrypoint %s, Direct %v", ee, tc.wantNeeds, tc.wantArg, tc.wantDirect)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ft, _ := final.Load()
			checkInvariants(t, ft, ks)
			for _, p := range tc.wantKept {
				if !slices.Contains(ks.Paths, p) {
					t.Errorf("%s not kept", p)
				}
			}
			for _, p := range tc.wantGone {
				if slices.Contains(ks.Paths, p) {
					t.Errorf("%s kept: %s", p, ks.Reasons[p])
				}
			}
			for _, p := range tc.wantKept {
				if e, _ := ft.Lookup(p); e.IsRegular() && e.IsExecutable() && !slices.ContainsFunc(ks.Executables, func(a Allowed) bool { return a.Path == p }) {
					t.Errorf("%s kept but not among the allowed executables", p)
				}
			}
		})
	}
}

// TestRebaseExecChainMissing: a wrapped program the image lacks is said
// at build time; the first word missing is still an error.
func TestRebaseExecChainMissing(t *testing.T) {
	base, final := wrappedFinal(t)
	ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = []string{"tini", "--", "gunicorn", "app:app"} })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ks.Notes, func(n string) bool { return strings.Contains(n, `runs "gunicorn", which the image does not contain`) }) {
		t.Errorf("notes %q lack the missing gunicorn", ks.Notes)
	}
	if _, err := rebase(t, base, final, func(in *RebaseInput) { in.Entrypoint = []string{"gunicorn", "app:app"} }); !errors.Is(err, ErrEntrypointNotFound) {
		t.Errorf("err = %v, want ErrEntrypointNotFound", err)
	}
}
