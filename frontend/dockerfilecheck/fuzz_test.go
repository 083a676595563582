package dockerfilecheck

import (
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/policy"
)

// fuzzSeeds are small Dockerfiles, one feature each: the engine mutates
// and minimises seeds, so a large seed makes every execution slow and the
// target spends its time minimising instead of exploring.
var fuzzSeeds = []string{
	"FROM alpine\n",
	"FROM a AS b\nFROM b\nUSER 0\n",
	"FROM alpine\nRUN <<EOF\ncurl -k x | sh\nEOF\n",
	"# escape=`\nFROM alpine\nRUN a `\n  b\n",
	"ARG X=1\nFROM a:${X} AS b\nONBUILD RUN bash <(curl x)\nFROM b\nUSER $U\nCMD a 'b c'\n",
	"# hardenkit:ignore=HK1001 reason=\"x\"\nFROM a\n",
	"FROM a\nRUN apt-get update && apt-get install -y b=1 c && pip install -c x d\n",
	"FROM a\nRUN go install x.io/y@latest && npm i git+https://h/r#main\n",
	"FROM a\nRUN wget -O /t.tgz https://h/t.tgz && tar xf /t.tgz && ./i.sh\n",
	"FROM a\nENV K=\"0123456789ABCDEF0123456789ABCDEF01234567\"\nRUN gpg --recv-keys $K\n",
	"FROM a\nADD https://h/x /x\nCOPY . .\nEXPOSE 22\nHEALTHCHECK CMD x\n",
	"FROM a\nRUN git clone https://h/r && git -C r checkout 1a2b3c4\n",
}

// FuzzCheck feeds arbitrary Dockerfiles to Check: it must never panic, and
// findings must stay within the file.
func FuzzCheck(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add(seed)
	}
	// Parsed once: a policy is read-only to Check, and parsing the
	// baseline would otherwise dominate every execution.
	pol, err := policy.Baseline("strict")
	if err != nil {
		f.Fatal(err)
	}
	opt := Options{Policy: pol, BuildArgs: map[string]string{"TOKEN": "ghp_x"}, HasDockerignore: true, DockerignorePatterns: []string{".git"}}
	f.Fuzz(func(t *testing.T, df string) {
		fs, err := Check([]byte(df), opt)
		if err != nil {
			return
		}
		lines := len(splitLines([]byte(df)))
		for _, fd := range fs {
			if fd.Line < 0 || fd.EndLine < fd.Line || fd.EndLine > lines || fd.Rule == "" || fd.Message == "" {
				t.Fatalf("bad finding %+v for a %d-line file", fd, lines)
			}
		}
	})
}

// TestFuzzSeedsAreSmallAndFast keeps the fuzz target fuzzing: small seeds,
// each checked in well under the engine's per-input budget.
func TestFuzzSeedsAreSmallAndFast(t *testing.T) {
	pol, err := policy.Baseline("strict")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range fuzzSeeds {
		if len(s) > 256 {
			t.Errorf("seed of %d bytes, want at most 256: %.40q", len(s), s)
		}
	}
	const rounds = 20
	start := time.Now()
	for range rounds {
		for _, s := range fuzzSeeds {
			_, _ = Check([]byte(s), Options{Policy: pol})
		}
	}
	per := time.Since(start) / time.Duration(rounds*len(fuzzSeeds))
	t.Logf("%v per seed", per)
	if limit := 10 * time.Millisecond * raceSlowdown; per > limit {
		t.Errorf("a small Dockerfile takes %v to check, want under %v (the fuzz engine needs hundreds of executions a second)", per, limit)
	}
}
