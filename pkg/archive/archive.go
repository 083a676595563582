// Package archive walks the members of the archives and compressed streams
// a file is or holds, recursively and within a byte budget: tar, gzip,
// bzip2, xz, zstd and zip (jar, wheel, zipapp), nested in one another, and
// one appended to an ELF program or a "#!" script (a self-extractor). It
// recognises formats by their bytes, never by a file's name. What it reads
// counts against one budget for the whole walk; when the budget runs out
// the walk stops with ErrBudget, and what it did not read is unknown, not
// clean.
//
// Only the members a caller asks for are read beyond their first bytes
// (Walker.Want): a jar's thousands of classes cost a few bytes each.
package archive

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Default limits (docs/distroless.md, "Archives").
const (
	// DefaultMaxDepth is how deep containers nest, a compression layer
	// counting as one: a .tar.gz in a .zip is depth 3.
	DefaultMaxDepth = 6
	// DefaultMaxBytes is what one Walker reads and decompresses in all.
	DefaultMaxBytes = 2 << 30
	// DefaultMaxMember is the most of one member held in memory: the
	// first bytes of a bigger one are what its headers describe.
	DefaultMaxMember = 64 << 20
	// headSize is what is read of every member to tell what it is: the
	// tar magic sits at 257.
	headSize = 512
	// appendedSearch is how far past an ELF image or into a script an
	// appended container is looked for.
	appendedSearch = 1 << 20
	// maxWindow bounds a zstd decoder's window (and memory).
	maxWindow = 64 << 20
)

// ErrBudget says the walk ran out of its byte budget or met a container it
// could not open within its limits: what it did not read is not evaluated.
var ErrBudget = errors.New("archive: byte budget exhausted")

// Member is a file inside a container.
type Member struct {
	// Names are its names from the outermost container inwards
	// ("bin/helper"; a stream's content has the name "").
	Names []string
	// Data is its content, or its first MaxMember bytes.
	Data []byte
	// Size is its full size when known, else len(Data).
	Size int64
}

// Walker walks containers within one budget.
type Walker struct {
	// MaxDepth, MaxBytes and MaxMember are the limits (the Default ones
	// when zero).
	MaxDepth  int
	MaxBytes  int64
	MaxMember int64
	// Want says, from a member's first bytes, whether to read it and
	// visit it.
	Want func(head []byte) bool

	spent int64
	// Opened counts the containers opened, for the evidence.
	Opened int
}

// Spent is what the walker has read so far.
func (w *Walker) Spent() int64 { return w.spent }

func (w *Walker) limits() (int, int64, int64) {
	d, b, m := w.MaxDepth, w.MaxBytes, w.MaxMember
	if d == 0 {
		d = DefaultMaxDepth
	}
	if b == 0 {
		b = DefaultMaxBytes
	}
	if m == 0 {
		m = DefaultMaxMember
	}
	return d, b, m
}

// Walk calls visit for each member of the containers r (size bytes) is or
// holds that Want takes. It reports whether r is or holds a container.
func (w *Walker) Walk(ctx context.Context, r io.ReaderAt, size int64, visit func(Member) error) (bool, error) {
	off, zipped, ok, err := containerOffset(r, size)
	if err != nil || !ok {
		return false, err
	}
	wk := walk{w: w, ctx: ctx, visit: visit}
	sec := io.NewSectionReader(r, off, size-off)
	if zipped {
		err = wk.zip(sec, size-off, nil, 1)
	} else {
		err = wk.stream(sec, nil, 1)
	}
	if err == nil && w.exhausted() {
		err = ErrBudget
	}
	return true, err
}

// exhausted reports whether the budget is spent.
func (w *Walker) exhausted() bool {
	_, limit, _ := w.limits()
	return w.spent >= limit
}

// walk is one Walk call.
type walk struct {
	w     *Walker
	ctx   context.Context
	visit func(Member) error
}

