package secrets

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// LZMA streams without xz's container: the legacy ".lzma" format
// (LZMA-alone: a 13-byte header of properties, dictionary size and
// uncompressed size; lzma(1), 7-Zip, xz --format=lzma) and raw LZMA2
// (xz --format=raw), which has no header at all. Neither has magic
// bytes, so they are tried only at the start of a payload — a file, an
// archive member, a decoded segment — and only when the first bytes
// have the structure the format requires:
//
//   - LZMA-alone: a properties byte below 225, a dictionary of 4 KiB to
//     maxDictionary that is 2^n or 2^n+2^(n-1) (what lzma, xz and 7-Zip
//     write), an uncompressed size that is unknown (all ones) or below
//     2^40;
//   - raw LZMA2: the first chunk resets the dictionary and sets the
//     properties (control byte 0xE0 to 0xFF), its properties byte is
//     valid for LZMA2 (lc+lp at most 4, pb at most 4), and its packed
//     size fits in the payload.
//
// The first lzmaProbe bytes must then decode without error; only then
// is the stream read through, a layer deeper, charged to the file's
// byte budget like every other stream (scanStream). A binary file that
// passes the header checks by chance fails the probe at the cost of a
// few hundred bytes decoded. LZMA2's dictionary is not in the stream:
// lzma2Dictionary (xz's default, preset 6) is assumed; a stream written
// with a larger one decodes until its first reference beyond it.

const (
	// lzmaProbe is how much a headerless stream must decode cleanly
	// before it is believed.
	lzmaProbe = 512
	// lzma2Dictionary is the dictionary raw LZMA2 streams are read with.
	lzma2Dictionary = 8 << 20
	// maxLZMASize bounds the uncompressed size an LZMA-alone header may
	// state.
	maxLZMASize = 1 << 40
)

// isLZMAAlone reports whether dt starts with a plausible LZMA-alone
// header (see above).
func isLZMAAlone(dt []byte) bool {
	if len(dt) < 13+5 || dt[0] >= 225 {
		return false
	}
	dict := binary.LittleEndian.Uint32(dt[1:5])
	size := binary.LittleEndian.Uint64(dt[5:13])
	if dict < 1<<12 || dict > maxDictionary || size != ^uint64(0) && size >= maxLZMASize {
		return false
	}
	// 2^n, or 2^n + 2^(n-1): at most two bits set, adjacent.
	low := dict & -dict
	rest := dict - low
	return rest == 0 || rest == low<<1
}

// isRawLZMA2 reports whether dt starts with the first chunk of a raw
// LZMA2 stream (see above).
func isRawLZMA2(dt []byte) bool {
	if len(dt) < 6+5 || dt[0] < 0xe0 {
		return false
	}
	packed := int(binary.BigEndian.Uint16(dt[3:5])) + 1
	props := int(dt[5])
	lc, lp, pb := props%9, props/9%5, props/45
	return props < 225 && lc+lp <= 4 && pb <= 4 && 6+packed <= len(dt)
}

// scanLZMA scans dt, a payload that starts with an LZMA-alone header or
// a raw LZMA2 stream, as that stream when its first lzmaProbe bytes
// decode cleanly; ok reports whether it was one.
func (s *Scanner) scanLZMA(ctx context.Context, p string, dt []byte, o decoding) ([]hit, bool) {
	var r io.Reader
	var dec decoder
	switch {
	case isLZMAAlone(dt):
		lr, err := lzma.ReaderConfig{DictCap: maxDictionary}.NewReader(bytes.NewReader(dt))
		if err != nil {
			return nil, false
		}
		r, dec = lr, decLZMA
	case isRawLZMA2(dt):
		lr, err := lzma.Reader2Config{DictCap: lzma2Dictionary}.NewReader2(bytes.NewReader(dt))
		if err != nil {
			return nil, false
		}
		r, dec = lr, decLZMA2
	default:
		return nil, false
	}
	head := make([]byte, lzmaProbe)
	n, err := io.ReadFull(r, head)
	if n < 16 || err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, false
	}
	return s.scanStream(ctx, p+"!", dec, io.MultiReader(bytes.NewReader(head[:n]), r), o), true
}
