package rootfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cacheutil "github.com/moby/buildkit/cache/util"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
)

func dir(p string) Entry  { return Entry{Path: p, Mode: fs.ModeDir | 0o755} }
func file(p string) Entry { return Entry{Path: p, Mode: 0o644, Size: 1} }
func link(p, target string) Entry {
	return Entry{Path: p, Mode: fs.ModeSymlink | 0o777, Linkname: target}
}

func TestResolve(t *testing.T) {
	entries := []Entry{
		dir("/usr"), dir("/usr/lib"), dir("/usr/lib/x86_64-linux-gnu"), dir("/lib64"), dir("/etc"),
		link("/lib", "usr/lib"),
		file("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
		link("/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
		link("/etc/abs", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
		link("/etc/up", "../../../../etc/abs"),
		link("/etc/loop1", "loop2"), link("/etc/loop2", "loop1"),
		link("/etc/self", "self"),
		link("/etc/dangling", "/nowhere"),
		file("/etc/passwd"),
		link("/etc/dotdot", "/lib/../etc/passwd"),
	}
	// A chain one hop longer than the kernel allows.
	for i := 0; i <= MaxSymlinkHops; i++ {
		entries = append(entries, link("/etc/hop"+strconv.Itoa(i), "hop"+strconv.Itoa(i+1)))
	}
	entries = append(entries, file("/etc/hop"+strconv.Itoa(MaxSymlinkHops+1)))
	tr := NewTree(entries)
	const ld = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
	tests := []struct {
		name       string
		in         string
		followLast bool
		want       string
		wantLinks  []string
		ok         bool
	}{
		{"plain", "/etc/passwd", true, "/etc/passwd", nil, true},
		{"relative link through merged usr", "/lib64/ld-linux-x86-64.so.2", true, ld, []string{"/lib64/ld-linux-x86-64.so.2", "/lib"}, true},
		{"absolute link", "/etc/abs", true, ld, []string{"/etc/abs", "/lib"}, true},
		{"dotdot above root stays at root", "/etc/up", true, ld, []string{"/etc/up", "/etc/abs", "/lib"}, true},
		{"dotdot is physical", "/etc/dotdot", true, "/usr/etc/passwd", nil, false},
		{"dotdot after real dir", "/usr/lib/../../etc/passwd", true, "/etc/passwd", nil, true},
		{"no follow last", "/lib64/ld-linux-x86-64.so.2", false, "/lib64/ld-linux-x86-64.so.2", nil, true},
		{"no follow last still follows parents", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", false, ld, []string{"/lib"}, true},
		{"loop", "/etc/loop1", true, "", nil, false},
		{"self loop", "/etc/self", true, "", nil, false},
		{"dangling", "/etc/dangling", true, "", nil, false},
		{"file as directory", "/etc/passwd/x", true, "", nil, false},
		{"missing", "/nope", true, "", nil, false},
		{"root", "/", true, "/", nil, true},
		{"too many hops", "/etc/hop0", true, "", nil, false},
		{"relative input", "etc/passwd", true, "/etc/passwd", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := tr.ResolveLinks(tc.in, tc.followLast)
			if ok != tc.ok {
				t.Fatalf("ResolveLinks(%q) ok = %v, want %v (got %+v)", tc.in, ok, tc.ok, r)
			}
			if !ok {
				return
			}
			if r.Path != tc.want {
				t.Errorf("ResolveLinks(%q).Path = %q, want %q", tc.in, r.Path, tc.want)
			}
			if tc.wantLinks != nil && !reflect.DeepEqual(r.Links, tc.wantLinks) {
				t.Errorf("ResolveLinks(%q).Links = %q, want %q", tc.in, r.Links, tc.wantLinks)
			}
		})
	}
}

func TestTreeQueries(t *testing.T) {
	tr := NewTree([]Entry{dir("/usr"), dir("/usr/lib"), file("/usr/lib/a"), dir("/usr/lib-x"), file("/usr/lib-x/b"), file("/usr/lib0"), dir("/usr/lib/sub"), file("/usr/lib/sub/c")})
	if got, want := tr.Below("/usr/lib"), []string{"/usr/lib/a", "/usr/lib/sub", "/usr/lib/sub/c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Below = %q, want %q", got, want)
	}
	if got := tr.Paths(); got[0] != "/" || len(got) != 9 {
		t.Errorf("Paths = %q, want root first and 9 paths", got)
	}
	var kids []string
	for _, e := range tr.Children("/usr") {
		kids = append(kids, e.Path)
	}
	if want := []string{"/usr/lib", "/usr/lib-x", "/usr/lib0"}; !reflect.DeepEqual(kids, want) {
		t.Errorf("Children = %q, want %q", kids, want)
	}
	if _, ok := tr.Lookup("/usr/lib/../lib/a"); !ok {
		t.Error("Lookup does not clean its argument")
	}
}

// writeFixture builds a small rootfs with the shapes Load must handle.
func writeFixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "usr/lib/deep/er"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(root, "usr/bin/busybox"), []byte("multi-call"), 0o755))
	must(os.Link(filepath.Join(root, "usr/bin/busybox"), filepath.Join(root, "usr/bin/sh")))
	must(os.Link(filepath.Join(root, "usr/bin/busybox"), filepath.Join(root, "usr/bin/ash")))
	must(os.Link(filepath.Join(root, "usr/bin/busybox"), filepath.Join(root, "etc/elsewhere")))
	must(os.WriteFile(filepath.Join(root, "usr/lib/deep/er/f"), []byte("deep"), 0o644))
	must(os.Symlink("usr/bin", filepath.Join(root, "bin")))
	must(os.Symlink("/usr/lib/deep", filepath.Join(root, "etc/deep")))
	must(os.WriteFile(filepath.Join(root, "usr/bin/suid"), []byte("x"), 0o755))
	must(os.Chmod(filepath.Join(root, "usr/bin/suid"), 0o755|fs.ModeSetuid))
	return root
}

