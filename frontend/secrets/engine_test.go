package secrets

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lucasjones/reggen"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/report"
)

// TestWindowsFindWhatGitleaksFinds checks the keyword windows against
// gitleaks' own detector on whole texts: for every default rule, samples
// generated from the rule's regular expression are planted in filler
// text, on a line of their own, inside a long line and next to other
// samples, and both engines must report the same (rule, line, secret).
func TestWindowsFindWhatGitleaksFinds(t *testing.T) {
	g, err := newGitleaks()
	if err != nil {
		t.Fatal(err)
	}
	full := fullDetector(t)
	rng := rand.New(rand.NewPCG(1, 2))
	filler := strings.Repeat("the quick brown fox jumps over the lazy dog\n", 40)
	total, matched := 0, 0
	for _, kr := range g.keywordRules {
		r := full.Config.Rules[kr.id]
		for i := range 8 {
			sample := generate(t, r.Regex.String(), kr.id, i)
			var text string
			switch i % 4 {
			case 0:
				text = filler + sample + "\n" + filler
			case 1:
				text = filler + strings.Repeat("x", rng.IntN(9000)) + " " + sample + " " + strings.Repeat("y", 100) + "\n"
			case 2:
				text = sample
			default:
				text = filler[:rng.IntN(len(filler))] + "config: " + sample + "\n" + generate(t, r.Regex.String(), kr.id, i+100) + "\n" + filler
			}
			if !isASCII(text) {
				// reggen draws case-fold equivalents such as U+212A
				// KELVIN SIGN for "k"; windows treat only ASCII as
				// keyword text.
				continue
			}
			want := keys(withKeyword(full.Detect(detect.Fragment{Raw: text, StartLine: 1}), r.Keywords))
			got := keysOf(g.scan(context.Background(), "", text, true, nil, true))
			total++
			if len(want) > 0 {
				matched++
			}
			if !slices.Equal(got, want) {
				t.Errorf("rule %s sample %d: windows found %v, gitleaks %v", kr.id, i, got, want)
			}
		}
	}
	// The samples must exercise the rules, not only agree on nothing.
	if matched < total/2 {
		t.Errorf("only %d of %d samples were detected by gitleaks itself", matched, total)
	}
}

