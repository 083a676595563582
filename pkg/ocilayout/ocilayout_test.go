package ocilayout

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

type entry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func layerTar(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Size: int64(len(e.body))}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func layoutTar(t *testing.T, layers ...[]byte) []byte {
	t.Helper()
	return layoutTarTyped(t, ocispecs.MediaTypeImageLayerGzip, layers...)
}

func layoutTarTyped(t *testing.T, layerType string, layers ...[]byte) []byte {
	t.Helper()
	blobs := map[digest.Digest][]byte{}
	add := func(dt []byte) ocispecs.Descriptor {
		d := digest.FromBytes(dt)
		blobs[d] = dt
		return ocispecs.Descriptor{Digest: d, Size: int64(len(dt))}
	}
	cfg := add([]byte(`{"architecture":"amd64","os":"linux","config":{"User":"1"}}`))
	cfg.MediaType = ocispecs.MediaTypeImageConfig
	m := ocispecs.Manifest{Config: cfg}
	for _, l := range layers {
		d := add(l)
		d.MediaType = layerType
		m.Layers = append(m.Layers, d)
	}
	mdt, _ := json.Marshal(m)
	md := add(mdt)
	md.MediaType = ocispecs.MediaTypeImageManifest
	// A signature referrer beside the image, as hardenkit sign adds one.
	empty := add([]byte("{}"))
	empty.MediaType = "application/vnd.oci.empty.v1+json"
	bundle := add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	bundle.MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	subject := md
	rdt, _ := json.Marshal(ocispecs.Manifest{MediaType: ocispecs.MediaTypeImageManifest, ArtifactType: bundle.MediaType, Config: empty, Layers: []ocispecs.Descriptor{bundle}, Subject: &subject})
	rd := add(rdt)
	rd.MediaType = ocispecs.MediaTypeImageManifest
	idx, _ := json.Marshal(ocispecs.Index{Manifests: []ocispecs.Descriptor{md, rd}})

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(name string, dt []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(dt))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(dt)
	}
	write("index.json", idx)
	for d, dt := range blobs {
		write("blobs/sha256/"+d.Encoded(), dt)
	}
	tw.Close()
	return buf.Bytes()
}

func TestFilesAppliesWhiteouts(t *testing.T) {
	l1 := layerTar(t, []entry{
		{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/a", typ: tar.TypeReg, mode: 0o644, body: "a"},
		{name: "etc/b", typ: tar.TypeReg, mode: 0o644, body: "b"},
		{name: "opq/", typ: tar.TypeDir, mode: 0o755},
		{name: "opq/old", typ: tar.TypeReg, mode: 0o644, body: "old"},
		{name: "bin/sh", typ: tar.TypeSymlink, link: "busybox"},
	})
	l2 := layerTar(t, []entry{
		{name: "etc/.wh.a", typ: tar.TypeReg},
		{name: "opq/.wh..wh..opq", typ: tar.TypeReg},
		{name: "opq/new", typ: tar.TypeReg, mode: 0o600, body: "new"},
		{name: "etc/hard", typ: tar.TypeLink, link: "etc/b"},
	})
	l, err := Read(bytes.NewReader(layoutTar(t, l1, l2)))
	if err != nil {
		t.Fatal(err)
	}
	img, err := l.Single()
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Config["config"].(map[string]any)["User"]; got != "1" {
		t.Fatalf("config User = %v", got)
	}
	files, err := img.Files()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path    string
		present bool
		content string
	}{
		{"/etc/a", false, ""},
		{"/etc/b", true, "b"},
		{"/opq/old", false, ""},
		{"/opq/new", true, "new"},
		{"/etc/hard", true, "b"},
		{"/bin/sh", true, ""},
	}
	for _, tt := range tests {
		f, ok := files[tt.path]
		if ok != tt.present {
			t.Errorf("%s present = %v, want %v", tt.path, ok, tt.present)
			continue
		}
		if ok && string(f.Content) != tt.content {
			t.Errorf("%s content = %q, want %q", tt.path, f.Content, tt.content)
		}
	}
	if files["/bin/sh"].Linkname != "busybox" {
		t.Errorf("symlink target = %q", files["/bin/sh"].Linkname)
	}
	if _, err := l.Platform("linux/amd64"); err != nil {
		t.Errorf("Platform(linux/amd64): %v", err)
	}
	if _, err := l.Platform("linux/arm64"); err == nil {
		t.Error("Platform(linux/arm64) found an image")
	}
}

