package rules

// Machine-applicable advice. A refusal whose remedy is a change to the
// Dockerfile carries that change as a Fix, rendered after its prose as
// lines a program can read back (ParseFix) and apply (Fix.Apply), so
// that advice can be tested by following it and a tool can follow it for
// the user. The form, one edit per line, with the Dockerfile's 1-based
// line numbers as the refused build read them:
//
//	  fix: line 8: replace with: ENTRYPOINT ["python3", "/app/server.py"]
//	  fix: lines 8-10: replace with: CMD ["server"]
//	  fix: line 9: delete
//	  fix: after line 4: insert: RUN mkdir -p /run/app
//	  fix: not mechanically applicable: <what the user must decide>
//
// Every line number refers to the original file, so edits do not shift
// each other; several inserts after one line keep their order. A fix that
// has a "not mechanically applicable" line still lists the edits it can
// write, but following only those is not the whole remedy.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// EditOp is what an Edit does to the Dockerfile.
type EditOp string

// The edit operations.
const (
	// EditReplace replaces the instruction on lines Line..End with Text.
	EditReplace EditOp = "replace"
	// EditDelete deletes the instruction on lines Line..End.
	EditDelete EditOp = "delete"
	// EditInsert inserts Text as a new line after line Line (0: at the
	// top).
	EditInsert EditOp = "insert"
)

// Edit is one change to a Dockerfile.
type Edit struct {
	Op EditOp
	// Line and End are the first and last line of the instruction an
	// edit replaces or deletes (End == Line for a one-line instruction);
	// for an insert, Line is the line the text goes after.
	Line, End int
	// Text is the instruction written, on one line (replace, insert).
	Text string
}

// Fix is the change to the Dockerfile that follows a piece of advice.
type Fix struct {
	Edits []Edit
	// Manual says what the fix cannot write for the user; empty when the
	// edits are the whole remedy.
	Manual string
}

// fixPrefix starts every rendered line of a fix.
const fixPrefix = "  fix: "

// Empty reports whether f says nothing.
func (f Fix) Empty() bool { return len(f.Edits) == 0 && f.Manual == "" }

// Applicable reports whether following the edits is the whole remedy.
func (f Fix) Applicable() bool { return len(f.Edits) > 0 && f.Manual == "" }

// String renders f as the lines appended to a message: each starts with a
// newline and "  fix: ". The empty fix renders as "".
func (f Fix) String() string {
	var b strings.Builder
	for _, e := range f.Edits {
		b.WriteString("\n" + fixPrefix)
		switch e.Op {
		case EditInsert:
			fmt.Fprintf(&b, "after line %d: insert: %s", e.Line, oneLine(e.Text))
		case EditDelete:
			fmt.Fprintf(&b, "%s: delete", lineSpan(e))
		default:
			fmt.Fprintf(&b, "%s: replace with: %s", lineSpan(e), oneLine(e.Text))
		}
	}
	if f.Manual != "" {
		b.WriteString("\n" + fixPrefix + "not mechanically applicable: " + oneLine(f.Manual))
	}
	return b.String()
}

func lineSpan(e Edit) string {
	if e.End > e.Line {
		return fmt.Sprintf("lines %d-%d", e.Line, e.End)
	}
	return fmt.Sprintf("line %d", e.Line)
}

// oneLine keeps a rendered edit on its line: a Dockerfile instruction
// written by a fix never needs a line break.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// fixLine is one rendered edit.
var fixLine = regexp.MustCompile(`^(?:line (\d+)|lines (\d+)-(\d+)|after line (\d+)): (?:(replace with|insert): (.+)|(delete))$`)

// ParseFix reads the fix lines out of a message (an error's text, which
// may hold several violations and other lines): every line that starts,
// after blanks, with "fix: ". ok is false when the message has none; an
// error reports a fix line that is not in the documented form.
func ParseFix(msg string) (f Fix, ok bool, err error) {
	trimmed := strings.TrimSpace(fixPrefix)
	for _, line := range strings.Split(msg, "\n") {
		rest, found := strings.CutPrefix(strings.TrimSpace(line), trimmed)
		if !found {
			continue
		}
		ok = true
		rest = strings.TrimSpace(rest)
		if m, isManual := strings.CutPrefix(rest, "not mechanically applicable: "); isManual {
			f.Manual = strings.TrimSpace(strings.Join([]string{f.Manual, m}, " "))
			continue
		}
		e, perr := parseEdit(rest)
		if perr != nil {
			return Fix{}, true, perr
		}
		f.Edits = append(f.Edits, e)
	}
	return f, ok, nil
}

func parseEdit(s string) (Edit, error) {
	m := fixLine.FindStringSubmatch(s)
	if m == nil {
		return Edit{}, fmt.Errorf("fix line %q is not in the form \"line N: replace with: T\", \"after line N: insert: T\" or \"line N: delete\"", s)
	}
	num := func(v string) int { n, _ := strconv.Atoi(v); return n }
	e := Edit{Op: EditOp(m[5]), Text: m[6]}
	switch {
	case m[1] != "":
		e.Line, e.End = num(m[1]), num(m[1])
	case m[2] != "":
		e.Line, e.End = num(m[2]), num(m[3])
	default:
		e.Line, e.End = num(m[4]), num(m[4])
	}
	if m[7] != "" {
		e.Op = EditDelete
	}
	if e.Op == "replace with" {
		e.Op = EditReplace
	}
	if (e.Op == EditInsert) != (m[4] != "") {
		return Edit{}, fmt.Errorf("fix line %q: insert goes with \"after line N\", replace and delete with \"line N\"", s)
	}
	if e.End < e.Line {
		return Edit{}, fmt.Errorf("fix line %q: the range ends before it starts", s)
	}
	return e, nil
}

// Apply returns the Dockerfile with f's edits made. Line numbers are the
// original file's; an edit outside it, or two edits of overlapping
// instructions, is an error.
func (f Fix) Apply(dockerfile []byte) ([]byte, error) {
	lines := strings.SplitAfter(string(dockerfile), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	after := map[int][]string{}
	at := map[int]Edit{}
	changed := map[int]bool{}
	for _, e := range f.Edits {
		if e.Line < 0 || e.End > len(lines) || (e.Op != EditInsert && e.Line < 1) {
			return nil, fmt.Errorf("fix: line %d is outside the Dockerfile's %d lines", e.Line, len(lines))
		}
		if e.Op == EditInsert {
			after[e.Line] = append(after[e.Line], e.Text)
			continue
		}
		for l := e.Line; l <= e.End; l++ {
			if changed[l] {
				return nil, fmt.Errorf("fix: two edits change line %d", l)
			}
			changed[l] = true
		}
		at[e.Line] = e
	}
	var b strings.Builder
	for _, t := range after[0] {
		b.WriteString(t + "\n")
	}
	for i := 1; i <= len(lines); i++ {
		e, edited := at[i]
		last := i
		switch {
		case edited && e.Op == EditReplace:
			b.WriteString(e.Text + "\n")
			last = e.End
		case edited:
			last = e.End
		default:
			b.WriteString(lines[i-1])
			if !strings.HasSuffix(lines[i-1], "\n") {
				b.WriteString("\n")
			}
		}
		for l := i; l <= last; l++ {
			for _, t := range after[l] {
				b.WriteString(t + "\n")
			}
		}
		i = last
	}
	return []byte(b.String()), nil
}