func TestLoadDirSource(t *testing.T) {
	root := writeFixture(t)
	tr, err := Load(t.Context(), DirSource(root))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/", "/bin", "/etc", "/etc/deep", "/etc/elsewhere", "/usr", "/usr/bin", "/usr/bin/ash", "/usr/bin/busybox", "/usr/bin/sh", "/usr/bin/suid", "/usr/lib", "/usr/lib/deep", "/usr/lib/deep/er", "/usr/lib/deep/er/f"}
	if got := tr.Paths(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Paths = %q\nwant %q", got, want)
	}
	tests := []struct {
		path     string
		linkname string
		size     int64
		check    func(Entry) bool
	}{
		{"/usr/bin/ash", "", 10, Entry.IsRegular},
		{"/usr/bin/busybox", "/usr/bin/ash", 10, Entry.IsHardlink},
		{"/usr/bin/sh", "/usr/bin/ash", 10, Entry.IsHardlink},
		{"/etc/elsewhere", "", 10, Entry.IsRegular},
		{"/bin", "usr/bin", 7, Entry.IsSymlink},
		{"/usr/bin/suid", "", 1, func(e Entry) bool { return e.Mode&fs.ModeSetuid != 0 }},
		{"/usr/lib", "", 0, Entry.IsDir},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			e, ok := tr.Lookup(tc.path)
			if !ok {
				t.Fatal("missing")
			}
			if e.Linkname != tc.linkname || e.Size != tc.size || !tc.check(e) {
				t.Errorf("entry = %+v, want linkname %q size %d", e, tc.linkname, tc.size)
			}
		})
	}
	if got, ok := tr.Resolve("/etc/deep/er/f"); !ok || got != "/usr/lib/deep/er/f" {
		t.Errorf("Resolve = %q %v", got, ok)
	}
}

func TestDirSourceConfined(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "secret"), []byte("image"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../"+filepath.Join(outside, "secret"), filepath.Join(root, "rel")); err != nil {
		t.Fatal(err)
	}
	src := DirSource(root)
	for _, p := range []string{"/abs", "/rel"} {
		if b, err := src.ReadFile(t.Context(), p, 0, 0); err == nil {
			t.Errorf("ReadFile(%s) escaped the root: %q", p, b)
		}
	}
	if err := os.Symlink("/secret", filepath.Join(root, "inside")); err != nil {
		t.Fatal(err)
	}
	b, err := src.ReadFile(t.Context(), "/inside", 0, 0)
	if err != nil || string(b) != "image" {
		t.Errorf("ReadFile(/inside) = %q, %v; want the image's file", b, err)
	}
}

