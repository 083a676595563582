// Package rootfstest builds root filesystem fixtures in temporary
// directories for tests of hardenkit's image analysis: Debian-style
// layouts, copies of the host's real binaries with their libraries,
// statically linked Go programs and hand-made ELF objects. Nothing here
// needs a BuildKit daemon.
package rootfstest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Layout is a root filesystem under construction in a temporary directory.
type Layout struct {
	t testing.TB
	// Root is the host directory holding the image's "/".
	Root string
}

// New returns an empty layout in a fresh t.TempDir().
func New(t testing.TB) *Layout {
	t.Helper()
	return &Layout{t: t, Root: t.TempDir()}
}

func (l *Layout) host(p string) string {
	return filepath.Join(l.Root, filepath.FromSlash(p))
}

func (l *Layout) check(err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatal(err)
	}
}

// Dir creates directory p and its parents with mode 0755.
func (l *Layout) Dir(p string) *Layout {
	l.t.Helper()
	l.check(os.MkdirAll(l.host(p), 0o755))
	return l
}

// File writes a file, creating parent directories. mode may carry
// fs.ModeSetuid and friends.
func (l *Layout) File(p string, data []byte, mode fs.FileMode) *Layout {
	l.t.Helper()
	l.Dir(path.Dir(p))
	l.check(os.WriteFile(l.host(p), data, mode.Perm()))
	// WriteFile is subject to the umask and ignores special bits.
	l.check(os.Chmod(l.host(p), mode))
	return l
}

// Symlink creates a symlink at p pointing to target, as written.
func (l *Layout) Symlink(p, target string) *Layout {
	l.t.Helper()
	l.Dir(path.Dir(p))
	l.check(os.Symlink(target, l.host(p)))
	return l
}

// Hardlink makes p another name for the existing file at existing.
func (l *Layout) Hardlink(p, existing string) *Layout {
	l.t.Helper()
	l.Dir(path.Dir(p))
	l.check(os.Link(l.host(existing), l.host(p)))
	return l
}

// Stamp sets the modification time of every entry, symlinks included, so
// that two layouts built from the same steps have equal metadata, as two
// snapshots sharing a layer do.
func (l *Layout) Stamp(mtime time.Time) *Layout {
	l.t.Helper()
	ts := []unix.Timespec{unix.NsecToTimespec(mtime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	l.check(filepath.WalkDir(l.Root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	}))
	return l
}

// Read returns the content of a file in the layout.
func (l *Layout) Read(p string) []byte {
	l.t.Helper()
	b, err := os.ReadFile(l.host(p))
	l.check(err)
	return b
}

// Source returns a rootfs.Source over the layout.
func (l *Layout) Source() rootfs.Source {
	return rootfs.DirSource(l.Root)
}

// Load loads the layout as a tree.
func (l *Layout) Load() (*rootfs.Tree, rootfs.Source) {
	l.t.Helper()
	src := l.Source()
	tr, err := rootfs.Load(l.t.Context(), src)
	l.check(err)
	return tr, src
}

// Triple is the Debian multiarch tuple of the host, or "" when the host is
// not a Linux machine the fixtures support.
func Triple() string {
	if runtime.GOOS != "linux" {
		return ""
	}
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	}
	return ""
}

// Debian lays out a merged-/usr Debian skeleton: /bin, /sbin and /lib as
// symlinks into /usr, a real /lib64 directory, and ld.so.conf including
// /etc/ld.so.conf.d/*.conf with the multiarch directories.
func (l *Layout) Debian() *Layout {
	l.t.Helper()
	tr := Triple()
	if tr == "" {
		l.t.Fatalf("no Debian fixture for %s/%s: add its multiarch triple to Triple", runtime.GOOS, runtime.GOARCH)
	}
	l.Dir("/usr/bin").Dir("/usr/sbin").Dir("/usr/lib/" + tr).Dir("/lib64").Dir("/etc/ld.so.conf.d").Dir("/tmp").Dir("/usr/local/bin")
	l.Symlink("/bin", "usr/bin").Symlink("/sbin", "usr/sbin").Symlink("/lib", "usr/lib")
	l.File("/etc/ld.so.conf", []byte("include /etc/ld.so.conf.d/*.conf\n\n"), 0o644)
	l.File("/etc/ld.so.conf.d/libc.conf", []byte("# libc default configuration\n/usr/local/lib\n"), 0o644)
	l.File("/etc/ld.so.conf.d/"+tr+".conf", []byte("# Multiarch support\n/usr/local/lib/"+tr+"\n/lib/"+tr+"\n/usr/lib/"+tr+"\n"), 0o644)
	return l
}

