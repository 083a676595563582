package secrets_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/llb/rootfs"
)

// benchScan scans the directory root b.N times and reports the
// throughput over the bytes of its regular files, by wall clock (MB/s)
// and by CPU time (MB/cpu-s): the machine may be shared, and CPU time is
// what does not depend on the neighbours.
func benchScan(b *testing.B, root string) {
	src := rootfs.DirSource(root)
	tree, err := rootfs.Load(b.Context(), src)
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, e := range tree.Entries() {
		if e.IsRegular() {
			total += e.Size
		}
	}
	s, err := secrets.New(secrets.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := s.ScanTree(b.Context(), tree, src); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := (cpuTime(b) - cpu0).Seconds() / float64(b.N)
	b.ReportMetric(cpu, "cpu-s/op")
	b.ReportMetric(float64(total)/1e6/cpu, "MB/cpu-s")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScanDebianRootfs scans the cached Debian minbase root
// filesystem (about 160 MB in 7,000 files, most of them ELF libraries).
func BenchmarkScanDebianRootfs(b *testing.B) {
	benchScan(b, secretstest.DebianMinbase(b))
}

// BenchmarkScanSynthetic500MB scans a generated 500 MB tree shaped like
// an application image: 40% binaries (random bytes with NUL-terminated
// identifiers, as compiled code has them), 40% source-like text and 20%
// config files of name = value lines, some with secret-looking names and
// harmless values, and a real-looking token in one file in a hundred.
// Generating it takes a while and 500 MB of temporary disk, so it does
// not run with -short.
func BenchmarkScanSynthetic500MB(b *testing.B) {
	if testing.Short() {
		b.Skip("500 MB tree: not with -short")
	}
	benchScan(b, synthetic(b, 500<<20))
}

// synthetic writes about size bytes of files under b.TempDir().
func synthetic(b *testing.B, size int64) string {
	b.Helper()
	root := b.TempDir()
	rng := rand.New(rand.NewPCG(7, 11))
	p := secretstest.Generate(b)
	code := strings.Fields("func return if else for range err nil string int byte len make append ctx context " +
		"package import type struct interface map slice buffer reader writer path file name value result " +
		"server client request response handler config options log error fmt errors sync mutex lock " +
		"the a of to in is that with as it on for be by this from are or an will can should data " +
		"key token auth api password secret access")
	configKeys := strings.Fields("listen_addr port timeout max_connections log_level data_dir cache_size " +
		"workers retries backoff password_min_length api_version token_ttl key_file auth_method access_log")
	configValues := strings.Fields("8080 30s 100 info /var/lib/app 64MiB 4 3 1s 12 v2 3600 /run/secrets/key basic /var/log/access.log true false")
	const fileSize = 256 << 10
	var written int64
	for i := 0; written < size; i++ {
		dir := filepath.Join(root, fmt.Sprintf("d%03d", i/100))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		var sb strings.Builder
		var data []byte
		switch i % 5 {
		case 0, 1:
			data = make([]byte, fileSize)
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			for j := 0; j < 200; j++ {
				s := code[rng.IntN(len(code))] + "_" + code[rng.IntN(len(code))]
				off := rng.IntN(fileSize - len(s) - 2)
				copy(data[off:], "\x00"+s+"\x00")
			}
		case 2, 3:
			for sb.Len() < fileSize {
				indent := strings.Repeat("\t", rng.IntN(4))
				sb.WriteString(indent)
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
		default:
			for sb.Len() < fileSize {
				fmt.Fprintf(&sb, "%s = %s\n", configKeys[rng.IntN(len(configKeys))], configValues[rng.IntN(len(configValues))])
			}
		}
		if data == nil {
			if i%100 == 2 {
				sb.WriteString("github_token = " + p.GitHubToken + "\n")
			}
			data = []byte(sb.String())
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
		written += int64(len(data))
	}
	return root
}
