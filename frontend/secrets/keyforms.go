package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
)

// Key formats other than DER and PEM: OpenSSH's binary key format,
// PuTTY's .ppk files and bare base64 bodies. Java keystores and OpenPGP
// packets are in keystore.go and openpgp.go.

// binaryKeys finds private keys by structure in raw bytes: DER
// structures anywhere, and at the start of dt a Java keystore or an
// OpenPGP packet stream; the OpenSSH binary format wherever its magic
// occurs. It is what a file's raw content, a decoded base64 body and an
// inflated archive member are given to.
func binaryKeys(dt []byte) []hit {
	hits := derKeys(dt)
	hits = append(hits, opensshKeys(dt)...)
	hits = append(hits, keystoreKeys(dt)...)
	hits = append(hits, openPGPSecretKeys(dt)...)
	return hits
}

// structuralKeys finds the private keys that privateKeys' PEM search
// does not: by structure in a file's raw bytes dt, and in its text (the
// file itself or a binary's printable strings) bare base64 bodies and
// PuTTY key files. A key already in prior (the same key as PEM) is not
// reported again. In a file its package vouches for (verified) bare
// bodies are not decoded: an encoded form is as public as the file, as
// for every other decoding (file.go), and looking for them in every
// line of a distribution cost more than all other key detectors.
func structuralKeys(text string, dt []byte, lines, verified bool, prior []hit) []hit {
	seen := map[string]bool{}
	for _, h := range prior {
		if h.rule == RulePrivateKey {
			seen[h.fingerprint] = true
		}
	}
	var out []hit
	add := func(hs []hit) {
		for _, h := range hs {
			if !seen[h.fingerprint] {
				seen[h.fingerprint] = true
				out = append(out, h)
			}
		}
	}
	add(puttyKeys(text, lines))
	add(binaryKeys(dt))
	if !verified {
		add(bareKeys(text, lines))
	}
	return out
}

// opensshMagic starts OpenSSH's private key format (PROTOCOL.key), the
// bytes an "OPENSSH PRIVATE KEY" PEM body encodes.
const opensshMagic = "openssh-key-v1\x00"

// opensshAnchor is where in opensshMagic the search starts: "-v1\x00"
// is rarer in binaries and text than the magic's "o", which made the
// search for it three times slower.
const opensshAnchor = 11

// maxSSHString bounds one length-prefixed field of the OpenSSH format.
const maxSSHString = 1 << 20

// opensshKeys finds OpenSSH private keys in their binary form: the magic,
// then cipher name, KDF name, KDF options, a key count, the public keys
// and the private section, every length consistent. ssh-keygen carries
// the magic as a string constant, without the structure after it.
func opensshKeys(dt []byte) []hit {
	var out []hit
	for off := opensshAnchor; off <= len(dt); {
		i := bytes.Index(dt[off:], []byte(opensshMagic[opensshAnchor:]))
		if i < 0 {
			return out
		}
		start := off + i - opensshAnchor
		off += i + 1
		if !bytes.HasPrefix(dt[start:], []byte(opensshMagic)) {
			continue
		}
		if end, ok := opensshKeyEnd(dt, start+len(opensshMagic)); ok {
			out = append(out, keyHit(dt[start:end]))
			off = end + opensshAnchor
		}
	}
	return out
}

// opensshKeyEnd parses the fields after the magic at dt[off:] and returns
// where the private section ends.
func opensshKeyEnd(dt []byte, off int) (int, bool) {
	field := func() ([]byte, bool) {
		if off+4 > len(dt) {
			return nil, false
		}
		n := int(binary.BigEndian.Uint32(dt[off:]))
		if n > maxSSHString || off+4+n > len(dt) {
			return nil, false
		}
		f := dt[off+4 : off+4+n]
		off += 4 + n
		return f, true
	}
	cipher, ok1 := field()
	kdf, ok2 := field()
	_, ok3 := field()
	if !ok1 || !ok2 || !ok3 || !sshName(cipher) || !sshName(kdf) || off+4 > len(dt) {
		return 0, false
	}
	n := binary.BigEndian.Uint32(dt[off:])
	off += 4
	if n < 1 || n > 64 {
		return 0, false
	}
	for range n {
		if pub, ok := field(); !ok || len(pub) < 16 {
			return 0, false
		}
	}
	priv, ok := field()
	if !ok || len(priv) < minPrivateKeyBytes {
		return 0, false
	}
	if string(cipher) == "none" && !bytes.Equal(priv[:4], priv[4:8]) {
		// An unencrypted private section starts with two equal check
		// integers.
		return 0, false
	}
	return off, true
}