// generate draws a string matching re, deterministically per rule and
// sample, as gitleaks' own rule tests do (cmd/generate/secrets).
func generate(t *testing.T, re, id string, i int) string {
	t.Helper()
	g, err := reggen.NewGenerator(re)
	if err != nil {
		t.Fatal(err)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", id, i)
	g.SetSeed(int64(h.Sum64()))
	return g.Generate(1)
}

// fullDetector is gitleaks' default detector over whole fragments, minus
// the rules hardenkit replaces.
func fullDetector(t *testing.T) *detect.Detector {
	t.Helper()
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range gitleaksRulesReplaced {
		delete(d.Config.Rules, id)
	}
	d.IgnoreGitleaksAllow = true
	return d
}

// withKeyword keeps the matches that contain one of the rule's keywords.
// gitleaks runs a rule on a whole fragment when a keyword occurs anywhere
// in it, so a rule whose pattern does not require its keyword
// (sourcegraph-access-token's optional "sgp_") also matches far from
// one; windows only look near keywords, by design.
func withKeyword(fs []report.Finding, keywords []string) []report.Finding {
	var out []report.Finding
	for _, f := range fs {
		if slices.ContainsFunc(keywords, func(k string) bool { return strings.Contains(strings.ToLower(f.Match), k) }) {
			out = append(out, f)
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func keys(fs []report.Finding) []string {
	var out []string
	for _, f := range fs {
		if builtinAllowed(f.RuleID, f.Match, f.Secret) {
			continue
		}
		out = append(out, fmt.Sprintf("%s@%d#%s", f.RuleID, f.StartLine, Fingerprint(f.Secret)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func keysOf(hs []hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, fmt.Sprintf("%s@%d#%s", h.rule, h.line, h.fingerprint))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestAssignmentFollows(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"key=abc", true},
		{"key = abc", true},
		{"key_id: x", true},
		{"key\n=x", true},
		{"key \"  ,", true},
		{"key:=", true},
		{"key is here", false},
		{"key", false},
		{"key" + strings.Repeat("a", 20) + "=", true},
		{"key" + strings.Repeat("a", 21) + "=", false},
		{"key    \n\n\n=", true},
		{"key\n\n\n\n=", false},
		{"key(x)=1", false},
	} {
		_, got := assignmentFollows([]byte(tc.text), 3)
		if got != tc.want {
			t.Errorf("assignmentFollows(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestEachFragment(t *testing.T) {
	long := strings.Repeat("a", fragmentSize*2+100)
	text := "l1\nl2\n" + long + "\nl4\n"
	var lines []int
	var joined strings.Builder
	eachFragment(text, func(frag string, line int) {
		lines = append(lines, line)
		joined.WriteString(frag)
	})
	if lines[0] != 1 || lines[len(lines)-1] != 3 && lines[len(lines)-1] != 4 {
		t.Errorf("fragment start lines %v", lines)
	}
	// Overlap makes the pieces longer than the text, never shorter.
	if joined.Len() < len(text) {
		t.Errorf("fragments cover %d of %d bytes", joined.Len(), len(text))
	}
	n := 0
	eachFragment("", func(frag string, line int) { n++ })
	if n != 1 {
		t.Errorf("empty text: %d calls, want 1", n)
	}
}

// TestPrintableRunsSkipsNothing compares printableRuns, which skips
// bytes, with testing every byte, on random data of every printable
// density and on the edges (runs at the start, the end, exactly
// minPrintableRun long).
func TestPrintableRunsSkipsNothing(t *testing.T) {
	everyByte := func(dt []byte) string {
		var b strings.Builder
		start := -1
		for i := 0; i <= len(dt); i++ {
			if i < len(dt) && isPrintable(dt[i]) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 && i-start >= minPrintableRun {
				b.Write(dt[start:i])
				b.WriteByte('\n')
			}
			start = -1
		}
		return b.String()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, density := range []float64{0, 0.2, 0.5, 0.8, 0.95, 1} {
		for range 200 {
			dt := make([]byte, rng.IntN(64))
			for i := range dt {
				if rng.Float64() < density {
					dt[i] = byte(0x20 + rng.IntN(0x5f))
				} else {
					dt[i] = byte(rng.IntN(0x20))
				}
			}
			if got, want := printableRuns(dt), everyByte(dt); got != want {
				t.Fatalf("printableRuns(%q) = %q, want %q", dt, got, want)
			}
		}
	}
	for _, dt := range []string{"", "1234567", "12345678", "\x0012345678", "12345678\x00", "\x001234567\x0012345678"} {
		if got, want := printableRuns([]byte(dt)), everyByte([]byte(dt)); got != want {
			t.Errorf("printableRuns(%q) = %q, want %q", dt, got, want)
		}
	}
}

func TestPrintableRuns(t *testing.T) {
	dt := []byte("\x00\x01short\x00long enough run\x00\x7fanother\tone here\n-----BEGIN X-----\nABCDEFGH\x00")
	got := printableRuns(dt)
	want := "long enough run\nanother\tone here\n-----BEGIN X-----\nABCDEFGH\n"
	if got != want {
		t.Errorf("printableRuns = %q, want %q", got, want)
	}
}

func TestWindowKinds(t *testing.T) {
	g, err := newGitleaks()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]windowKind{}
	for _, r := range g.keywordRules {
		kinds[r.id] = r.window
		if r.id == "generic-api-key" && (r.value == nil || r.value.min != 10 || !r.value.set['/'] || r.value.set[' ']) {
			t.Errorf("generic-api-key value spec %+v, want at least 10 of [\\w.=+/-]", r.value)
		}
	}
	for id, want := range map[string]windowKind{
		"generic-api-key":     windowAssign,
		"github-pat":          windowLine,
		"aws-access-token":    windowLine,
		"curl-auth-header":    windowLines,
		"lob-api-key":         windowLines, // its keywords are in the value, not before the template
		"vault-service-token": windowLine,
	} {
		if kinds[id] != want {
			t.Errorf("%s: window kind %d, want %d", id, kinds[id], want)
		}
	}
}
