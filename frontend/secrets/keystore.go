package secrets

import (
	"encoding/base64"
	"encoding/binary"
)

// Java keystores: JKS (magic 0xFEEDFEED) and JCEKS (0xCECECECE), as
// sun.security.provider.JavaKeyStore and com.sun.crypto.provider.
// JceKeyStore write them: magic, version (1 or 2), entry count, then per
// entry a tag, an alias and a timestamp. A tag 1 entry is a private key
// (a protected EncryptedPrivateKeyInfo and its certificate chain), a tag
// 3 entry in JCEKS a secret key (a sealed Java object); a tag 2 entry is
// a trusted certificate. A store with trusted certificates only — Java's
// cacerts, /etc/ssl/certs/java/cacerts — holds nothing secret and is not
// a finding; a store with one key entry is, whatever it is called.
// PKCS#12 stores (keytool's default since Java 9) are found by their key
// bags' DER (keys.go).
const (
	jksMagic   = 0xFEEDFEED
	jceksMagic = 0xCECECECE
	// maxKeystoreEntries bounds the entries walked.
	maxKeystoreEntries = 1 << 16
)

// keystoreKeys reports the private and secret key entries of a Java
// keystore that starts dt. The fingerprint is of the protected key (or,
// for a JCEKS secret key, of the rest of the store).
func keystoreKeys(dt []byte) []hit {
	if len(dt) < 12 {
		return nil
	}
	magic := binary.BigEndian.Uint32(dt)
	version := binary.BigEndian.Uint32(dt[4:])
	if magic != jksMagic && magic != jceksMagic || version != 1 && version != 2 {
		return nil
	}
	r := &beReader{dt: dt, off: 8, ok: true}
	count := r.u32()
	var out []hit
	for i := uint32(0); i < count && i < maxKeystoreEntries && r.ok; i++ {
		tag := r.u32()
		r.utf()
		r.skip(8) // timestamp
		switch tag {
		case 1:
			key := r.bytes(int(r.u32()))
			if !r.ok || len(key) < minPrivateKeyBytes {
				return out
			}
			out = append(out, hit{rule: RulePrivateKey, fingerprint: Fingerprint(base64.StdEncoding.EncodeToString(key))})
			for range r.u32() {
				if !r.ok {
					return out
				}
				r.cert(version)
			}
		case 2:
			r.cert(version)
		case 3:
			if magic == jceksMagic && r.ok && r.off < len(dt) {
				// A serialized SealedObject of unknown length: the entry
				// is a secret key, and the walk cannot go past it.
				return append(out, hit{rule: RulePrivateKey, fingerprint: fingerprintBytes(dt[r.off:min(len(dt), r.off+maxKeyBody)])})
			}
			return out
		default:
			return out
		}
	}
	return out
}

// beReader reads big-endian fields; ok turns false at the first field
// that does not fit, and stays false.
type beReader struct {
	dt  []byte
	off int
	ok  bool
}

func (r *beReader) bytes(n int) []byte {
	if !r.ok || n < 0 || r.off+n > len(r.dt) {
		r.ok = false
		return nil
	}
	b := r.dt[r.off : r.off+n]
	r.off += n
	return b
}

func (r *beReader) skip(n int) { r.bytes(n) }

func (r *beReader) u32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// utf reads a Java modified-UTF-8 string: a 2-byte length and the bytes.
func (r *beReader) utf() {
	b := r.bytes(2)
	if b != nil {
		r.bytes(int(binary.BigEndian.Uint16(b)))
	}
}

// cert skips a certificate: its type name (version 2) and its encoding.
func (r *beReader) cert(version uint32) {
	if version == 2 {
		r.utf()
	}
	r.bytes(int(r.u32()))
}
