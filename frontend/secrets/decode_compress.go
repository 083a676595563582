package secrets

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compressed streams and archives, opened wherever they start: a file
// that is one (x.gz, a jar), one appended to a script (a shell
// self-extractor, a Python zipapp behind its #! line), one stored in
// another (a .gz in a .tar.gz, the jars of a Spring Boot fat jar), or the
// payload of an encoding (base64 of a gzip). Every member is scanned as
// the file it would be on disk, and opened again, within the file's
// decoding budget (budget.go).

// streamFormat is a compressed stream recognised by its magic bytes.
type streamFormat struct {
	dec   decoder
	magic string
	// valid checks the bytes after the magic (at least 16 are given when
	// the payload has them), to skip chance matches cheaply.
	valid func(rest []byte) bool
	open  func(io.Reader) (io.Reader, error)
	// ext is the file name suffix the format usually carries.
	ext string
}

var streamFormats = []streamFormat{
	{decGzip, "\x1f\x8b\x08", func(r []byte) bool { return len(r) > 0 && r[0]&0xe0 == 0 }, openGzip, ".gz"},
	{decBzip2, "BZh", func(r []byte) bool {
		return len(r) >= 7 && r[0] >= '1' && r[0] <= '9' && string(r[1:7]) == "1AY&SY"
	}, func(r io.Reader) (io.Reader, error) { return bzip2.NewReader(r), nil }, ".bz2"},
	{decXz, "\xfd7zXZ\x00", xzDictionaryBounded, openXz, ".xz"},
	{decZstd, "\x28\xb5\x2f\xfd", func([]byte) bool { return true }, openZstd, ".zst"},
}

func openGzip(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }

func openXz(r io.Reader) (io.Reader, error) { return xz.NewReader(r) }

// openZstd decodes a zstd stream in this goroutine, with a window no
// larger than maxDictionary.
func openZstd(r io.Reader) (io.Reader, error) {
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxDictionary), zstd.WithDecoderMaxMemory(maxMember))
	if err != nil {
		return nil, err
	}
	return d.IOReadCloser(), nil
}

