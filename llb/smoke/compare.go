package smoke

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// maxNamed bounds how many removed paths one verdict names.
const maxNamed = 10

// Verdict is how the hardened run compares with the plain one.
type Verdict struct {
	// Worse says the hardened image does worse; Reason says how.
	Worse  bool
	Reason string
	// MissingPorts are the plain run's ports the hardened run does not
	// listen on while both still run: not yet a failure, the hardened
	// program gets a second, longer look (Request.ExpectPorts).
	MissingPorts []int
}

// Compare judges the hardened run against the plain one. Only what the
// plain image does is expected: a plain program that exits 1 offline (it
// needs its database) sets no bar the hardened one must pass, except that
// it must be found and executed and not die of a signal.
func Compare(plain, hardened Answer) Verdict {
	worse := func(format string, args ...any) Verdict {
		return Verdict{Worse: true, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case plain.Started && !hardened.Started:
		return worse("the hardened image's program could not be started (%s), the plain image's could", hardened.StartError)
	case plain.Health == Healthy && hardened.Health != Healthy:
		return worse("the plain image became healthy, the hardened image's health check never passed (%s)", status(hardened))
	case hardened.Running:
	case plain.Running:
		return worse("the hardened image's program %s while the plain image's kept running", status(hardened))
	case plain.ExitCode == 0 && hardened.ExitCode != 0:
		return worse("the hardened image's program %s, the plain image's exited 0", status(hardened))
	case hardened.ExitCode != plain.ExitCode && cannotRun(hardened) && !cannotRun(plain):
		return worse("the hardened image's program %s, the plain image's %s", status(hardened), status(plain))
	}
	if !plain.Running || !hardened.Running {
		return Verdict{}
	}
	var missing []int
	for _, p := range plain.Ports {
		if !slices.Contains(hardened.Ports, p) {
			missing = append(missing, p)
		}
	}
	return Verdict{MissingPorts: missing}
}

// ComparePorts judges a second look at a hardened program that had not
// opened ports of the plain one.
func ComparePorts(plain, second Answer, expected []int) Verdict {
	if v := Compare(plain, second); v.Worse {
		return v
	}
	var missing []string
	for _, p := range expected {
		if !slices.Contains(second.Ports, p) {
			missing = append(missing, fmt.Sprint(p))
		}
	}
	if len(missing) == 0 {
		return Verdict{}
	}
	if !second.Running {
		return Verdict{Worse: true, Reason: fmt.Sprintf("the hardened image's program %s; the plain image's listens on TCP %s", status(second), strings.Join(missing, ", "))}
	}
	return Verdict{Worse: true, Reason: fmt.Sprintf("the hardened image's program does not listen on TCP %s after %.1fs; the plain image's does", strings.Join(missing, ", "), float64(second.Millis)/1000)}
}

// cannotRun says the program was not found or not executable, or a signal
// ended it: what a missing interpreter, library or file does.
func cannotRun(a Answer) bool {
	return !a.Started || a.ExitCode == 126 || a.ExitCode == 127 || a.Signal != ""
}

// Status says in words how a run ended.
func Status(a Answer) string { return status(a) }

func status(a Answer) string {
	secs := float64(a.Millis) / 1000
	switch {
	case !a.Started:
		return fmt.Sprintf("could not start (exit %d: %s)", a.ExitCode, a.StartError)
	case a.Running && a.Health != "":
		return fmt.Sprintf("running, %s after %.1fs", a.Health, secs)
	case a.Running:
		return fmt.Sprintf("running after %.1fs", secs)
	case a.Signal != "":
		return fmt.Sprintf("was killed by %s after %.1fs", a.Signal, secs)
	default:
		return fmt.Sprintf("exited with %d after %.1fs", a.ExitCode, secs)
	}
}

// NamedPaths are the removed paths that the lines mention, by path or by
// file name, in removed's order, at most maxNamed: a loader's "libz.so.1:
// cannot open shared object file" names /usr/lib/x86_64-linux-gnu/libz.so.1,
// a shell's "exec: python3: not found" names /usr/bin/python3. A name
// matches only as a whole word of a path or file name, so that "sh" does
// not match "shared".
func NamedPaths(lines, removed []string) []string {
	text := strings.Join(lines, "\n")
	var named []string
	for _, p := range removed {
		if len(named) == maxNamed {
			break
		}
		if mentions(text, p, false) || mentions(text, path.Base(p), true) {
			named = append(named, p)
		}
	}
	return named
}

// mentions says whether word occurs in text with no file name character
// on either side; a bare name (a file name without its directory) must
// not be a component of a longer path either.
func mentions(text, word string, bare bool) bool {
	if word == "" || word == "/" || word == "." {
		return false
	}
	for i := 0; ; {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		before := start == 0 || !nameByte(text[start-1]) && (!bare || text[start-1] != '/')
		if before && endsName(text, end) && (!bare || end == len(text) || text[end] != '/') {
			return true
		}
		i = start + 1
	}
}

// endsName says a name ends at text[end]: nothing follows, or no name
// byte, or a full stop that ends a sentence.
func endsName(text string, end int) bool {
	if end < len(text) && text[end] == '.' {
		end++
	}
	return end == len(text) || !nameByte(text[end])
}

// nameByte is a byte that continues a file name: letters, digits and
// ._+- (a path's slash ends a name, so /usr/bin/python3 names python3).
func nameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '+' || b == '-' || b >= 0x80
}