// gatewayRef answers like BuildKit's gateway does, by calling the same
// server-side functions (cache/util ReadDir and ReadFile with the 16 MiB
// message limit) on a local directory.
type gatewayRef struct {
	root      string
	readCalls atomic.Int64
	readBytes atomic.Int64
}

const gatewayMaxSize = 16 << 20

func (g *gatewayRef) ReadFile(ctx context.Context, req gwclient.ReadRequest) ([]byte, error) {
	r := cacheutil.ReadRequest{Filename: req.Filename}
	if req.Range != nil {
		r.Range = &cacheutil.FileRange{Offset: req.Range.Offset, Length: req.Range.Length}
	}
	g.readCalls.Add(1)
	b, err := cacheutil.ReadFile(ctx, g.root, r, gatewayMaxSize)
	g.readBytes.Add(int64(len(b)))
	return b, err
}

func (g *gatewayRef) ReadDir(ctx context.Context, req gwclient.ReadDirRequest) ([]*fstypes.Stat, error) {
	return cacheutil.ReadDir(ctx, g.root, cacheutil.ReadDirRequest{Path: req.Path, IncludePattern: req.IncludePattern})
}

func TestReferenceSourceMatchesDirSource(t *testing.T) {
	root := writeFixture(t)
	viaDir, err := Load(t.Context(), DirSource(root))
	if err != nil {
		t.Fatal(err)
	}
	viaRef, err := Load(t.Context(), ReferenceSource(&gatewayRef{root: root}))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := viaDir.Entries(), viaRef.Entries(); !reflect.DeepEqual(a, b) {
		for i := range min(len(a), len(b)) {
			if !reflect.DeepEqual(a[i], b[i]) {
				t.Errorf("first difference:\n dir %+v\n ref %+v", a[i], b[i])
				break
			}
		}
		t.Fatalf("trees differ: %d vs %d entries", len(a), len(b))
	}
}

// fakeRef returns hand-written Stats, to pin the conversion rules.
type fakeRef struct {
	dirs map[string][]*fstypes.Stat
}

func (f fakeRef) ReadFile(context.Context, gwclient.ReadRequest) ([]byte, error) {
	return nil, errors.New("not used")
}

func (f fakeRef) ReadDir(_ context.Context, req gwclient.ReadDirRequest) ([]*fstypes.Stat, error) {
	return f.dirs[req.Path], nil
}