// xzDictionaryBounded reports whether the first block of an xz stream
// (rest follows the 6 magic bytes) asks for an LZMA2 dictionary of at
// most maxDictionary: the decoder allocates it before reading anything,
// so a forged header alone could exhaust memory.
func xzDictionaryBounded(rest []byte) bool {
	// Stream flags (2), CRC32 (4), then the block header: its size byte,
	// flags, optional compressed and uncompressed sizes (varints), and
	// the filter flags: id, properties size, properties.
	if len(rest) < 8 || rest[6] == 0 {
		return false
	}
	b := rest[6:]
	flags := b[1]
	i := 2
	skipVarint := func() {
		for i < len(b) && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if flags&0x40 != 0 {
		skipVarint()
	}
	if flags&0x80 != 0 {
		skipVarint()
	}
	// The last filter is LZMA2 (id 0x21, one property byte); earlier
	// ones (BCJ, delta) have no dictionary.
	for f := 0; f <= int(flags&0x03) && i+2 < len(b); f++ {
		id, size := b[i], int(b[i+1])
		if id == 0x21 && size == 1 {
			d := b[i+2] & 0x3f
			return d <= 40 && (2|int64(d&1))<<(d/2+11) <= maxDictionary
		}
		i += 2 + size
	}
	return false
}

// openContainers opens the compressed streams and archives in whole,
// which is o.off bytes into a payload of o.size bytes that o.ra reads
// (or, with o.ra nil, all of it), and scans what they hold.
func (s *Scanner) openContainers(ctx context.Context, p string, whole []byte, o decoding) []hit {
	ra, size, off := o.ra, o.size, o.off
	if ra == nil {
		ra, size, off = bytes.NewReader(whole), int64(len(whole)), 0
	}
	child := o
	child.ra, child.size, child.off, child.lines = nil, 0, 0, false
	// An archive member is judged as the file it would be on disk, by its
	// own bytes (scanNested); text compressed into an executable
	// (embedded assets) as the binary's own strings are.
	child.low = !o.verified && !isExecutable(whole)
	child.code = false
	var hits []hit
	searchEnd := len(whole)
	if off+int64(len(whole)) == size {
		if zr, start, ok := openZip(ra, size, whole); ok {
			hits = append(hits, s.scanZip(ctx, p, zr, child)...)
			// The members are opened through the zip; what precedes it
			// (a script, a launcher) is searched for streams.
			searchEnd = max(0, int(int64(start)-off))
		}
	}
	hits = append(hits, s.openWhole(ctx, p, whole, child, off == 0)...)
	// Streams and tar archives anywhere. A match inside a region already
	// opened (the members of a tar, a gzip's own compressed bytes) is
	// skipped; so is one in the overlap a file read in pieces shares with
	// the previous piece, which that piece opened.
	skip := 0
	if off > 0 && !o.piece {
		skip = chunkOverlap
	}
	for _, m := range containerStarts(whole[:searchEnd]) {
		if m.at < skip || o.st.stop() {
			continue
		}
		var consumed int64
		var found []hit
		if m.tar {
			found, consumed = s.scanTarAt(ctx, p, io.NewSectionReader(ra, off+int64(m.at), size-off-int64(m.at)), child)
		} else {
			found, consumed = s.scanStreamAt(ctx, p, m.format, io.NewSectionReader(ra, off+int64(m.at), size-off-int64(m.at)), child)
		}
		hits = append(hits, found...)
		if o.piece && int64(m.at)+consumed >= int64(len(whole)) {
			// The container runs past the piece held in memory: what it
			// holds beyond was not looked at.
			o.st.exhausted = true
		}
		skip = max(skip, m.at+int(min(consumed, int64(len(whole)))))
	}
	return hits
}

// containerStart is where a stream or tar archive may begin in a
// payload.
type containerStart struct {
	at     int
	tar    bool
	format *streamFormat
}

// containerStarts finds the magic bytes of the stream formats and of tar
// headers in dt, in order.
func containerStarts(dt []byte) []containerStart {
	var out []containerStart
	for i := range streamFormats {
		f := &streamFormats[i]
		for off := 0; ; {
			j := bytes.Index(dt[off:], []byte(f.magic))
			if j < 0 {
				break
			}
			at := off + j
			if rest := dt[at+len(f.magic):]; f.valid(rest[:min(len(rest), 64)]) {
				out = append(out, containerStart{at: at, format: f})
			}
			off = at + 1
		}
	}
	for off := 0; ; {
		j := bytes.Index(dt[off:], []byte("ustar"))
		if j < 0 {
			break
		}
		if at := off + j - 257; at >= 0 && isTar(dt[at:]) {
			out = append(out, containerStart{at: at, tar: true})
		}
		off += j + 1
	}
	sortStarts(out)
	return out
}

func sortStarts(s []containerStart) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].at < s[j-1].at; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// isTar reports whether dt starts with a ustar header whose checksum is
// right.
func isTar(dt []byte) bool {
	if len(dt) < 512 || string(dt[257:262]) != "ustar" {
		return false
	}
	sum := 0
	for i, c := range dt[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int(c)
	}
	field := strings.Trim(string(dt[148:156]), " \x00")
	want := 0
	for _, c := range field {
		if c < '0' || c > '7' {
			return false
		}
		want = want*8 + int(c-'0')
	}
	return sum == want
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// scanStreamAt decompresses the stream of format f that r starts with
// and scans what it holds; consumed is how much of r it read.
func (s *Scanner) scanStreamAt(ctx context.Context, p string, f *streamFormat, r io.Reader, o decoding) ([]hit, int64) {
	cr := &countingReader{r: r}
	zr, err := f.open(bufio.NewReaderSize(cr, 64<<10))
	if err != nil {
		return nil, cr.n
	}
	name := strings.TrimSuffix(p, f.ext)
	if name == p {
		name = p + "!"
	}
	hits := s.scanStream(ctx, name, f.dec, zr, o)
	if c, ok := zr.(io.Closer); ok {
		c.Close()
	}
	return hits, cr.n
}

// scanStream scans the decompressed stream r that dec opened: a tar
// archive member by member, anything else as one payload.
func (s *Scanner) scanStream(ctx context.Context, name string, dec decoder, r io.Reader, o decoding) []hit {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	if len(head) == 0 {
		return nil
	}
	if !o.st.deeper(o.depth) {
		return nil
	}
	o.st.count(dec)
	o.depth--
	if isTar(head) {
		hits, _ := s.scanTarAt(ctx, name, br, o)
		return hits
	}
	return s.scanMember(ctx, name, br, o)
}

// scanTarAt scans the members of the tar archive r starts with, and their
// names and link targets; consumed is how much of r it read.
func (s *Scanner) scanTarAt(ctx context.Context, p string, r io.Reader, o decoding) ([]hit, int64) {
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	var hits []hit
	var names strings.Builder
	for n := 0; !o.st.stop(); n++ {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if n == 0 {
			if !o.st.deeper(o.depth) {
				break
			}
			o.st.count(decTar)
			o.depth--
		}
		names.WriteString(path.Base(h.Name) + " " + h.Linkname + "\n")
		if h.Typeflag == tar.TypeReg && h.Size > 0 {
			hits = append(hits, s.scanMember(ctx, p+"!/"+strings.TrimPrefix(h.Name, "/"), tr, o)...)
		}
	}
	return append(hits, s.scanMemberNames(ctx, names.String())...), cr.n
}

// openZip opens the zip archive that ends whole, which ends a payload of
// size bytes that ra reads, prepended data (a script, a launcher) and
// all; start is where its first member begins.
func openZip(ra io.ReaderAt, size int64, whole []byte) (*zip.Reader, int64, bool) {
	tail := whole[max(0, len(whole)-(65535+22)):]
	if !bytes.Contains(tail, []byte("PK\x05\x06")) {
		return nil, 0, false
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) || len(zr.File) == 0 {
		return nil, 0, false
	}
	start, err := zr.File[0].DataOffset()
	if err != nil {
		return nil, 0, false
	}
	// DataOffset is past the first local header: 30 bytes, the name and
	// the extra field.
	return zr, max(0, start-30-int64(len(zr.File[0].Name))-int64(len(zr.File[0].Extra))), true
}

// scanZip scans the members of zr and their names; a wheel's members
// that match its RECORD as package-verified content (decode_wheel.go).
func (s *Scanner) scanZip(ctx context.Context, p string, zr *zip.Reader, o decoding) []hit {
	if !o.st.deeper(o.depth) {
		return nil
	}
	o.st.count(decZip)
	o.depth--
	var hits []hit
	var names strings.Builder
	record := wheelRecord(zr)
	for _, f := range zr.File {
		if o.st.stop() {
			break
		}
		names.WriteString(path.Base(f.Name) + "\n")
		if f.FileInfo().IsDir() || f.UncompressedSize64 == 0 {
			continue
		}
		if sum, ok := record[f.Name]; ok && f.UncompressedSize64 <= maxMember {
			hits = append(hits, s.scanRecorded(ctx, p+"!/"+f.Name, f, sum, o)...)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			// An encrypted member or an unknown method: its bytes are
			// not the secret, and nothing here can read them.
			continue
		}
		hits = append(hits, s.scanMember(ctx, p+"!/"+f.Name, rc, o)...)
		rc.Close()
	}
	return append(hits, s.scanMemberNames(ctx, names.String())...)
}

// scanMemberNames scans the names of archive members as entry names
// are: with the high-confidence detectors.
func (s *Scanner) scanMemberNames(ctx context.Context, names string) []hit {
	hits := append(s.gitleaks.scan(ctx, "", names, false, nil, false), privateKeys(names, false)...)
	for i := range hits {
		hits[i].line = 0
	}
	return hits
}

// scanMember reads a decoded payload — an archive member, a stream — and
// scans it: whole when it is at most maxMember bytes, in overlapping
// pieces otherwise.
func (s *Scanner) scanMember(ctx context.Context, name string, r io.Reader, o decoding) []hit {
	var hits []hit
	var carry []byte
	for piece := 0; !o.st.stop(); piece++ {
		want := int64(maxMember - len(carry))
		dt, err := io.ReadAll(io.LimitReader(r, want))
		if !o.st.take(len(dt)) {
			return hits
		}
		if len(dt) == 0 && piece > 0 {
			return hits
		}
		buf := append(carry, dt...)
		more := int64(len(dt)) == want && err == nil
		po := o
		po.piece = more || piece > 0
		hits = append(hits, s.scanNested(ctx, name, buf, po)...)
		if !more {
			return hits
		}
		carry = bytes.Clone(buf[len(buf)-chunkOverlap:])
	}
	return hits
}

// scanNested scans a decoded payload: with the detectors, as a file's
// content is, and then opened further.
func (s *Scanner) scanNested(ctx context.Context, name string, dt []byte, o decoding) []hit {
	binary := isBinary(dt)
	text := string(dt)
	if binary {
		text = printableRuns(maskEmbeddedRules(dt))
	}
	low := o.low && !binary
	o.code = o.code || isExecutable(dt)
	hits := s.leaf(ctx, name, text, dt, leafMode{low: low, code: o.code, verified: o.verified})
	if o.verified {
		// Content its archive's manifest vouches for is not decoded
		// further, as a package-verified file is not (decode_wheel.go).
		for i := range hits {
			hits[i].line = 0
		}
		return hits
	}
	o.low, o.lines = low, false
	whole := dt
	if !binary && len(dt) <= sniffLen {
		// Short text holds no stream, archive or UTF-16: only its
		// segments are decoded.
		whole = nil
	}
	hits = append(hits, s.scanDecoded(ctx, name, text, whole, o)...)
	for i := range hits {
		hits[i].line = 0
	}
	return hits
}

// openWhole opens what is recognised only in a payload as a whole:
// UTF-16 text, and, at its start, a zlib stream (two header bytes), an
// LZMA stream without xz's container (decode_lzma.go) or raw deflate.
func (s *Scanner) openWhole(ctx context.Context, p string, dt []byte, o decoding, atStart bool) []hit {
	if u, ok := utf16Text(dt); ok {
		if !o.st.deeper(o.depth) || !o.st.take(len(u)) {
			return nil
		}
		o.st.count(decUTF16)
		o.depth--
		return s.scanNested(ctx, p, u, o)
	}
	if !atStart {
		return nil
	}
	if isZlib(dt) {
		if zr, err := zlib.NewReader(bytes.NewReader(dt)); err == nil {
			return s.scanStream(ctx, p+"!", decZlib, zr, o)
		}
	}
	if hits, ok := s.scanLZMA(ctx, p, dt, o); ok {
		return hits
	}
	if isBinary(dt) && !isExecutable(dt) {
		return s.scanDeflated(ctx, p, dt, o)
	}
	return nil
}

// isZlib reports whether dt starts with a zlib header: deflate with a
// window of at most 32 KiB, no preset dictionary, and the header's
// check bits right.
func isZlib(dt []byte) bool {
	return len(dt) >= 8 && dt[0]&0x0f == 8 && dt[0]>>4 <= 7 && (int(dt[0])<<8|int(dt[1]))%31 == 0 && dt[1]&0x20 == 0
}

// deflateProbe is how much a raw deflate stream must decode to text
// before it is believed: deflate has no header, and any binary file may
// start like a block.
const deflateProbe = 512

// scanDeflated scans dt as a raw deflate stream (zlib without its
// header) when its first deflateProbe bytes decode to text.
func (s *Scanner) scanDeflated(ctx context.Context, p string, dt []byte, o decoding) []hit {
	if len(dt) < minBinaryPayload/4 || dt[0]&6 == 6 {
		// Too short for a compressed secret, or a reserved block type.
		return nil
	}
	fr := flate.NewReader(bytes.NewReader(dt))
	defer fr.Close()
	head := make([]byte, deflateProbe)
	// A short stream that ended cleanly reads as ErrUnexpectedEOF; a
	// corrupt one, as a flate error.
	n, err := io.ReadFull(fr, head)
	if n < 16 || err != nil && !errors.Is(err, io.ErrUnexpectedEOF) || !isText(head[:n]) {
		return nil
	}
	return s.scanStream(ctx, p+"!", decDeflate, io.MultiReader(bytes.NewReader(head[:n]), fr), o)
}

// isExecutable reports whether dt starts like compiled code: an
// executable, a shared or static library, a class file (executableMagics).
func isExecutable(dt []byte) bool {
	for _, m := range executableMagics {
		if bytes.HasPrefix(dt, m) {
			return true
		}
	}
	return false
}
