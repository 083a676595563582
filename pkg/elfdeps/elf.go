package elfdeps

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// maxStrtab bounds the dynamic string table read from one object; real
// ones are kilobytes, a larger value means a corrupt or hostile file.
const maxStrtab = 16 << 20

// errInvalid marks a file that starts like ELF but cannot be parsed.
var errInvalid = errors.New("invalid ELF file")

// IsELF reports whether p in src starts with the ELF magic number. Reading
// four bytes is enough, so it is cheap to ask of every candidate file.
func IsELF(ctx context.Context, src rootfs.Source, p string) (bool, error) {
	b, err := src.ReadFile(ctx, p, 0, 4)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", p, err)
	}
	return bytes.Equal(b, []byte(elf.ELFMAG)), nil
}

// ident is what the dynamic loader checks before accepting a library.
type ident struct {
	class   elf.Class
	data    elf.Data
	machine elf.Machine
}

// compatible reports whether a library with identity o can be loaded into
// a process whose objects have identity i.
func (i ident) compatible(o ident) bool {
	return i.class == o.class && i.data == o.data && i.machine == o.machine
}

// readIdent reads just the ELF identification and machine of p: the first
// 20 bytes. ok is false for anything that is not a well-formed ELF start.
func readIdent(ctx context.Context, src rootfs.Source, p string) (ident, bool, error) {
	b, err := src.ReadFile(ctx, p, 0, 20)
	if err != nil {
		return ident{}, false, fmt.Errorf("reading %s: %w", p, err)
	}
	if len(b) < 20 || !bytes.Equal(b[:4], []byte(elf.ELFMAG)) {
		return ident{}, false, nil
	}
	id := ident{class: elf.Class(b[elf.EI_CLASS]), data: elf.Data(b[elf.EI_DATA])}
	switch id.data {
	case elf.ELFDATA2LSB:
		id.machine = elf.Machine(binary.LittleEndian.Uint16(b[18:]))
	case elf.ELFDATA2MSB:
		id.machine = elf.Machine(binary.BigEndian.Uint16(b[18:]))
	default:
		return ident{}, false, nil
	}
	return id, true, nil
}

// object is the dynamic-linking view of one ELF file.
type object struct {
	ident
	interp  string
	needed  []string
	rpath   []string
	runpath []string
}

// static reports whether the object needs nothing at load time: no
// program interpreter and no DT_NEEDED (static and static-pie
// executables, and self-contained libraries such as the loader itself).
func (o *object) static() bool {
	return o.interp == "" && len(o.needed) == 0
}

// parseObject reads the program headers and dynamic segment of p. It uses
// segments rather than section headers because the loader does, and
// sstrip-ed binaries have no sections. Errors wrapping errInvalid mean the
// file is not a usable ELF object; others are I/O failures.
func parseObject(ctx context.Context, src rootfs.Source, p string, size int64) (*object, error) {
	ra := rootfs.ReaderAt(ctx, src, p, size)
	f, err := elf.NewFile(ra)
	if err != nil {
		return nil, classify(p, err)
	}
	o := &object{ident: ident{class: f.Class, data: f.Data, machine: f.Machine}}
	var dyn *elf.Prog
	var loads []*elf.Prog
	for _, prog := range f.Progs {
		switch prog.Type {
		case elf.PT_INTERP:
			b, err := io.ReadAll(io.LimitReader(prog.Open(), 4096))
			if err != nil {
				return nil, classify(p, err)
			}
			o.interp = string(bytes.TrimRight(b, "\x00"))
		case elf.PT_DYNAMIC:
			dyn = prog
		case elf.PT_LOAD:
			loads = append(loads, prog)
		}
	}
	if dyn == nil {
		return o, nil
	}
	if err := o.readDynamic(ra, f, dyn, loads); err != nil {
		return nil, classify(p, err)
	}
	return o, nil
}

// classify wraps a parse failure: format problems and short reads mean the
// file is not a valid object, anything else is an I/O error to report.
func classify(p string, err error) error {
	var fe *elf.FormatError
	if errors.As(err, &fe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errInvalid) {
		return fmt.Errorf("%s: %w: %v", p, errInvalid, err)
	}
	return fmt.Errorf("parsing ELF %s: %w", p, err)
}

func (o *object) readDynamic(ra io.ReaderAt, f *elf.File, dyn *elf.Prog, loads []*elf.Prog) error {
	entSize := 16
	if f.Class == elf.ELFCLASS32 {
		entSize = 8
	}
	if dyn.Filesz > 1<<20 {
		return fmt.Errorf("%w: dynamic segment of %d bytes", errInvalid, dyn.Filesz)
	}
	data, err := io.ReadAll(dyn.Open())
	if err != nil {
		return err
	}
	var strtab, strsz uint64
	var needed, rpath, runpath []uint64
	for off := 0; off+entSize <= len(data); off += entSize {
		var tag int64
		var val uint64
		if entSize == 16 {
			tag = int64(f.ByteOrder.Uint64(data[off:]))
			val = f.ByteOrder.Uint64(data[off+8:])
		} else {
			tag = int64(int32(f.ByteOrder.Uint32(data[off:])))
			val = uint64(f.ByteOrder.Uint32(data[off+4:]))
		}
		switch elf.DynTag(tag) {
		case elf.DT_NULL:
			off = len(data)
		case elf.DT_STRTAB:
			strtab = val
		case elf.DT_STRSZ:
			strsz = val
		case elf.DT_NEEDED:
			needed = append(needed, val)
		case elf.DT_RPATH:
			rpath = append(rpath, val)
		case elf.DT_RUNPATH:
			runpath = append(runpath, val)
		}
	}
	if len(needed)+len(rpath)+len(runpath) == 0 {
		return nil
	}
	if strtab == 0 || strsz == 0 || strsz > maxStrtab {
		return fmt.Errorf("%w: dynamic string table at %#x size %d", errInvalid, strtab, strsz)
	}
	// DT_STRTAB is a virtual address; the PT_LOAD segment covering it
	// maps it back to a file offset.
	fileOff := int64(-1)
	for _, l := range loads {
		if strtab >= l.Vaddr && strtab+strsz <= l.Vaddr+l.Filesz {
			fileOff = int64(l.Off + (strtab - l.Vaddr))
			break
		}
	}
	if fileOff < 0 {
		return fmt.Errorf("%w: dynamic string table at %#x is not in a loaded segment", errInvalid, strtab)
	}
	tab := make([]byte, strsz)
	if _, err := ra.ReadAt(tab, fileOff); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	str := func(i uint64) (string, error) {
		if i >= uint64(len(tab)) {
			return "", fmt.Errorf("%w: string offset %d beyond table", errInvalid, i)
		}
		s := tab[i:]
		if n := bytes.IndexByte(s, 0); n >= 0 {
			s = s[:n]
		}
		return string(s), nil
	}
	for _, set := range []struct {
		idx []uint64
		out *[]string
	}{{needed, &o.needed}, {rpath, &o.rpath}, {runpath, &o.runpath}} {
		for _, i := range set.idx {
			s, err := str(i)
			if err != nil {
				return err
			}
			*set.out = append(*set.out, s)
		}
	}
	return nil
}