// hostLibDirs are where the host's libraries are looked up.
func hostLibDirs() []string {
	tr := Triple()
	return []string{"/lib/" + tr, "/usr/lib/" + tr, "/lib64", "/usr/lib64", "/lib", "/usr/lib"}
}

// CopyELF copies the host's ELF file hostPath to dest and every library
// it needs, found on the host without ldd, into /usr/lib/<triple> of a
// Debian layout (under its real name plus a soname symlink when they
// differ), and installs the program interpreter at the path the binary
// names, as a relative symlink into /usr/lib/<triple>. It fails the test
// when the host lacks the file (see HostFile).
func (l *Layout) CopyELF(hostPath, dest string, mode fs.FileMode) *Layout {
	l.t.Helper()
	l.File(dest, HostFile(l.t, hostPath), mode)
	seen := map[string]bool{}
	l.copyDeps(hostPath, seen)
	return l
}

// hostPackages names the Debian package that ships each host file tests
// use as it is, for the message when one is missing.
var hostPackages = map[string]string{
	"/usr/bin/busybox": "busybox-static",
	"/usr/bin/dash":    "dash",
	"/usr/bin/bash":    "bash",
	"/usr/bin/perl":    "perl-base",
	"/usr/bin/python3": "python3",
	"/usr/bin/ls":      "coreutils",
}

// HostFile reads a host file that a test needs as it really is — a real
// shell, a real BusyBox, a dynamically linked program and its libraries.
// A missing file fails the test, naming the Debian package to install: a
// test that cannot build its fixture must not pass untested.
func HostFile(t testing.TB, hostPath string) []byte {
	t.Helper()
	data, err := os.ReadFile(hostPath)
	if err != nil {
		pkg := hostPackages[hostPath]
		if pkg == "" {
			pkg = "the package that ships it"
		}
		t.Fatalf("this test needs the host's %s: %v; install %s", hostPath, err, pkg)
	}
	return data
}

func (l *Layout) copyDeps(hostPath string, seen map[string]bool) {
	l.t.Helper()
	f, err := elf.Open(hostPath)
	l.check(err)
	defer f.Close()
	tr := Triple()
	libDir := "/usr/lib/" + tr
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		_, err := p.ReadAt(b, 0)
		l.check(err)
		interp := strings.TrimRight(string(b), "\x00")
		if seen[interp] {
			continue
		}
		seen[interp] = true
		real, err := filepath.EvalSymlinks(interp)
		l.check(err)
		base := path.Base(interp)
		if _, err := os.Lstat(l.host(libDir + "/" + base)); err != nil {
			l.File(libDir+"/"+base, HostFile(l.t, real), 0o755)
		}
		switch path.Dir(interp) {
		case "/lib64":
			if _, err := os.Lstat(l.host(interp)); err != nil {
				l.Symlink(interp, "../lib/"+tr+"/"+base)
			}
		case "/lib":
			if _, err := os.Lstat(l.host("/usr/lib/" + base)); err != nil {
				l.Symlink("/usr/lib/"+base, tr+"/"+base)
			}
		default:
			l.t.Fatalf("unsupported interpreter location %s", interp)
		}
	}
	libs, err := f.ImportedLibraries()
	l.check(err)
	for _, soname := range libs {
		if seen[soname] {
			continue
		}
		seen[soname] = true
		var found string
		for _, d := range hostLibDirs() {
			if _, err := os.Stat(filepath.Join(d, soname)); err == nil {
				found = filepath.Join(d, soname)
				break
			}
		}
		if found == "" {
			l.t.Fatalf("host library %s not found: install the package that ships it", soname)
		}
		real, err := filepath.EvalSymlinks(found)
		l.check(err)
		realBase := filepath.Base(real)
		if _, err := os.Lstat(l.host(libDir + "/" + realBase)); err != nil {
			l.File(libDir+"/"+realBase, HostFile(l.t, real), 0o644)
		}
		if realBase != soname {
			if _, err := os.Lstat(l.host(libDir + "/" + soname)); err != nil {
				l.Symlink(libDir+"/"+soname, realBase)
			}
		}
		l.copyDeps(real, seen)
	}
}

// GoBinary builds a statically linked Go program from source and installs
// it at dest. It skips the test when no Go toolchain is available.
func (l *Layout) GoBinary(dest, source string) *Layout {
	l.t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		l.t.Fatalf("no go toolchain: %v", err)
	}
	dir := l.t.TempDir()
	l.check(os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module fixture\n\ngo 1.21\n"), 0o644))
	l.check(os.WriteFile(filepath.Join(dir, "main.go"), []byte(source), 0o644))
	out := filepath.Join(dir, "bin")
	cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("building fixture: %v\n%s", err, b)
	}
	l.File(dest, HostFile(l.t, out), 0o755)
	return l
}

