package devenv

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tarEntry is what the tests compare of a tar header.
type tarEntry struct {
	Name     string
	Type     byte
	Mode     int64
	Linkname string
	Data     string
	ModTime  int64
}

// readTar lists the entries of an uncompressed tar stream.
func readTar(t *testing.T, r io.Reader) []tarEntry {
	t.Helper()
	var out []tarEntry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading %s: %v", h.Name, err)
		}
		out = append(out, tarEntry{Name: h.Name, Type: h.Typeflag, Mode: h.Mode, Linkname: h.Linkname, Data: string(data), ModTime: h.ModTime.Unix()})
	}
}

func names(entries []tarEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name)
	}
	return out
}

func TestBuildTar(t *testing.T) {
	tests := []struct {
		name    string
		entries []fileEntry
		want    []string
		wantErr string
	}{
		{
			name: "sorted with parents",
			entries: []fileEntry{
				fileData("usr/bin/x", 0o755, []byte("x")),
				symlinkEntry("bin/sh", "/bin/busybox"),
				dirEntry("tmp", 0o1777),
			},
			want: []string{"bin/", "bin/sh", "tmp/", "usr/", "usr/bin/", "usr/bin/x"},
		},
		{
			name:    "leading slash and dot segments are cleaned",
			entries: []fileEntry{fileData("/etc/./passwd", 0o644, nil)},
			want:    []string{"etc/", "etc/passwd"},
		},
		{
			name:    "duplicate",
			entries: []fileEntry{fileData("a", 0o644, nil), fileData("/a", 0o644, nil)},
			wantErr: "duplicate layer path",
		},
		{
			name:    "escape",
			entries: []fileEntry{fileData("../a", 0o644, nil)},
			wantErr: "invalid layer path",
		},
		{
			name:    "file as parent",
			entries: []fileEntry{fileData("a", 0o644, nil), fileData("a/b", 0o644, nil)},
			wantErr: "non-directory parent",
		},
		{
			name:    "unsupported type",
			entries: []fileEntry{{Name: "fifo", Type: tar.TypeFifo}},
			wantErr: "unsupported entry type",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := buildTar(tt.entries, epoch)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := readTar(t, bytes.NewReader(b))
			if strings.Join(names(got), ",") != strings.Join(tt.want, ",") {
				t.Fatalf("entries = %q, want %q", names(got), tt.want)
			}
			for _, e := range got {
				if e.ModTime != 0 {
					t.Errorf("%s: mtime %d, want 0", e.Name, e.ModTime)
				}
			}
			// Input order must not matter.
			rev := make([]fileEntry, len(tt.entries))
			for i, e := range tt.entries {
				rev[len(rev)-1-i] = e
			}
			b2, err := buildTar(rev, epoch)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Fatal("tar bytes depend on entry order")
			}
		})
	}
}

// rawEntry is an entry of a hand-made, mmdebstrap-like rootfs tarball.
type rawEntry struct {
	hdr  tar.Header
	data string
}

