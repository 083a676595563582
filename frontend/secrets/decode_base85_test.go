package secrets_test

import (
	"encoding/ascii85"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

const (
	rfc1924 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"
	z85     = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
)

// a85 is ascii85 as encoding/ascii85 (and Python's a85encode) write it.
func a85(data []byte) string {
	out := make([]byte, ascii85.MaxEncodedLen(len(data)))
	return string(out[:ascii85.Encode(out, data)])
}

// b85With encodes data in big-endian groups with an 85-digit alphabet;
// the last group is padded with zeros and cut to one character more than
// its bytes, as Python's b85encode does.
func b85With(alphabet string, data []byte) string {
	var b strings.Builder
	for i := 0; i < len(data); i += 4 {
		var g [4]byte
		n := copy(g[:], data[i:])
		v := binary.BigEndian.Uint32(g[:])
		var digits [5]byte
		for k := 4; k >= 0; k-- {
			digits[k] = alphabet[v%85]
			v /= 85
		}
		b.Write(digits[:n+1])
	}
	return b.String()
}

// btoa is btoa(1)'s output: ascii85 groups, "z" for four zero bytes, "y"
// for four spaces, the last group padded with zeros, 78-column lines.
func btoa(data []byte) string {
	var enc strings.Builder
	for i := 0; i < len(data); i += 4 {
		var g [4]byte
		copy(g[:], data[i:])
		switch string(g[:]) {
		case "    ":
			enc.WriteString("y")
		default:
			enc.WriteString(a85(g[:]))
		}
	}
	return "xbtoa Begin\n" + wrap(enc.String(), 78) + fmt.Sprintf("xbtoa End N %d %x E 0 S 0 R 0\n", len(data), len(data))
}

// gitPatch is a git binary patch of data: zlib, then lines of a length
// character and base85 of up to 52 bytes.
func gitPatch(t *testing.T, data []byte) string {
	z := zlibbed(t, data)
	var b strings.Builder
	b.WriteString("diff --git a/creds.bin b/creds.bin\nnew file mode 100644\nindex 0000000..1234567\nGIT binary patch\nliteral " + fmt.Sprint(len(data)) + "\n")
	for len(z) > 0 {
		n := min(len(z), 52)
		c := byte('A' + n - 1)
		if n > 26 {
			c = byte('a' + n - 27)
		}
		b.WriteString(string(c) + b85With(rfc1924, append(z[:n:n], make([]byte, (4-n%4)%4)...))[:((n+3)/4)*5] + "\n")
		z = z[n:]
	}
	return b.String() + "\nliteral 0\nHcmV?d00001\n\n"
}

// TestBase85Family: the AWS key pair in every member of the base85
// family is found in the file it hides in, and the statistics count the
// decoder.
func TestBase85Family(t *testing.T) {
	for _, tc := range []struct {
		name    string
		blob    func(t *testing.T, creds []byte) string
		decoder string
	}{
		{"Adobe ascii85, wrapped (Python a85encode adobe=True)", func(t *testing.T, c []byte) string {
			return wrap("<~"+a85(c)+"~>", 72)
		}, "base85"},
		{"Adobe ascii85 on one line in a YAML value", func(t *testing.T, c []byte) string {
			return "blob: <~" + a85(c) + "~>\n"
		}, "base85"},
		{"ascii85 without delimiters, wrapped", func(t *testing.T, c []byte) string { return wrap(a85(c), 72) }, "base85"},
		{"ascii85 without delimiters, one line, an env file assignment", func(t *testing.T, c []byte) string {
			return "BLOB=" + a85(c) + "\n"
		}, "base85"},
		{"btoa", func(t *testing.T, c []byte) string { return btoa(c) }, "base85"},
		{"RFC 1924 / Python b85encode", func(t *testing.T, c []byte) string { return "B85=" + b85With(rfc1924, c) + "\n" }, "base85"},
		{"Z85", func(t *testing.T, c []byte) string {
			for len(c)%4 != 0 {
				c = append(c, '\n')
			}
			return "z85: " + b85With(z85, c) + "\n"
		}, "z85"},
		// What a binary segment opens is counted: git's patch is zlib.
		{"git binary patch", func(t *testing.T, c []byte) string { return gitPatch(t, c) }, "zlib"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := secretstest.Generate(t)
			const at = "/srv/app/blob.txt"
			blob := tc.blob(t, []byte(awsCredentials(p)))
			res := scanFiles(t, secrets.Options{}, map[string][]byte{at: []byte(blob)})
			wantDecodedKey(t, res, at, p, tc.decoder)
		})
	}
}

// TestBase85Precision: text whose long runs fall in a base85 alphabet —
// rules of dashes, URLs, minified code, paths, PDF streams of binary
// data — decodes to nothing the detectors read: no finding, no decoded
// count, nothing unscanned.
func TestBase85Precision(t *testing.T) {
	random := make([]byte, 600)
	for i := range random {
		random[i] = byte(i*7919%251 + i/13)
	}
	res := scanFiles(t, secrets.Options{}, map[string][]byte{
		"/app/README.md": []byte("Title\n=====================================\n\n-----------------------------------------\n" +
			"See https://docs.internal/guide/install?version=1.2.3&lang=en#section-4 and /usr/share/doc/app/examples/config.yaml.\n"),
		"/app/static/app.min.js": []byte(`!function(e,t){"object"==typeof exports&&"undefined"!=typeof module?module.exports=t():"function"==typeof define&&define.amd?define(t):(e=e||self).App=t()}(this,function(){"use strict";return{a:1}});` + "\n"),
		"/app/doc.ps":            []byte("%!PS\n/Data <~" + wrap(a85(random), 72) + "~> def\n"),
		"/app/data.z85":          []byte(b85With(z85, random[:400]) + "\n"),
		"/app/Makefile":          []byte("CFLAGS+=-O2 -Wall -Wextra -Werror=format-security -D_FORTIFY_SOURCE=2 -fstack-protector-strong\n"),
	})
	if len(res.Findings) != 0 || len(res.Unscanned) != 0 {
		t.Errorf("findings %+v, unscanned %v: want none", res.Findings, res.Unscanned)
	}
	if n := res.Stats.Decoded["base85"] + res.Stats.Decoded["z85"]; n != 0 {
		t.Errorf("decoded %v: want no base85 payload counted", res.Stats.Decoded)
	}
}