func TestReadRejectsTarWithoutIndex(t *testing.T) {
	tests := []struct {
		name string
		dirs []string
	}{
		{"empty", nil},
		// Directories named like layout files are not them: an error, no panic.
		{"index.json is a directory", []string{"index.json/", "blobs/sha256/abc/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, d := range tt.dirs {
				if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
					t.Fatal(err)
				}
			}
			tw.Close()
			if _, err := Read(&buf); err == nil {
				t.Fatal("Read() of a tar without index.json succeeded")
			}
		})
	}
}

// TestFilesZstd: BuildKit writes zstd layers with compression=zstd; they
// flatten like gzip ones.
func TestFilesZstd(t *testing.T) {
	var plain bytes.Buffer
	tw := tar.NewWriter(&plain)
	for _, e := range []entry{{name: "etc/", typ: tar.TypeDir, mode: 0o755}, {name: "etc/motd", typ: tar.TypeReg, mode: 0o644, body: "zstd works"}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	var z bytes.Buffer
	zw, err := zstd.NewWriter(&z)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(plain.Bytes())
	zw.Close()
	l, err := Read(bytes.NewReader(layoutTarTyped(t, ocispecs.MediaTypeImageLayerZstd, z.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	files := singleFiles(t, l)
	if got := string(files["/etc/motd"].Content); got != "zstd works" {
		t.Fatalf("/etc/motd = %q", got)
	}
}

// TestDirectoryAndArchiveAgree: a tarball read in memory, the same tarball
// unpacked into a layout directory and that directory packed again all
// show the same image.
func TestDirectoryAndArchiveAgree(t *testing.T) {
	archive := layoutTar(t, layerTar(t, []entry{{name: "etc/motd", typ: tar.TypeReg, mode: 0o644, body: "hi"}}))
	dir := t.TempDir()
	if err := Extract(bytes.NewReader(archive), dir); err != nil {
		t.Fatal(err)
	}
	var repacked bytes.Buffer
	if err := WriteArchive(&repacked, dir); err != nil {
		t.Fatal(err)
	}
	open := map[string]func() (*Layout, error){
		"archive":  func() (*Layout, error) { return Read(bytes.NewReader(archive)) },
		"dir":      func() (*Layout, error) { return Open(dir) },
		"repacked": func() (*Layout, error) { return Read(bytes.NewReader(repacked.Bytes())) },
	}
	for name, o := range open {
		t.Run(name, func(t *testing.T) {
			l, err := o()
			if err != nil {
				t.Fatal(err)
			}
			files := singleFiles(t, l)
			if got := string(files["/etc/motd"].Content); got != "hi" {
				t.Errorf("/etc/motd = %q, want hi", got)
			}
		})
	}
}

// TestArchiveEntriesStayInside: neither reading nor extracting follows a
// name out of the layout.
func TestArchiveEntriesStayInside(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("x"))
	tw.Close()
	parent := t.TempDir()
	dir := parent + "/layout"
	if err := Extract(bytes.NewReader(buf.Bytes()), dir); err == nil {
		t.Error("Extract accepted ../escape")
	}
	if _, err := Read(bytes.NewReader(buf.Bytes())); err == nil {
		t.Error("Read accepted ../escape")
	}
	if _, err := os.Stat(parent + "/escape"); err == nil {
		t.Error("Extract wrote outside the layout")
	}
}

func TestOpenNeedsIndex(t *testing.T) {
	if _, err := Open(t.TempDir()); err == nil {
		t.Fatal("Open of a directory without index.json succeeded")
	}
}

// singleFiles is the flattened root filesystem of the layout's only image.
func singleFiles(t *testing.T, l *Layout) map[string]File {
	t.Helper()
	img, err := l.Single()
	if err != nil {
		t.Fatal(err)
	}
	files, err := img.Files()
	if err != nil {
		t.Fatal(err)
	}
	return files
}
