package secrets

// The decoding budget of one file. Every layer the detector opens — an
// encoding, a compressed stream, an archive — costs one level of depth,
// and every byte it produces is taken from the file's byte budget. A
// file whose budget runs out before everything in it was opened is not
// reported clean: the tree scan lists it as unscanned, and the
// inspection reports HK3052 not-evaluated (the build fails). The limits
// are far above what ordinary content needs — a Spring Boot fat jar of
// 100 MB opens whole — and far below what a decompression bomb asks for.
const (
	// maxDecodeDepth is how many layers one payload is opened through:
	// base64 of base64 of base64 of a gzip of a tar of a gzip is six.
	maxDecodeDepth = 8
	// decodeBudgetBase and decodeBudgetFactor give a file's byte budget:
	// decodeBudgetBase plus decodeBudgetFactor times its size.
	decodeBudgetBase   = 256 << 20
	decodeBudgetFactor = 8
	// maxMember is the largest decoded payload (an archive member, a
	// decompressed stream) held in memory whole; a larger one is scanned
	// in pieces, and a container cut by a piece boundary makes the file
	// not-evaluated.
	maxMember = 64 << 20
	// maxDictionary bounds the window a compressed stream may ask for
	// (xz and zstd allocate it up front): 64 MiB is xz -9's.
	maxDictionary = 64 << 20
)

// decoder identifies one way of opening a payload, for the counts of the
// scan statistics.
type decoder int

const (
	decBase64 decoder = iota
	decBase32
	decHex
	decPercent
	decEscaped
	decUTF16
	decGzip
	decBzip2
	decXz
	decZstd
	decZlib
	decDeflate
	decZip
	decTar
	decBase85
	decZ85
	decLZMA
	decLZMA2
	numDecoders
)

// decoderNames are the keys of TreeStats.Decoded.
var decoderNames = [numDecoders]string{
	decBase64: "base64", decBase32: "base32", decHex: "hex", decPercent: "percent",
	decEscaped: "escaped", decUTF16: "utf16", decGzip: "gzip", decBzip2: "bzip2",
	decXz: "xz", decZstd: "zstd", decZlib: "zlib", decDeflate: "deflate",
	decZip: "zip", decTar: "tar", decBase85: "base85", decZ85: "z85", decLZMA: "lzma", decLZMA2: "lzma2",
}

// decodeState is the budget of one file and the counts of what its
// decoding opened. One goroutine scans a file, so it needs no lock.
type decodeState struct {
	left      int64
	exhausted bool
	opened    [numDecoders]int
}

// newDecodeState returns the budget of a file of size bytes.
func newDecodeState(size int64) *decodeState {
	return &decodeState{left: decodeBudgetBase + decodeBudgetFactor*size}
}

// take spends n decoded bytes; false, and the file is not-evaluated,
// when the budget does not cover them.
func (d *decodeState) take(n int) bool {
	if d.exhausted {
		return false
	}
	d.left -= int64(n)
	if d.left < 0 {
		d.exhausted = true
		return false
	}
	return true
}

// deeper reports whether a payload at depth may be opened one layer
// further; at the limit the file is not-evaluated, because what the
// last layer hides was not looked at.
func (d *decodeState) deeper(depth int) bool {
	if depth <= 0 {
		d.exhausted = true
		return false
	}
	return !d.exhausted
}

// count records that dec opened a payload.
func (d *decodeState) count(dec decoder) { d.opened[dec]++ }

// stop reports whether decoding must stop: the budget is spent.
func (d *decodeState) stop() bool { return d.exhausted }
