package dockerfilecheck

import (
	"math/rand"
	"strings"
	"testing"
	"time"
)

// TestLargeRandomDockerfileIsFast: the check runs in every build on text
// the user controls, so 1 MiB of random text must be checked in under 2 s;
// 1 MiB of shell code in one RUN (every line parsed and scanned for
// secrets, about 0.6 s of CPU) within a bound that a loaded machine keeps.
func TestLargeRandomDockerfileIsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("checks 2 MiB of text")
	}
	r := rand.New(rand.NewSource(1))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 -=$'\"|&;<>()/\\.:_{}#@\n"
	random := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		return string(b)
	}
	for _, tc := range []struct {
		name  string
		df    string
		limit time.Duration
	}{
		{"random text", random(1 << 20), 2 * time.Second},
		{"one long RUN", "FROM alpine\nRUN " + strings.ReplaceAll(random(1<<20), "\n", " \\\n") + "\n", 6 * time.Second},
	} {
		start := time.Now()
		_, _ = Check([]byte(tc.df), Options{})
		took := time.Since(start)
		t.Logf("%s: %v", tc.name, took)
		if took > tc.limit*raceSlowdown {
			t.Errorf("%s: 1 MiB checked in %v, want under %v", tc.name, took, tc.limit)
		}
	}
}