// sshName reports whether b is a cipher or KDF name: short printable
// ASCII ("none", "aes256-ctr", "bcrypt").
func sshName(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if c <= 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// puttyKeys finds PuTTY private key files (PPK versions 1 to 3):
// "PuTTY-User-Key-File-N:" and, after it, "Private-Lines: n" and n lines
// of base64, which is what the fingerprint covers.
func puttyKeys(text string, lines bool) []hit {
	var out []hit
	for off := 0; ; {
		i := strings.Index(text[off:], "PuTTY-User-Key-File-")
		if i < 0 {
			return out
		}
		start := off + i
		off = start + 1
		j := strings.Index(text[start:min(len(text), start+maxKeyBody)], "\nPrivate-Lines:")
		if j < 0 {
			continue
		}
		rest := text[start+j+len("\nPrivate-Lines:"):]
		nl := strings.IndexByte(rest, '\n')
		if nl < 0 {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(rest[:nl]))
		if err != nil || n < 1 || n > 1000 {
			continue
		}
		var body strings.Builder
		for k, l := range strings.Split(rest[nl+1:min(len(rest), nl+1+maxKeyBody)], "\n") {
			if k == n {
				break
			}
			body.WriteString(strings.TrimSpace(l))
		}
		if b := body.String(); len(b) >= minKeyBody && hasBase64Run(b, minKeyBody) {
			h := hit{rule: RulePrivateKey, fingerprint: Fingerprint(b)}
			if lines {
				h.line = lineAt(text, start)
			}
			out = append(out, h)
		}
	}
}

// Bare base64 bodies: a key's base64 without BEGIN/END lines — one long
// run, or lines of base64 as a PEM body has them, indented or quoted.
const (
	// minBareBody is the shortest bare body decoded: an Ed25519 PKCS#8
	// key is 64 base64 characters.
	minBareBody = 64
	// minBareLine is the shortest line that continues a wrapped body
	// (its last line may be short).
	minBareLine = 4
)

// bareKeys finds private keys written as base64 without armour in text,
// by decoding the runs and lines of base64 that start like a key
// structure and looking for one in the bytes (binaryKeys). Only what
// starts like one is decoded — "M" (a DER SEQUENCE), "b3Blbn"
// (openssh-key-v1), "/u3+7" and "zs7O" (Java keystores), "l", "m", "n"
// and "x" (OpenPGP secret key packets) — which keeps the decoding off
// most text.
func bareKeys(text string, lines bool) []hit {
	var out []hit
	for _, b := range base64Blocks(text) {
		if len(b.body) < minBareBody || !strings.ContainsAny(b.body[:1], "Mblmnx/z") {
			continue
		}
		dt, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b.body, "="))
		if err != nil {
			continue
		}
		for _, h := range binaryKeys(dt) {
			if lines {
				h.line = lineAt(text, b.start)
			}
			out = append(out, h)
		}
	}
	return out
}

// base64Block is a run of base64 in text, possibly wrapped over lines,
// without the whitespace and quotes between its parts.
type base64Block struct {
	start int
	body  string
}

// base64Blocks returns the base64 runs of text of at least minBareBody
// characters: consecutive lines that are base64 once trimmed of
// indentation, quotes, a trailing comma or an escaped newline are one
// block; in other lines, each long run is one.
func base64Blocks(text string) []base64Block {
	var out []base64Block
	var cur strings.Builder
	curStart := -1
	flush := func() {
		if curStart >= 0 && cur.Len() >= minBareBody {
			out = append(out, base64Block{start: curStart, body: cur.String()})
		}
		cur.Reset()
		curStart = -1
	}
	for off := 0; off < len(text); {
		end := strings.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		line := strings.TrimSpace(text[off:end])
		line = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(line, ","), `\n`), `\r`)
		line = strings.Trim(line, `"'`)
		if len(line) >= minBareLine && allBase64(line) {
			if curStart < 0 {
				curStart = off
			}
			cur.WriteString(line)
		} else {
			flush()
			for _, r := range base64Runs(text[off:end]) {
				out = append(out, base64Block{start: off + r[0], body: text[off+r[0] : off+r[1]]})
			}
		}
		off = end + 1
	}
	flush()
	return out
}

// allBase64 reports whether s is base64 characters only.
func allBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isBase64(s[i]) {
			return false
		}
	}
	return true
}

// base64Runs returns the [start, end) ranges of runs of at least
// minBareBody base64 characters in line.
func base64Runs(line string) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i <= len(line); i++ {
		if i < len(line) && isBase64(line[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= minBareBody {
			out = append(out, [2]int{start, i})
		}
		start = -1
	}
	return out
}