func TestReferenceSourceConversion(t *testing.T) {
	tests := []struct {
		name    string
		stats   []*fstypes.Stat
		want    []Entry
		wantErr string
	}{
		{
			name: "modes and hard links",
			stats: []*fstypes.Stat{
				{Path: "[", Mode: 0o755, Size: 900, Uid: 1, Gid: 2, ModTime: 5},
				{Path: "busybox", Mode: 0o755, Size: 0, Linkname: "["},
				{Path: "lib", Mode: uint32(fs.ModeSymlink | 0o777), Size: 7, Linkname: "usr/lib"},
				{Path: "su", Mode: uint32(fs.ModeSetuid | 0o755), Size: 3, Xattrs: map[string][]byte{"security.capability": {1}}},
				{Path: "tmp", Mode: uint32(fs.ModeDir | fs.ModeSticky | 0o777)},
			},
			want: []Entry{
				{Path: "/bin/[", Mode: 0o755, Size: 900, UID: 1, GID: 2, ModTime: 5},
				{Path: "/bin/busybox", Mode: 0o755, Size: 900, Linkname: "/bin/["},
				{Path: "/bin/lib", Mode: fs.ModeSymlink | 0o777, Size: 7, Linkname: "usr/lib"},
				{Path: "/bin/su", Mode: fs.ModeSetuid | 0o755, Size: 3, Xattrs: map[string][]byte{"security.capability": {1}}},
				{Path: "/bin/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
			},
		},
		{name: "nested path refused", stats: []*fstypes.Stat{{Path: "a/b", Mode: 0o644}}, wantErr: "not a base name"},
		{name: "dangling hard link", stats: []*fstypes.Stat{{Path: "a", Mode: 0o644, Linkname: "zz"}}, wantErr: "not in the listing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReferenceSource(fakeRef{dirs: map[string][]*fstypes.Stat{"/bin": tc.stats}}).ReadDir(t.Context(), "/bin")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReadDir =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestLoadRejectsNonChildren(t *testing.T) {
	src := ReferenceSource(fakeRef{dirs: map[string][]*fstypes.Stat{"/": {{Path: "..", Mode: 0o644}}}})
	if _, err := Load(t.Context(), src); err == nil {
		t.Fatal("Load accepted an entry outside its directory")
	}
}

func TestReferenceSourceReadFile(t *testing.T) {
	root := t.TempDir()
	// Larger than the gateway's 16 MiB limit: only ranged reads get it.
	big := bytes.Repeat([]byte("0123456789abcdef"), (gatewayMaxSize+3*maxGatewayRead+123)/16)
	if err := os.WriteFile(filepath.Join(root, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "empty"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	src := ReferenceSource(&gatewayRef{root: root})
	tests := []struct {
		name           string
		path           string
		offset, length int64
		want           []byte
	}{
		{"whole big file", "/big", 0, 0, big},
		{"range across chunks", "/big", maxGatewayRead - 5, maxGatewayRead + 10, big[maxGatewayRead-5 : 2*maxGatewayRead+5]},
		{"tail", "/big", int64(len(big)) - 3, 100, big[len(big)-3:]},
		{"past end", "/big", int64(len(big)) + 10, 0, []byte{}},
		{"empty file", "/empty", 0, 0, []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := src.ReadFile(t.Context(), tc.path, tc.offset, tc.length)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("ReadFile got %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
	sum, err := SHA256(t.Context(), src, "/big")
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(big)
	if sum != hex.EncodeToString(want[:]) {
		t.Error("SHA256 over ranged reads differs from the content's hash")
	}
}

func TestReaderAtParsesELFPartially(t *testing.T) {
	// The test binary itself is an ELF file every run has.
	host, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(host)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	data, err := os.ReadFile(host)
	if err != nil {
		t.Fatal(err)
	}
	// Pad the binary so that a whole-file read would be obvious.
	data = append(data, make([]byte, 8<<20)...)
	if err := os.WriteFile(filepath.Join(root, "ls"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	ref := &gatewayRef{root: root}
	ra := ReaderAt(t.Context(), ReferenceSource(ref), "/ls", int64(len(data)))
	f, err := elf.NewFile(ra)
	if err != nil {
		t.Fatalf("elf.NewFile over ReaderAt (%d bytes): %v", fi.Size(), err)
	}
	if _, err := f.ImportedLibraries(); err != nil {
		t.Fatal(err)
	}
	if got := ref.readBytes.Load(); got >= int64(len(data))/2 {
		t.Errorf("parsing read %d of %d bytes; want a fraction", got, len(data))
	}
	// Reads at and past the end follow the io.ReaderAt contract.
	buf := make([]byte, 10)
	if n, err := ra.ReadAt(buf, int64(len(data))-4); n != 4 || err != io.EOF {
		t.Errorf("ReadAt at end = %d, %v; want 4, EOF", n, err)
	}
}

// countingSource records how many ReadDir calls run at once.
type countingSource struct {
	Source
	cur, peak atomic.Int64
}

func (c *countingSource) ReadDir(ctx context.Context, dir string) ([]Entry, error) {
	n := c.cur.Add(1)
	defer c.cur.Add(-1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond)
	return c.Source.ReadDir(ctx, dir)
}

func TestLoadBoundedAndDeterministic(t *testing.T) {
	root := t.TempDir()
	for i := range 40 {
		d := filepath.Join(root, "d"+strconv.Itoa(i), "sub")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "f"), []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var first []Entry
	for range 3 {
		src := &countingSource{Source: DirSource(root)}
		tr, err := Load(t.Context(), src)
		if err != nil {
			t.Fatal(err)
		}
		if p := src.peak.Load(); p > LoadParallelism || p < 2 {
			t.Errorf("peak concurrent ReadDir = %d, want 2..%d", p, LoadParallelism)
		}
		if first == nil {
			first = tr.Entries()
		} else if !reflect.DeepEqual(first, tr.Entries()) {
			t.Fatal("two loads of the same directory differ")
		}
	}
	if len(first) != 1+40*3 {
		t.Errorf("loaded %d entries, want %d", len(first), 1+40*3)
	}
}