func writeRawTar(t *testing.T, p string, entries []rawEntry) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		h.Size = int64(len(e.data))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// debianLikeEntries mimics the shape of mmdebstrap's output: "./" names,
// /dev first with device nodes, unsorted order and a hard link that sorts
// before its target.
func debianLikeEntries() []rawEntry {
	t1 := time.Unix(1700000000, 0)
	t2 := time.Unix(1750000000, 0)
	return []rawEntry{
		{hdr: tar.Header{Name: "./dev/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: t2}},
		{hdr: tar.Header{Name: "./dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3, ModTime: t2}},
		{hdr: tar.Header{Name: "./dev/fd", Typeflag: tar.TypeSymlink, Linkname: "/proc/self/fd", Mode: 0o777, ModTime: t2}},
		{hdr: tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: t2}},
		{hdr: tar.Header{Name: "./bin", Typeflag: tar.TypeSymlink, Linkname: "usr/bin", Mode: 0o777, ModTime: t1}},
		{hdr: tar.Header{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: t1}},
		{hdr: tar.Header{Name: "./usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: t1}},
		{hdr: tar.Header{Name: "./usr/bin/perl5", Typeflag: tar.TypeReg, Mode: 0o755, ModTime: t1, Uname: "root"}, data: "perl"},
		{hdr: tar.Header{Name: "./usr/bin/dpkg", Typeflag: tar.TypeReg, Mode: 0o755, ModTime: t1}, data: "dpkg"},
		{hdr: tar.Header{Name: "./usr/bin/perl", Typeflag: tar.TypeLink, Linkname: "./usr/bin/perl5", ModTime: t1}},
		{hdr: tar.Header{Name: "./tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: t1}},
	}
}

func TestIndexRootfsTar(t *testing.T) {
	dir := t.TempDir()
	entries := debianLikeEntries()
	a := filepath.Join(dir, "a.tar")
	writeRawTar(t, a, entries)
	// The same files in another order must give the same layer.
	rev := make([]rawEntry, len(entries))
	for i, e := range entries {
		rev[len(rev)-1-i] = e
	}
	b := filepath.Join(dir, "b.tar")
	writeRawTar(t, b, rev)

	var outs [][]byte
	for _, p := range []string{a, b} {
		n, err := indexRootfsTar(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := n.MaxMtime.Unix(); got != 1750000000 {
			t.Errorf("MaxMtime = %d", got)
		}
		var buf bytes.Buffer
		if _, err := n.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, buf.Bytes())
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("canonical tar depends on input order")
	}
	got := readTar(t, bytes.NewReader(outs[0]))
	want := []tarEntry{
		{Name: "bin", Type: tar.TypeSymlink, Mode: 0o777, Linkname: "usr/bin", ModTime: 1700000000},
		{Name: "dev", Type: tar.TypeDir, Mode: 0o755, ModTime: 1750000000},
		{Name: "tmp", Type: tar.TypeDir, Mode: 0o1777, ModTime: 1700000000},
		{Name: "usr", Type: tar.TypeDir, Mode: 0o755, ModTime: 1700000000},
		{Name: "usr/bin", Type: tar.TypeDir, Mode: 0o755, ModTime: 1700000000},
		{Name: "usr/bin/dpkg", Type: tar.TypeReg, Mode: 0o755, Data: "dpkg", ModTime: 1700000000},
		// The link sorted before its target, so it now carries the data.
		{Name: "usr/bin/perl", Type: tar.TypeReg, Mode: 0o755, Data: "perl", ModTime: 1700000000},
		{Name: "usr/bin/perl5", Type: tar.TypeLink, Mode: 0o755, Linkname: "usr/bin/perl", ModTime: 1700000000},
	}
	if len(got) != len(want) {
		t.Fatalf("entries = %q, want %d entries", names(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	// The streamed layer and the image built on it are stable too.
	img1, err := debianImage(a)
	if err != nil {
		t.Fatal(err)
	}
	img2, err := debianImage(b)
	if err != nil {
		t.Fatal(err)
	}
	d1, err := img1.Digest()
	if err != nil {
		t.Fatal(err)
	}
	d2, err := img2.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Fatalf("debian image digests differ: %s vs %s", d1, d2)
	}
	cfg, err := img1.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Created.Unix() != 1750000000 || strings.Join(cfg.Config.Cmd, " ") != "bash" {
		t.Errorf("config created %v cmd %q", cfg.Created, cfg.Config.Cmd)
	}
}

func TestIndexRootfsTarErrors(t *testing.T) {
	tests := []struct {
		name    string
		entries []rawEntry
		wantErr string
	}{
		{name: "empty", wantErr: "holds no files"},
		{
			name:    "device outside dev",
			entries: []rawEntry{{hdr: tar.Header{Name: "./null", Typeflag: tar.TypeChar, Mode: 0o666}}},
			wantErr: "outside /dev",
		},
		{
			name:    "dangling hard link",
			entries: []rawEntry{{hdr: tar.Header{Name: "./a", Typeflag: tar.TypeLink, Linkname: "./b"}}},
			wantErr: "points to missing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "r.tar")
			writeRawTar(t, p, tt.entries)
			_, err := indexRootfsTar(p)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}
