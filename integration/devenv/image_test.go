package devenv

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var testApplets = []string{"bin/busybox", "bin/sh", "bin/ls", "linuxrc", "sbin/ifconfig", "usr/bin/[", "usr/bin/env", "usr/sbin/chroot"}

func digestOf(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestImageDigestsAreStable(t *testing.T) {
	tests := []struct {
		name  string
		build func(variant bool) (v1.Image, error)
	}{
		{
			name: "busybox",
			build: func(variant bool) (v1.Image, error) {
				bin := []byte("busybox binary")
				if variant {
					bin = []byte("another busybox")
				}
				return busyboxImage(bin, testApplets)
			},
		},
		{
			name: "busybox applets",
			build: func(variant bool) (v1.Image, error) {
				applets := testApplets
				if variant {
					applets = testApplets[:3]
				}
				return busyboxImage([]byte("busybox binary"), applets)
			},
		},
		{
			name: "frontend",
			build: func(variant bool) (v1.Image, error) {
				bin := []byte("\x7fELF frontend v1")
				if variant {
					bin = []byte("\x7fELF frontend v2")
				}
				return frontendImage(bin, []byte("\x7fELF probe"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.build(false)
			if err != nil {
				t.Fatal(err)
			}
			b, err := tt.build(false)
			if err != nil {
				t.Fatal(err)
			}
			c, err := tt.build(true)
			if err != nil {
				t.Fatal(err)
			}
			if da, db := digestOf(t, a), digestOf(t, b); da != db {
				t.Fatalf("same inputs, different digests: %s vs %s", da, db)
			}
			if digestOf(t, a) == digestOf(t, c) {
				t.Fatal("different inputs, same digest")
			}
			m, err := a.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
				t.Errorf("media types %s / %s", m.MediaType, m.Config.MediaType)
			}
			if len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
				t.Fatalf("layers = %+v", m.Layers)
			}
			cfg, err := a.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH || !cfg.Created.Time.Equal(epoch) {
				t.Errorf("config os=%s arch=%s created=%v", cfg.OS, cfg.Architecture, cfg.Created)
			}
			if len(cfg.History) != 1 || !cfg.History[0].Created.Time.Equal(epoch) {
				t.Errorf("history = %+v", cfg.History)
			}
		})
	}
}

// imageFiles returns the single layer of img as tar entries by name.
func imageFiles(t *testing.T, img v1.Image) map[string]tarEntry {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	m := map[string]tarEntry{}
	for _, e := range readTar(t, rc) {
		m[strings.TrimSuffix(e.Name, "/")] = e
	}
	return m
}

func TestBusyboxRootfsLayout(t *testing.T) {
	img, err := busyboxImage([]byte("busybox binary"), testApplets)
	if err != nil {
		t.Fatal(err)
	}
	files := imageFiles(t, img)
	tests := []struct {
		path     string
		typ      byte
		mode     int64
		linkname string
		contains string
	}{
		{path: "bin/busybox", typ: tar.TypeReg, mode: 0o755, contains: "busybox binary"},
		{path: "bin/sh", typ: tar.TypeSymlink, mode: 0o777, linkname: "/bin/busybox"},
		{path: "bin/ls", typ: tar.TypeSymlink, mode: 0o777, linkname: "/bin/busybox"},
		{path: "linuxrc", typ: tar.TypeSymlink, mode: 0o777, linkname: "/bin/busybox"},
		{path: "usr/bin/[", typ: tar.TypeSymlink, mode: 0o777, linkname: "/bin/busybox"},
		{path: "usr/sbin/chroot", typ: tar.TypeSymlink, mode: 0o777, linkname: "/bin/busybox"},
		{path: "tmp", typ: tar.TypeDir, mode: 0o1777},
		{path: "root", typ: tar.TypeDir, mode: 0o700},
		{path: "etc", typ: tar.TypeDir, mode: 0o755},
		{path: "etc/passwd", typ: tar.TypeReg, mode: 0o644, contains: "nobody:x:65534:65534:"},
		{path: "etc/passwd", typ: tar.TypeReg, mode: 0o644, contains: "root:x:0:0:"},
		{path: "etc/group", typ: tar.TypeReg, mode: 0o644, contains: "nobody:x:65534:"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			e, ok := files[tt.path]
			if !ok {
				t.Fatalf("%s missing", tt.path)
			}
			if e.Type != tt.typ || e.Mode != tt.mode || e.Linkname != tt.linkname {
				t.Errorf("got type %q mode %o link %q", e.Type, e.Mode, e.Linkname)
			}
			if !strings.Contains(e.Data, tt.contains) {
				t.Errorf("content %q lacks %q", e.Data, tt.contains)
			}
		})
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Config.Cmd, []string{"sh"}) || !slices.Equal(cfg.Config.Env, []string{defaultPath}) {
		t.Errorf("config = %+v", cfg.Config)
	}
}

