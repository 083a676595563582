package secretstest

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Synthetic is what WriteSynthetic produced.
type Synthetic struct {
	// Bytes is the total size of the files written.
	Bytes int64
	// Files is how many files were written.
	Files int
	// Planted counts the secrets planted, by kind.
	Planted map[string]int
}

// WriteSynthetic writes about size bytes of files under root, shaped like
// an application image: files of 256 KiB, 40% binaries (random bytes with
// NUL-terminated identifiers, as compiled code has them), 40% source-like
// text and 20% config files of name = value lines, some with
// secret-looking names and harmless values.
// A few secrets are planted: a GitHub token in one text file in a
// hundred, an AWS access key id in one config file in a hundred and a
// PEM private key in one text file in five hundred.
//
// Unlike Generate's, these secrets are drawn from a fixed seed with
// everything else, so every run (and every machine) scans the same bytes:
// benchmarks compare scanners on it, and their counts must agree.
func WriteSynthetic(root string, size int64) (Synthetic, error) {
	out := Synthetic{Planted: map[string]int{}}
	rng := rand.New(rand.NewPCG(7, 11))
	code := strings.Fields("func return if else for range err nil string int byte len make append ctx context " +
		"package import type struct interface map slice buffer reader writer path file name value result " +
		"server client request response handler config options log error fmt errors sync mutex lock " +
		"the a of to in is that with as it on for be by this from are or an will can should data " +
		"key token auth api password secret access")
	configKeys := strings.Fields("listen_addr port timeout max_connections log_level data_dir cache_size " +
		"workers retries backoff password_min_length api_version token_ttl key_file auth_method access_log")
	configValues := strings.Fields("8080 30s 100 info /var/lib/app 64MiB 4 3 1s 12 v2 3600 /run/secrets/key basic /var/log/access.log true false")
	const fileSize = 256 << 10
	for i := 0; out.Bytes < size; i++ {
		dir := filepath.Join(root, fmt.Sprintf("d%03d", i/100))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return out, fmt.Errorf("synthetic tree: %w", err)
		}
		var sb strings.Builder
		var data []byte
		switch i % 5 {
		case 0, 1:
			data = make([]byte, fileSize)
			for j := 0; j < len(data); j += 8 {
				binary.LittleEndian.PutUint64(data[j:], rng.Uint64())
			}
			for range 200 {
				s := code[rng.IntN(len(code))] + "_" + code[rng.IntN(len(code))]
				off := rng.IntN(fileSize - len(s) - 2)
				copy(data[off:], "\x00"+s+"\x00")
			}
		case 2, 3:
			for sb.Len() < fileSize {
				sb.WriteString(strings.Repeat("\t", rng.IntN(4)))
				for j := range 3 + rng.IntN(9) {
					if j > 0 {
						sb.WriteByte(' ')
					}
					sb.WriteString(code[rng.IntN(len(code))])
				}
				if rng.IntN(10) == 0 {
					fmt.Fprintf(&sb, " := %q", code[rng.IntN(len(code))])
				}
				sb.WriteByte('\n')
			}
			if i%100 == 2 {
				sb.WriteString("github_token = " + drawSeeded(rng, "ghp_", alnum, 36) + "\n")
				out.Planted["github-pat"]++
			}
			if i%500 == 3 {
				key, err := seededPrivateKeyPEM(rng)
				if err != nil {
					return out, fmt.Errorf("synthetic tree: %w", err)
				}
				sb.WriteString(key)
				out.Planted["private-key"]++
			}
		default:
			for sb.Len() < fileSize {
				fmt.Fprintf(&sb, "%s = %s\n", configKeys[rng.IntN(len(configKeys))], configValues[rng.IntN(len(configValues))])
			}
			if i%100 == 4 {
				sb.WriteString("aws_access_key_id = " + drawSeeded(rng, "AKIA", base32, 16) + "\n")
				out.Planted["aws-access-token"]++
			}
		}
		if data == nil {
			data = []byte(sb.String())
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), data, 0o644); err != nil {
			return out, fmt.Errorf("synthetic tree: %w", err)
		}
		out.Bytes += int64(len(data))
		out.Files++
	}
	return out, nil
}

// drawSeeded returns prefix and n characters of alphabet drawn from rng.
func drawSeeded(rng *rand.Rand, prefix, alphabet string, n int) string {
	b := []byte(prefix)
	for range n {
		b = append(b, alphabet[rng.IntN(len(alphabet))])
	}
	return string(b)
}

// seededPrivateKeyPEM returns a PKCS#8 Ed25519 private key in PEM, from a seed
// drawn from rng.
func seededPrivateKeyPEM(rng *rand.Rand) (string, error) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(rng.Uint32())
	}
	der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}