// containerOffset says where the container r holds starts: 0 for a file
// that is one, the end of an ELF image or a script's payload for one
// appended; zipped says it is a zip archive (found by its end record,
// which its offsets are relative to).
func containerOffset(r io.ReaderAt, size int64) (off int64, zipped, ok bool, err error) {
	head := make([]byte, min(size, headSize))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return 0, false, false, fmt.Errorf("reading: %w", err)
	}
	switch k := kindOf(head); {
	case k == kindZip:
		return 0, true, isZip(r, 0, size), nil
	case k != kindNone:
		return 0, false, true, nil
	}
	start := int64(-1)
	switch {
	case bytes.HasPrefix(head, []byte(elf.ELFMAG)):
		start = elfEnd(r, size)
	case bytes.HasPrefix(head, []byte("#!")):
		start = 2
	}
	if start < 0 || start >= size {
		return 0, false, false, nil
	}
	if isZip(r, start, size) {
		return start, true, true, nil
	}
	tail := make([]byte, min(size-start, appendedSearch))
	if _, err := r.ReadAt(tail, start); err != nil && !errors.Is(err, io.EOF) {
		return 0, false, false, fmt.Errorf("reading: %w", err)
	}
	if i := findContainer(tail); i >= 0 {
		return start + int64(i), false, true, nil
	}
	return 0, false, false, nil
}

// elfEnd is where the ELF image r holds ends: past its last section,
// segment and section header table; -1 when its headers do not parse. The
// usual layout puts the section header table last, so a file that ends
// with it is answered from its first 64 bytes.
func elfEnd(r io.ReaderAt, size int64) int64 {
	hdr := make([]byte, 64)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return -1
	}
	var order binary.ByteOrder = binary.LittleEndian
	if elf.Data(hdr[elf.EI_DATA]) == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	var shEnd uint64
	if elf.Class(hdr[elf.EI_CLASS]) == elf.ELFCLASS64 {
		shEnd = order.Uint64(hdr[40:]) + uint64(order.Uint16(hdr[60:]))*uint64(order.Uint16(hdr[58:]))
	} else {
		shEnd = uint64(order.Uint32(hdr[32:])) + uint64(order.Uint16(hdr[48:]))*uint64(order.Uint16(hdr[46:]))
	}
	if int64(shEnd) == size {
		return size
	}
	f, err := elf.NewFile(io.NewSectionReader(r, 0, size))
	if err != nil {
		return -1
	}
	end := shEnd
	for _, p := range f.Progs {
		end = max(end, p.Off+p.Filesz)
	}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOBITS {
			end = max(end, s.Offset+s.FileSize)
		}
	}
	return int64(end)
}

// isZip reports whether r's bytes from start to size end with a zip
// end-of-central-directory record (a comment may follow it: the last
// 64 KiB are searched).
func isZip(r io.ReaderAt, start, size int64) bool {
	n := min(size-start, 65535+22)
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return bytes.LastIndex(tail, []byte("PK\x05\x06")) >= 0
}

// stream walks the container r starts with (depth is its nesting).
func (wk walk) stream(r io.Reader, names []string, depth int) error {
	maxDepth, _, maxMember := wk.w.limits()
	if depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrBudget, maxDepth)
	}
	br := bufio.NewReaderSize(wk.w.count(r), headSize)
	head, _ := br.Peek(headSize)
	switch k := kindOf(head); k {
	case kindTar:
		wk.w.Opened++
		return wk.tar(br, names, depth)
	case kindZip:
		data, err := readMember(br, maxMember)
		if err != nil {
			return err
		}
		if int64(len(data)) >= maxMember {
			return fmt.Errorf("%w: a zip archive larger than %d bytes inside another", ErrBudget, maxMember)
		}
		return wk.zip(bytes.NewReader(data), int64(len(data)), names, depth)
	case kindNone:
		return wk.member(br, head, -1, append(names, ""), depth)
	default:
		dec, err := decompress(k, br)
		if err != nil {
			return nil // not really that format: its bytes are data
		}
		wk.w.Opened++
		return wk.stream(dec, names, depth+1)
	}
}