func TestBusyboxRootfsErrors(t *testing.T) {
	tests := []struct {
		name    string
		binary  []byte
		applets []string
		wantErr string
	}{
		{name: "empty binary", applets: []string{"bin/sh"}, wantErr: "empty"},
		{name: "applet escapes root", binary: []byte("x"), applets: []string{"../sh"}, wantErr: "invalid layer path"},
		{name: "applet clashes", binary: []byte("x"), applets: []string{"etc/passwd"}, wantErr: "clashes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := busyboxRootfs(tt.binary, tt.applets)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestParseAppletList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{name: "sorted and deduplicated", in: "usr/bin/[\nbin/sh\n\nbin/sh\nlinuxrc\n", want: []string{"bin/sh", "linuxrc", "usr/bin/["}},
		{name: "absolute", in: "/bin/ash\n", want: []string{"bin/ash"}},
		{name: "empty", in: "\n", wantErr: true},
		{name: "escape", in: "../../etc/x\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAppletList([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHostBusybox builds the busybox rootfs from the host's busybox-static
// (make deps installs it); it only runs the binary with --list-full.
func TestHostBusybox(t *testing.T) {
	if err := checkStaticBinary(busyboxBinary); err != nil {
		t.Fatalf("no static busybox (apt-get install busybox-static, or make deps): %v", err)
	}
	applets, err := busyboxApplets(context.Background(), busyboxBinary)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bin/sh", "bin/busybox"} {
		if !slices.Contains(applets, want) {
			t.Errorf("applets lack %s", want)
		}
	}
	bin, err := os.ReadFile(busyboxBinary)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := busyboxRootfs(bin, applets)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < len(applets) {
		t.Fatalf("%d entries for %d applets", len(entries), len(applets))
	}
}

func TestFrontendImageConfig(t *testing.T) {
	img, err := frontendImage([]byte("\x7fELF frontend"), []byte("\x7fELF probe"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if !slices.Equal(c.Entrypoint, []string{"/bin/hardenkit-frontend"}) || c.User != "65532:65532" {
		t.Errorf("entrypoint %q user %q", c.Entrypoint, c.User)
	}
	if c.Labels["moby.buildkit.frontend.network.none"] != "true" {
		t.Errorf("labels = %v", c.Labels)
	}
	caps := strings.Split(c.Labels["moby.buildkit.frontend.caps"], ",")
	for _, want := range []string{"moby.buildkit.frontend.inputs", "moby.buildkit.frontend.subrequests", "moby.buildkit.frontend.contexts"} {
		if !slices.Contains(caps, want) {
			t.Errorf("caps %q lack %s", caps, want)
		}
	}
	files := imageFiles(t, img)
	if len(files) != 4 {
		t.Errorf("files = %v", files)
	}
	if probe := files["bin/hardenkit-probe"]; probe.Type != tar.TypeReg || probe.Mode != 0o755 || probe.ModTime != 0 || probe.Data != "\x7fELF probe" {
		t.Errorf("probe entry = %+v", probe)
	}
	if tmp := files["tmp"]; tmp.Type != tar.TypeDir || tmp.Mode != 0o1777 {
		t.Errorf("tmp entry = %+v, want a 1777 directory", tmp)
	}
	bin := files["bin/hardenkit-frontend"]
	if bin.Type != tar.TypeReg || bin.Mode != 0o755 || bin.ModTime != 0 || bin.Data != "\x7fELF frontend" {
		t.Errorf("binary entry = %+v", bin)
	}
}

func TestImageCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "images", "busybox")
	builds := 0
	build := func(bin string) func() (v1.Image, error) {
		return func() (v1.Image, error) {
			builds++
			return busyboxImage([]byte(bin), testApplets)
		}
	}
	first, err := cachedImage(dir, "k1", "library/busybox:latest", build("one"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := cachedImage(dir, "k1", "library/busybox:latest", build("one"))
	if err != nil {
		t.Fatal(err)
	}
	if builds != 1 {
		t.Fatalf("cache hit rebuilt: %d builds", builds)
	}
	if digestOf(t, first) != digestOf(t, again) {
		t.Fatal("cached image changed")
	}
	direct, err := busyboxImage([]byte("one"), testApplets)
	if err != nil {
		t.Fatal(err)
	}
	if digestOf(t, direct) != digestOf(t, first) {
		t.Fatal("cached image differs from a fresh assembly")
	}
	changed, err := cachedImage(dir, "k2", "library/busybox:latest", build("two"))
	if err != nil {
		t.Fatal(err)
	}
	if builds != 2 || digestOf(t, changed) == digestOf(t, first) {
		t.Fatalf("new key not rebuilt (builds=%d)", builds)
	}
	// The layout holds only the current image.
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations[inputKeyAnnotation] != "k2" {
		t.Fatalf("index = %+v", im.Manifests)
	}
}

func TestWriteOCITarIsDeterministic(t *testing.T) {
	img, err := frontendImage([]byte("\x7fELF frontend"), []byte("\x7fELF probe"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files [][]byte
	for _, name := range []string{"a.tar", "b.tar"} {
		p := filepath.Join(dir, name)
		if err := WriteOCITar(p, "hardenkit/frontend:dev", img); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("OCI tarball differs between runs")
	}
	got := map[string]bool{}
	for _, e := range readTar(t, bytes.NewReader(files[0])) {
		got[e.Name] = true
	}
	d := digestOf(t, img)
	for _, want := range []string{"oci-layout", "index.json", "blobs/sha256/" + d.Hex} {
		if !got[want] {
			t.Errorf("tarball lacks %s: %v", want, got)
		}
	}

	// Writing into a layout twice replaces the image of that name.
	ld := filepath.Join(dir, "layout")
	img2, err := mutate.CreatedAt(img, v1.Time{Time: epoch.Add(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []v1.Image{img, img2} {
		if err := WriteOCILayout(ld, "hardenkit/frontend:dev", i); err != nil {
			t.Fatal(err)
		}
	}
	p, err := layout.FromPath(ld)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != digestOf(t, img2) {
		t.Fatalf("layout index = %+v", im.Manifests)
	}
}