// ELFSpec describes a minimal hand-made ELF object: only the headers the
// dynamic loader reads.
type ELFSpec struct {
	// Class is elf.ELFCLASS64 (default) or elf.ELFCLASS32.
	Class elf.Class
	// Machine defaults to the host's machine.
	Machine elf.Machine
	// Interp is PT_INTERP, empty for none.
	Interp string
	// Needed are the DT_NEEDED entries.
	Needed []string
	// RPath is DT_RPATH, empty for none.
	RPath string
	// RunPath is DT_RUNPATH, empty for none.
	RunPath string
	// Payload is appended after the headers (e.g. marker strings).
	Payload []byte
}

// HostMachine is the ELF machine of the running program.
func HostMachine() elf.Machine {
	switch runtime.GOARCH {
	case "arm64":
		return elf.EM_AARCH64
	case "386":
		return elf.EM_386
	}
	return elf.EM_X86_64
}

// ELF returns the bytes of a little-endian ELF object matching s: one
// PT_LOAD mapping the whole file, optional PT_INTERP, and a PT_DYNAMIC
// segment when s names any dynamic entries. It has no sections.
func ELF(s ELFSpec) []byte {
	if s.Class == 0 {
		s.Class = elf.ELFCLASS64
	}
	if s.Machine == 0 {
		s.Machine = HostMachine()
	}
	l := layoutELF(s)
	buf := make([]byte, l.total)
	l.putFileHeader(buf, s)
	copy(buf[l.ehsize:], l.programHeaders(s))
	copy(buf[l.interpOff:], s.Interp)
	copy(buf[l.strOff:], l.strtab)
	l.putDynamic(buf)
	copy(buf[l.payloadOff:], s.Payload)
	return buf
}

// elfBase is the virtual address the single PT_LOAD maps the file at.
const elfBase = 0x400000

// elfDyn is one entry of the dynamic section.
type elfDyn struct {
	tag elf.DynTag
	val uint64
}

// elfLayout is where each part of an ELF fixture goes. It is worked out
// before any byte is written because the headers point at the later parts.
type elfLayout struct {
	is64                      bool
	ehsize, phentsize, dynent int
	// nph is the number of program headers; hasDyn says one is PT_DYNAMIC.
	nph    int
	hasDyn bool
	// The file offsets of the interpreter name, string table, dynamic
	// section and payload, and the file's size.
	interpOff, strOff, dynOff, payloadOff, total int
	strtab                                       []byte
	dyns                                         []elfDyn
}

// layoutELF places s's parts in file order: ELF header, program headers,
// interpreter name, string table, dynamic section (8-byte aligned), payload.
func layoutELF(s ELFSpec) elfLayout {
	l := elfLayout{is64: s.Class == elf.ELFCLASS64, ehsize: 52, phentsize: 32, dynent: 8}
	if l.is64 {
		l.ehsize, l.phentsize, l.dynent = 64, 56, 16
	}
	l.hasDyn = len(s.Needed) > 0 || s.RPath != "" || s.RunPath != ""
	l.nph = 1
	if s.Interp != "" {
		l.nph++
	}
	if l.hasDyn {
		l.nph++
	}
	off := l.ehsize + l.nph*l.phentsize
	l.interpOff = off
	if s.Interp != "" {
		off += len(s.Interp) + 1
	}
	l.strtab, l.dyns = dynamicStrings(s)
	l.strOff = off
	off += len(l.strtab)
	for off%8 != 0 {
		off++
	}
	l.dynOff = off
	if l.hasDyn {
		l.dyns = append(l.dyns, elfDyn{elf.DT_STRTAB, uint64(elfBase + l.strOff)}, elfDyn{elf.DT_STRSZ, uint64(len(l.strtab))}, elfDyn{elf.DT_NULL, 0})
		off += len(l.dyns) * l.dynent
	}
	l.payloadOff = off
	l.total = off + len(s.Payload)
	return l
}

// dynamicStrings builds the string table (a leading NUL, then each
// string) and the DT_NEEDED, DT_RPATH and DT_RUNPATH entries pointing
// into it; the entries that locate the table itself come later, once its
// offset is known.
func dynamicStrings(s ELFSpec) ([]byte, []elfDyn) {
	strtab := []byte{0}
	addStr := func(v string) uint64 {
		i := uint64(len(strtab))
		strtab = append(strtab, v...)
		strtab = append(strtab, 0)
		return i
	}
	var dyns []elfDyn
	for _, n := range s.Needed {
		dyns = append(dyns, elfDyn{elf.DT_NEEDED, addStr(n)})
	}
	if s.RPath != "" {
		dyns = append(dyns, elfDyn{elf.DT_RPATH, addStr(s.RPath)})
	}
	if s.RunPath != "" {
		dyns = append(dyns, elfDyn{elf.DT_RUNPATH, addStr(s.RunPath)})
	}
	return strtab, dyns
}

