package secrets_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
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
		if _, err := s.ScanTree(b.Context(), tree, src); err != nil {
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
// an application image (secretstest.WriteSynthetic: binaries, source-like
// text and config files, with a few secrets planted). Generating it takes
// a while and 500 MB of temporary disk, so it does not run with -short.
func BenchmarkScanSynthetic500MB(b *testing.B) {
	if testing.Short() {
		b.Skip("500 MB tree: not with -short")
	}
	root := b.TempDir()
	if _, err := secretstest.WriteSynthetic(root, 500<<20); err != nil {
		b.Fatal(err)
	}
	benchScan(b, root)
}
