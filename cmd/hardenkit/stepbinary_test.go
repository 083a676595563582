package main

import (
	"bytes"
	"io"
	gofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	"github.com/tonistiigi/fsutil"

	"github.com/hardenkit/hardenkit/frontend/options"
)

func TestServeStepBinary(t *testing.T) {
	script := filepath.Join(t.TempDir(), "hardenkit")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		exe             string
		wantUnavailable string // "" when served
	}{
		// busybox-static is one of the host packages the unit tests use.
		{name: "a static program is served", exe: "/bin/busybox"},
		{name: "a dynamically linked program is not", exe: "/bin/sh", wantUnavailable: "/bin/sh is dynamically linked (it needs /lib"},
		{name: "a script is not", exe: script, wantUnavailable: "cannot be read as an ELF program"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(tt.exe); err != nil {
				t.Skipf("no %s on this host: %v", tt.exe, err)
			}
			mounts := map[string]fsutil.FS{}
			got, err := serveStepBinary(mounts, tt.exe)
			if err != nil {
				t.Fatal(err)
			}
			_, served := mounts[options.LocalStepBinary]
			if tt.wantUnavailable != "" {
				if !strings.Contains(got.Unavailable, tt.wantUnavailable) || got.Local != "" || served {
					t.Fatalf("got %+v (served %v), want it unavailable: %q", got, served, tt.wantUnavailable)
				}
				return
			}
			if got.Unavailable != "" || got.Local != options.LocalStepBinary || !served || platforms.Format(got.Platform) != platforms.Format(platforms.DefaultSpec()) {
				t.Fatalf("got %+v (served %v), want the binary served as %s", got, served, options.LocalStepBinary)
			}
		})
	}
	t.Run("the local name is reserved", func(t *testing.T) {
		mounts := map[string]fsutil.FS{options.LocalStepBinary: nil}
		if _, err := serveStepBinary(mounts, "/bin/busybox"); err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Fatalf("err = %v, want the name reserved", err)
		}
	})
}

func TestOneFileFS(t *testing.T) {
	src := filepath.Join(t.TempDir(), "hardenkit")
	if err := os.WriteFile(src, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	var fs fsutil.FS = oneFileFS{src: src, info: fi}
	// BuildKit filters the session directory by the local's include
	// patterns, as the frontend asks (frontend.stepRunner).
	filtered, err := fsutil.NewFilterFS(fs, &fsutil.FilterOpt{IncludePatterns: []string{"bin/hardenkit-frontend"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"", "/"} {
		var walked []string
		err := filtered.Walk(t.Context(), target, func(p string, d gofs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			walked = append(walked, p+" "+info.Mode().String())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"bin drwxr-xr-x", "bin/hardenkit-frontend -rwxr-xr-x"}; !slices.Equal(walked, want) {
			t.Errorf("Walk(%q) = %q, want %q", target, walked, want)
		}
	}
	r, err := fs.Open("bin/hardenkit-frontend")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if dt, err := io.ReadAll(r); err != nil || !bytes.Equal(dt, []byte("binary")) {
		t.Errorf("Open = %q, %v; want the executable's bytes", dt, err)
	}
	if _, err := fs.Open("hardenkit"); !os.IsNotExist(err) {
		t.Errorf("Open(hardenkit) = %v, want not found: only the binary's path is served", err)
	}
}

func TestRunDispatchesSteps(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(t.Context(), []string{"smoke"}, &stderr); code != 1 || !strings.Contains(stderr.String(), "hardenkit smoke: usage: smoke --request FILE --out DIR") {
		t.Errorf("run(smoke) = %d, stderr %q; want the smoke step's usage error", code, stderr.String())
	}
	stderr.Reset()
	if code := run(t.Context(), []string{"version"}, &stderr); code != 0 {
		t.Errorf("run(version) = %d, stderr %q; want the CLI's version command", code, stderr.String())
	}
}
