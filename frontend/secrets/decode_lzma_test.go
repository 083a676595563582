package secrets_test

import (
	"io"
	"testing"

	"github.com/ulikunitz/xz/lzma"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// lzmaAlone is data in the legacy .lzma format (lzma(1), xz
// --format=lzma): a 13-byte header, then the stream.
func lzmaAlone(t *testing.T, data []byte, sizeInHeader bool) []byte {
	return compress(t, func(w io.Writer) (io.WriteCloser, error) {
		return lzma.WriterConfig{SizeInHeader: sizeInHeader, Size: int64(len(data)), EOSMarker: !sizeInHeader}.NewWriter(w)
	}, data)
}

// rawLZMA2 is data as xz --format=raw writes it: LZMA2 chunks, no header.
func rawLZMA2(t *testing.T, data []byte) []byte {
	return compress(t, func(w io.Writer) (io.WriteCloser, error) { return lzma.Writer2Config{}.NewWriter2(w) }, data)
}

// TestLZMAWithoutContainer: the AWS key pair compressed as a raw LZMA2
// stream or in the legacy .lzma format — a file of its own, a member of
// a tar, base64 of one — is found, and the decoder is counted.
func TestLZMAWithoutContainer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		blob    func(t *testing.T, creds []byte) []byte
		decoder string
	}{
		{"raw LZMA2 (xz --format=raw)", func(t *testing.T, c []byte) []byte { return rawLZMA2(t, c) }, "lzma2"},
		{".lzma with its size", func(t *testing.T, c []byte) []byte { return lzmaAlone(t, c, true) }, "lzma"},
		{".lzma with an end marker", func(t *testing.T, c []byte) []byte { return lzmaAlone(t, c, false) }, "lzma"},
		{"raw LZMA2 in a tar", func(t *testing.T, c []byte) []byte {
			return tarOf(t, "README", "cache\n", "cache.bin", string(rawLZMA2(t, c)))
		}, "lzma2"},
		{"base64 of .lzma", func(t *testing.T, c []byte) []byte { return []byte(b64(string(lzmaAlone(t, c, true))) + "\n") }, "lzma"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := secretstest.Generate(t)
			const at = "/app/data/cache.bin"
			res := scanFiles(t, secrets.Options{}, map[string][]byte{at: tc.blob(t, []byte(awsCredentials(p)))})
			wantDecodedKey(t, res, at, p, tc.decoder)
		})
	}
}

// TestLZMAPrecision: binary files whose first bytes could pass for an
// LZMA header — an 0xE0 control byte, a 0x5D properties byte — but do not
// decode are not opened: no finding, no count, nothing unscanned.
func TestLZMAPrecision(t *testing.T) {
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte(i*7919%251 + i/13)
	}
	lzma2Like := append([]byte{0xe0, 0x00, 0x40, 0x00, 0x80, 0x5d}, noise...)
	aloneLike := append([]byte{0x5d, 0x00, 0x00, 0x80, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, noise...)
	res := scanFiles(t, secrets.Options{}, map[string][]byte{
		"/app/a.bin": lzma2Like,
		"/app/b.bin": aloneLike,
		"/app/c.bin": append([]byte{0xe0, 0, 0}, make([]byte, 64)...),
	})
	if len(res.Findings) != 0 || len(res.Unscanned) != 0 {
		t.Errorf("findings %+v, unscanned %v: want none", res.Findings, res.Unscanned)
	}
	if n := res.Stats.Decoded["lzma"] + res.Stats.Decoded["lzma2"]; n != 0 {
		t.Errorf("decoded %v: want no LZMA stream counted", res.Stats.Decoded)
	}
}