// putFileHeader writes the ELF header: an executable when s has an
// interpreter, a shared object otherwise.
func (l elfLayout) putFileHeader(buf []byte, s ELFSpec) {
	le := binary.LittleEndian
	copy(buf, elf.ELFMAG)
	buf[elf.EI_CLASS] = byte(s.Class)
	buf[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	buf[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	typ := elf.ET_DYN
	if s.Interp != "" {
		typ = elf.ET_EXEC
	}
	le.PutUint16(buf[16:], uint16(typ))
	le.PutUint16(buf[18:], uint16(s.Machine))
	le.PutUint32(buf[20:], uint32(elf.EV_CURRENT))
	if l.is64 {
		le.PutUint64(buf[32:], uint64(l.ehsize)) // e_phoff
		le.PutUint16(buf[52:], uint16(l.ehsize))
		le.PutUint16(buf[54:], uint16(l.phentsize))
		le.PutUint16(buf[56:], uint16(l.nph))
	} else {
		le.PutUint32(buf[28:], uint32(l.ehsize))
		le.PutUint16(buf[40:], uint16(l.ehsize))
		le.PutUint16(buf[42:], uint16(l.phentsize))
		le.PutUint16(buf[44:], uint16(l.nph))
	}
}

// programHeaders returns the program header table: PT_INTERP when s has
// an interpreter, the PT_LOAD of the whole file, and PT_DYNAMIC when there
// are dynamic entries, in that order (PT_INTERP must precede PT_LOAD).
func (l elfLayout) programHeaders(s ELFSpec) []byte {
	var phs []byte
	if s.Interp != "" {
		phs = append(phs, l.programHeader(elf.PT_INTERP, l.interpOff, len(s.Interp)+1)...)
	}
	phs = append(phs, l.programHeader(elf.PT_LOAD, 0, l.total)...)
	if l.hasDyn {
		phs = append(phs, l.programHeader(elf.PT_DYNAMIC, l.dynOff, len(l.dyns)*l.dynent)...)
	}
	return phs
}

// programHeader encodes one read-only segment of size bytes at file
// offset off, mapped at elfBase+off; the two classes order the fields
// differently.
func (l elfLayout) programHeader(typ elf.ProgType, off, size int) []byte {
	le := binary.LittleEndian
	ph := make([]byte, l.phentsize)
	if l.is64 {
		le.PutUint32(ph[0:], uint32(typ))
		le.PutUint32(ph[4:], uint32(elf.PF_R))
		le.PutUint64(ph[8:], uint64(off))
		le.PutUint64(ph[16:], uint64(elfBase+off))
		le.PutUint64(ph[24:], uint64(elfBase+off))
		le.PutUint64(ph[32:], uint64(size))
		le.PutUint64(ph[40:], uint64(size))
		le.PutUint64(ph[48:], 8)
	} else {
		le.PutUint32(ph[0:], uint32(typ))
		le.PutUint32(ph[4:], uint32(off))
		le.PutUint32(ph[8:], uint32(elfBase+off))
		le.PutUint32(ph[12:], uint32(elfBase+off))
		le.PutUint32(ph[16:], uint32(size))
		le.PutUint32(ph[20:], uint32(size))
		le.PutUint32(ph[24:], uint32(elf.PF_R))
		le.PutUint32(ph[28:], 8)
	}
	return ph
}

// putDynamic writes the dynamic section's entries at dynOff.
func (l elfLayout) putDynamic(buf []byte) {
	le := binary.LittleEndian
	for i, d := range l.dyns {
		o := l.dynOff + i*l.dynent
		if l.is64 {
			le.PutUint64(buf[o:], uint64(d.tag))
			le.PutUint64(buf[o+8:], d.val)
		} else {
			le.PutUint32(buf[o:], uint32(d.tag))
			le.PutUint32(buf[o+4:], uint32(d.val))
		}
	}
}

// MustELF checks that b parses with debug/elf, to catch fixture bugs.
func MustELF(t testing.TB, b []byte) []byte {
	t.Helper()
	if _, err := elf.NewFile(bytes.NewReader(b)); err != nil {
		t.Fatalf("fixture ELF does not parse: %v", err)
	}
	return b
}