// member visits the member r (head are its first bytes), or opens it when
// it is itself a container.
func (wk walk) member(r io.Reader, head []byte, size int64, names []string, depth int) error {
	if err := wk.ctx.Err(); err != nil {
		return err
	}
	if kindOf(head) != kindNone && names[len(names)-1] != "" {
		return wk.stream(r, names, depth+1)
	}
	if wk.w.Want == nil || !wk.w.Want(head) {
		return nil
	}
	_, _, maxMember := wk.w.limits()
	data, err := readMember(r, maxMember)
	if err != nil {
		return err
	}
	if size < 0 {
		size = int64(len(data))
	}
	return wk.visit(Member{Names: append([]string(nil), names...), Data: data, Size: size})
}

// tar visits the regular files of a tar stream.
func (wk walk) tar(r io.Reader, names []string, depth int) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, ErrBudget) {
			return err
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return nil // a truncated or damaged tar: what was read was read
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		br := bufio.NewReaderSize(tr, headSize)
		head, _ := br.Peek(headSize)
		if err := wk.member(br, head, h.Size, append(names, h.Name), depth); err != nil {
			return err
		}
	}
}

// zip visits the files of a zip archive.
func (wk walk) zip(r io.ReaderAt, size int64, names []string, depth int) error {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil // not a zip after all
	}
	wk.w.Opened++
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if err := wk.zipMember(f, names, depth); err != nil {
			return err
		}
	}
	return nil
}

func (wk walk) zipMember(f *zip.File, names []string, depth int) error {
	rc, err := f.Open()
	if err != nil {
		return nil // an unsupported method: its bytes cannot run either
	}
	defer rc.Close()
	br := bufio.NewReaderSize(wk.w.count(rc), headSize)
	head, _ := br.Peek(headSize)
	return wk.member(br, head, int64(f.UncompressedSize64), append(names, f.Name), depth)
}

// readMember reads at most limit bytes of r.
func readMember(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if errors.Is(err, ErrBudget) {
		return nil, err
	}
	return data, nil // a damaged stream: its readable part is the member
}

// count wraps r so that what is read from it is spent from the budget.
func (w *Walker) count(r io.Reader) io.Reader { return &counter{r: r, w: w} }

type counter struct {
	r io.Reader
	w *Walker
}

func (c *counter) Read(b []byte) (int, error) {
	_, limit, _ := c.w.limits()
	if c.w.spent >= limit {
		return 0, ErrBudget
	}
	n, err := c.r.Read(b)
	c.w.spent += int64(n)
	return n, err
}

// kind is a container format.
type kind int

const (
	kindNone kind = iota
	kindGzip
	kindBzip2
	kindXz
	kindZstd
	kindTar
	kindZip
)

// kindOf recognises a container by its first bytes.
func kindOf(head []byte) kind {
	switch {
	case len(head) >= 4 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8 && head[3]&0xe0 == 0:
		return kindGzip
	case len(head) >= 10 && string(head[:3]) == "BZh" && head[3] >= '1' && head[3] <= '9' && string(head[4:10]) == "1AY&SY":
		return kindBzip2
	case bytes.HasPrefix(head, []byte("\xfd7zXZ\x00")):
		return kindXz
	case bytes.HasPrefix(head, []byte("\x28\xb5\x2f\xfd")):
		return kindZstd
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return kindZip
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return kindTar
	}
	return kindNone
}

// findContainer returns the offset of the first container in b, or -1.
func findContainer(b []byte) int {
	for i := range b {
		switch b[i] {
		case 0x1f, 'B', 0xfd, 0x28, 'P':
			if kindOf(b[i:min(len(b), i+headSize)]) != kindNone {
				return i
			}
		}
		if i+262 <= len(b) && string(b[i+257:i+262]) == "ustar" {
			return i
		}
	}
	return -1
}

// decompress opens the compressed stream r of kind k.
func decompress(k kind, r io.Reader) (io.Reader, error) {
	switch k {
	case kindGzip:
		return gzip.NewReader(r)
	case kindBzip2:
		return bzip2.NewReader(r), nil
	case kindXz:
		return xz.NewReader(r)
	case kindZstd:
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxWindow))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("archive: not a compressed stream (%d)", k)
}
