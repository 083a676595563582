package keep

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/archive/archivetest"
	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

func tgz(t *testing.T, files map[string][]byte) []byte {
	return archivetest.Gzip(t, archivetest.Tar(t, files))
}

func zipped(t *testing.T, files map[string][]byte) []byte { return archivetest.Zip(t, files) }

// TestArchiveTools: a tool inside an archive the image ships — recognised
// by content or as a copy of one of the image's tools, whatever the
// member's name, in a tarball, appended to a program, nested in a jar —
// fails the build naming the archive and the member; an archive too deep
// to read is not evaluated and fails too; the archives applications ship
// (wheels with C extensions, jars, a runtime's tarball, compressed docs)
// and an archive the policy keeps ship.
func TestArchiveTools(t *testing.T) {
	busybox := rootfstest.HostFile(t, "/usr/bin/busybox")
	dash := rootfstest.HostFile(t, "/usr/bin/dash")
	// The shell signature patched away: only similarity with the image's
	// own dash tells what it is.
	noSig := bytes.ReplaceAll(bytes.ReplaceAll(bytes.Clone(dash), []byte("PS1"), []byte("QS1")), []byte("OPTIND"), []byte("OPTIXD"))
	ls := rootfstest.HostFile(t, "/usr/bin/ls")
	python := rootfstest.HostFile(t, "/usr/bin/python3")
	lib := rootfstest.HostFile(t, "/lib/"+rootfstest.Triple()+"/libz.so.1")
	deep := tgz(t, map[string][]byte{"h": busybox})
	for range 4 {
		deep = tgz(t, map[string][]byte{"x.tgz": deep})
	}
	tests := []struct {
		name       string
		path       string
		data       []byte
		keep       []string
		wantMember string
		notEval    bool
	}{
		{name: "busybox in a tarball", path: "/app/vendor.tar.gz", data: tgz(t, map[string][]byte{"bin/helper": busybox}), wantMember: "bin/helper"},
		{name: "patched dash in a zip", path: "/app/assets.dat", data: zipped(t, map[string][]byte{"img/logo": noSig}), wantMember: "img/logo"},
		{name: "appended to the program the image runs", path: "/app/server", data: append(bytes.Clone(ls), tgz(t, map[string][]byte{"payload/run": busybox})...), wantMember: "payload/run"},
		{name: "nested in a fat jar", path: "/app/app.jar", data: zipped(t, map[string][]byte{"BOOT-INF/lib/native.jar": zipped(t, map[string][]byte{"linux/x": busybox})}),
			wantMember: "BOOT-INF/lib/native.jar!linux/x"},
		{name: "too deep", path: "/app/deep.tgz", data: deep, notEval: true},
		{name: "kept by policy", path: "/app/vendor.tar.gz", data: tgz(t, map[string][]byte{"bin/helper": busybox}), keep: []string{"/app/vendor.tar.gz"}},
		{name: "wheel with a C extension", path: "/app/wheels/pkg-1.0-cp311-linux_x86_64.whl", data: zipped(t, map[string][]byte{"pkg/_ext.so": lib, "pkg/__init__.py": []byte("")})},
		{name: "runtime tarball", path: "/opt/runtime.tar.gz", data: tgz(t, map[string][]byte{"bin/python3": python, "bin/pip": []byte("#!/bin/sh\n"), "lib/libz.so.1": lib})},
		{name: "jar", path: "/app/lib/x.jar", data: zipped(t, map[string][]byte{"a/B.class": []byte("\xca\xfe\xba\xbe\x00\x00\x00\x3d"), "META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\n")})},
		{name: "compressed docs", path: "/app/docs/changelog.gz", data: tgz(t, map[string][]byte{"changelog": []byte("1.0: first\n")})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, final := debianFinal(t)
			final.File(tc.path, tc.data, 0o755)
			ks, err := rebase(t, base, final, func(in *RebaseInput) { in.Keep = tc.keep })
			var ae *ArchiveToolError
			switch {
			case tc.wantMember == "" && !tc.notEval:
				if err != nil {
					t.Fatalf("err = %v, want the archive to ship", err)
				}
				if ks.Reasons[tc.path] == "" {
					t.Errorf("%s does not ship", tc.path)
				}
			case !errors.As(err, &ae):
				t.Fatalf("err = %v, want an ArchiveToolError", err)
			case tc.notEval:
				if !ae.NotEvaluated || !strings.Contains(err.Error(), "not evaluated") || !strings.Contains(err.Error(), tc.path) {
					t.Errorf("err = %v, want %s not evaluated", err, tc.path)
				}
			default:
				if ae.Archive != tc.path || ae.Member != tc.wantMember || ae.Match.Category != "shell" {
					t.Errorf("err = %+v, want %s holding %s, a shell", ae, tc.path, tc.wantMember)
				}
				if !strings.Contains(err.Error(), "archive "+tc.path+" holds "+tc.wantMember) {
					t.Errorf("message %q", err)
				}
			}
		})
	}
}
