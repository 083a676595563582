package rootfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
)

const (
	// readerChunk is the unit ReaderAt fetches and caches. ELF parsing
	// touches a few headers at both ends of a file and then whole
	// sections, so chunks are large enough to make a section one or two
	// calls and small enough that headers do not pull in megabytes.
	readerChunk = 256 << 10
	// readerCacheChunks bounds the memory one ReaderAt holds (16 MiB).
	readerCacheChunks = 64
	// streamChunk is what NewReader asks for per call when streaming.
	streamChunk = 1 << 20
)

// ReaderAt returns an io.ReaderAt over the first size bytes of p in src.
// Reads are served from fixed-size chunks fetched with ranged ReadFile
// calls and kept in a small cache, so debug/elf can parse a large binary
// while fetching only the parts it looks at.
//
// io.ReaderAt has no context parameter, so the reader keeps ctx and uses
// it for every fetch; it must not outlive the operation ctx belongs to.
func ReaderAt(ctx context.Context, src Source, p string, size int64) io.ReaderAt {
	return &chunkReader{ctx: ctx, src: src, path: p, size: size, chunks: map[int64][]byte{}}
}

type chunkReader struct {
	ctx  context.Context
	src  Source
	path string
	size int64

	mu     sync.Mutex
	chunks map[int64][]byte
	order  []int64 // chunk indexes, least recently fetched first
}

func (r *chunkReader) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("reading %s: negative offset %d", r.path, off)
	}
	n := 0
	for n < len(b) {
		pos := off + int64(n)
		if pos >= r.size {
			return n, io.EOF
		}
		idx := pos / readerChunk
		chunk, err := r.chunk(idx)
		if err != nil {
			return n, err
		}
		within := pos - idx*readerChunk
		if within >= int64(len(chunk)) {
			// The file is shorter than the size we were given.
			return n, io.EOF
		}
		n += copy(b[n:], chunk[within:])
	}
	return n, nil
}

func (r *chunkReader) chunk(idx int64) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.chunks[idx]; ok {
		return c, nil
	}
	start := idx * readerChunk
	length := min(int64(readerChunk), r.size-start)
	c, err := r.src.ReadFile(r.ctx, r.path, start, length)
	if err != nil {
		return nil, fmt.Errorf("reading %s at %d: %w", r.path, start, err)
	}
	if len(r.order) >= readerCacheChunks {
		delete(r.chunks, r.order[0])
		r.order = r.order[1:]
	}
	r.chunks[idx] = c
	r.order = append(r.order, idx)
	return c, nil
}

// NewReader streams the whole of p from src, one ranged read at a time,
// so hashing or scanning a large file never holds it in memory.
func NewReader(ctx context.Context, src Source, p string) io.Reader {
	return &streamReader{ctx: ctx, src: src, path: p}
}

type streamReader struct {
	ctx  context.Context
	src  Source
	path string
	off  int64
	buf  []byte
	eof  bool
}

func (s *streamReader) Read(b []byte) (int, error) {
	if len(s.buf) == 0 {
		if s.eof {
			return 0, io.EOF
		}
		chunk, err := s.src.ReadFile(s.ctx, s.path, s.off, streamChunk)
		if err != nil {
			return 0, fmt.Errorf("reading %s at %d: %w", s.path, s.off, err)
		}
		s.off += int64(len(chunk))
		s.eof = len(chunk) < streamChunk
		s.buf = chunk
		if len(chunk) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(b, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// SHA256 returns the hex SHA-256 of p's content in src.
func SHA256(ctx context.Context, src Source, p string) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, NewReader(ctx, src, p)); err != nil {
		return "", fmt.Errorf("hashing %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
