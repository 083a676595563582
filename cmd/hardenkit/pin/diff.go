package pin

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines around a hunk, as diff -u.
const diffContext = 3

// Diff renders the change from old to new as a unified diff, "" when they
// are equal. Pins only insert text inside lines, so the two texts have the
// same lines and a line-by-line comparison is exact; texts of different
// length are shown as one hunk replacing everything.
func Diff(name string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	a, b := diffLines(old), diffLines(new)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s (pinned)\n", name, name)
	if len(a) != len(b) {
		writeReplacement(&out, a, b)
		return out.String()
	}
	changed := make([]bool, len(a))
	for i := range a {
		changed[i] = a[i] != b[i]
	}
	for i := 0; i < len(a); {
		if !changed[i] {
			i++
			continue
		}
		start := max(0, i-diffContext)
		end := i
		// Extend while the next change is within two contexts.
		for j := i; j < len(a); j++ {
			if changed[j] {
				end = j + 1
			} else if j-end >= 2*diffContext {
				break
			}
		}
		stop := min(len(a), end+diffContext)
		writeAlignedHunk(&out, a, b, start, stop, changed)
		i = stop
	}
	return out.String()
}

// writeReplacement writes one hunk that replaces all of a with all of b.
func writeReplacement(out *strings.Builder, a, b []string) {
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(0, len(a)), hunkRange(0, len(b)))
	for _, l := range a {
		out.WriteString("-" + l)
	}
	for _, l := range b {
		out.WriteString("+" + l)
	}
}

// writeAlignedHunk writes lines [start, stop) of a and b, which have the
// same number of lines, aligned line for line: changed marks the lines that
// differ.
func writeAlignedHunk(out *strings.Builder, a, b []string, start, stop int, changed []bool) {
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(start, stop-start), hunkRange(start, stop-start))
	for i := start; i < stop; {
		if !changed[i] {
			out.WriteString(" " + a[i])
			i++
			continue
		}
		j := i
		for j < stop && changed[j] {
			j++
		}
		for _, l := range a[i:j] {
			out.WriteString("-" + l)
		}
		for _, l := range b[i:j] {
			out.WriteString("+" + l)
		}
		i = j
	}
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// diffLines splits text into lines that keep their newline; a last line
// without one is marked as diff does.
func diffLines(dt []byte) []string {
	s := string(dt)
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s+"\n\\ No newline at end of file\n")
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}
