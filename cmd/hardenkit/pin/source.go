package pin

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
)

// edit inserts text at a byte offset of the original Dockerfile. Pins only
// ever insert (a digest after a name, a version after a package, a flag
// after ADD), so every other byte stays as written.
type edit struct {
	at   int
	text string
}

// source is the Dockerfile text with its line offsets.
type source struct {
	dt    []byte
	lines []int // byte offset of each line's start; lines[0] is line 1
}

func newSource(dt []byte) *source {
	s := &source{dt: dt, lines: []int{0}}
	for i, b := range dt {
		if b == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// span returns the byte range of lines start..end (1-based, inclusive),
// without the last line's newline.
func (s *source) span(start, end int) (int, int, error) {
	if start < 1 || end < start || end > len(s.lines) {
		return 0, 0, fmt.Errorf("lines %d-%d are outside the Dockerfile", start, end)
	}
	from := s.lines[start-1]
	to := len(s.dt)
	if end < len(s.lines) {
		to = s.lines[end] - 1
	}
	return from, to, nil
}

// lineOf returns the 1-based line of a byte offset.
func (s *source) lineOf(off int) int {
	i, found := slices.BinarySearch(s.lines, off)
	if found {
		return i + 1
	}
	return i
}

// apply inserts the edits; two edits at one offset keep their order.
func (s *source) apply(edits []edit) ([]byte, error) {
	sorted := slices.Clone(edits)
	slices.SortStableFunc(sorted, func(a, b edit) int { return a.at - b.at })
	var b bytes.Buffer
	last := 0
	for _, e := range sorted {
		if e.at < last || e.at > len(s.dt) {
			return nil, fmt.Errorf("internal error: edit at byte %d is outside the Dockerfile", e.at)
		}
		b.Write(s.dt[last:e.at])
		b.WriteString(e.text)
		last = e.at
	}
	b.Write(s.dt[last:])
	return b.Bytes(), nil
}

// token is a blank-separated word of an instruction's text.
type token struct {
	text       string
	start, end int
}

// tokens splits lines start..end into blank-separated words, dropping the
// line-continuation backslashes. Dockerfile comments only start lines, so
// a line whose first word starts with # is skipped.
func (s *source) tokens(start, end int) ([]token, error) {
	from, to, err := s.span(start, end)
	if err != nil {
		return nil, err
	}
	var out []token
	for _, line := range splitKeep(s.dt[from:to], from) {
		fields := fieldsAt(line.text, line.start)
		if len(fields) > 0 && strings.HasPrefix(fields[0].text, "#") && len(out) > 0 {
			continue
		}
		for _, f := range fields {
			if f.text == `\` {
				continue
			}
			if strings.HasSuffix(f.text, `\`) && f.end == line.start+len(strings.TrimRight(line.text, " \t\r")) {
				f.text = strings.TrimSuffix(f.text, `\`)
				f.end--
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// splitKeep splits b into lines, each with its byte offset.
func splitKeep(b []byte, base int) []token {
	var out []token
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, token{text: string(b[start:i]), start: base + start, end: base + i})
			start = i + 1
		}
	}
	return append(out, token{text: string(b[start:]), start: base + start, end: base + len(b)})
}

// fieldsAt splits text at blanks, keeping offsets.
func fieldsAt(text string, base int) []token {
	var out []token
	i := 0
	for i < len(text) {
		for i < len(text) && isBlank(text[i]) {
			i++
		}
		j := i
		for j < len(text) && !isBlank(text[j]) {
			j++
		}
		if j > i {
			out = append(out, token{text: text[i:j], start: base + i, end: base + j})
		}
		i = j
	}
	return out
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// instructionArgs returns the words after the keyword and its --flags.
func (s *source) instructionArgs(start, end int, keyword string) ([]token, error) {
	toks, err := s.tokens(start, end)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 || !strings.EqualFold(toks[0].text, keyword) {
		return nil, fmt.Errorf("line %d does not start with %s", start, keyword)
	}
	toks = toks[1:]
	for len(toks) > 0 && strings.HasPrefix(toks[0].text, "--") {
		toks = toks[1:]
	}
	return toks, nil
}

// fromImageEnd returns the offset just after the image name of a FROM.
func (s *source) fromImageEnd(start, end int, image string) (int, error) {
	toks, err := s.instructionArgs(start, end, "FROM")
	if err != nil {
		return 0, err
	}
	if len(toks) == 0 || toks[0].text != image {
		return 0, fmt.Errorf("FROM image %q: %w", image, errNotFound)
	}
	return toks[0].end, nil
}

// argValueEnd returns the offset just after the default value of the
// global ARG name, which must be want as written (a literal, so the pin
// lives next to it).
func (s *source) argValueEnd(start, end int, name, want string) (int, error) {
	toks, err := s.instructionArgs(start, end, "ARG")
	if err != nil {
		return 0, err
	}
	for _, t := range toks {
		v, ok := strings.CutPrefix(t.text, name+"=")
		if !ok {
			continue
		}
		end := t.end
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
			end--
		}
		if v != want {
			return 0, fmt.Errorf("ARG %s: its default %q is not the image %q the build uses (a variable?): pin the image where it is written", name, v, want)
		}
		return end, nil
	}
	return 0, fmt.Errorf("ARG %s has no default value to pin: give it one (ARG %s=%s@sha256:…)", name, name, want)
}

// afterKeyword returns the offset of the first word after an
// instruction's keyword, where a flag can be inserted.
func (s *source) afterKeyword(line int, keyword string) (int, error) {
	toks, err := s.tokens(line, line)
	if err != nil {
		return 0, err
	}
	if len(toks) < 2 || !strings.EqualFold(toks[0].text, keyword) {
		return 0, fmt.Errorf("line %d does not start with %s and an argument", line, keyword)
	}
	return toks[1].start, nil
}

// hasVariable reports whether lines start..end mention a variable.
func (s *source) hasVariable(start, end int) bool {
	from, to, err := s.span(start, end)
	return err != nil || bytes.ContainsRune(s.dt[from:to], '$')
}

// word is a literal shell word of a RUN script.
type word struct {
	text string
	end  int // offset just after the literal text (before a closing quote)
}

// packageWords finds, in the RUN's source text, the words naming each of
// the site's packages in the command that runs the site's tool.
func (s *source) packageWords(site dockerfilecheck.PackageSite) ([]word, error) {
	calls, err := s.runCalls(site.Line, site.EndLine)
	if err != nil {
		return nil, err
	}
	for _, c := range calls {
		tool := -1
		for i, w := range c {
			if w.text != "" && path.Base(w.text) == site.Tool {
				tool = i
				break
			}
		}
		if tool < 0 {
			continue
		}
		var found []word
		for _, p := range site.Packages {
			for _, w := range c[tool+1:] {
				if w.text == p {
					found = append(found, w)
					break
				}
			}
		}
		if len(found) == len(site.Packages) {
			for _, w := range found {
				if w.end < len(w.text) || string(s.dt[w.end-len(w.text):w.end]) != w.text {
					return nil, fmt.Errorf("%s %s: %w", site.Tool, w.text, errNotFound)
				}
			}
			return found, nil
		}
	}
	return nil, fmt.Errorf("%s installs %s, but not all of them are written out in the RUN (they come from a variable or a script): pin them where they are written",
		site.Tool, strings.Join(site.Packages, ", "))
}

// runCalls parses a RUN instruction's source text as shell code and
// returns its simple commands as literal words with offsets into the
// Dockerfile. Lines the Dockerfile parser drops inside a continued RUN
// (comments, blank lines) are blanked first, byte for byte, so offsets
// stay those of the file. Heredoc bodies and `sh -c '…'` strings are
// parsed too.
func (s *source) runCalls(start, end int) ([][]word, error) {
	from, to, err := s.span(start, end)
	if err != nil {
		return nil, err
	}
	text := []byte(string(s.dt[from:to]))
	if !bytes.Contains(text, []byte("<<")) {
		for i, line := range splitKeep(text, 0) {
			t := strings.TrimSpace(line.text)
			if i > 0 && (t == "" || strings.HasPrefix(t, "#")) {
				blank(text, line.start, min(line.end+1, len(text)))
			}
		}
	}
	var calls [][]word
	if err := parseCalls(string(text), from, &calls, 0); err != nil {
		return nil, fmt.Errorf("parsing the RUN at line %d as shell code: %v", start, err)
	}
	return calls, nil
}

func blank(b []byte, from, to int) {
	for i := from; i < to; i++ {
		b[i] = ' '
	}
}

// parseCalls parses src (which starts at byte base of the Dockerfile) and
// appends its commands to calls.
func parseCalls(src string, base int, calls *[][]word, depth int) error {
	if depth > 4 {
		return nil
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		return err
	}
	var nested []func() error
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Redirect:
			if n.Hdoc != nil {
				from, to := int(n.Hdoc.Pos().Offset()), int(n.Hdoc.End().Offset())
				nested = append(nested, func() error { return parseCalls(src[from:to], base+from, calls, depth+1) })
			}
		case *syntax.CallExpr:
			c := make([]word, len(n.Args))
			for i, a := range n.Args {
				c[i] = literal(a, base)
			}
			*calls = append(*calls, c)
			for i, a := range n.Args {
				if i+1 < len(n.Args) && (a.Lit() == "-c" || strings.HasSuffix(a.Lit(), "c") && strings.HasPrefix(a.Lit(), "-")) && i > 0 && isShell(c[i-1].text) {
					if q, ok := single(n.Args[i+1]); ok {
						from := int(q.Left.Offset()) + 1
						nested = append(nested, func() error { return parseCalls(q.Value, base+from, calls, depth+1) })
					}
				}
			}
		}
		return true
	})
	for _, fn := range nested {
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

// literal returns a word's text when it is one literal (bare, 'single'
// or "double" quoted without expansions); text is "" otherwise.
func literal(w *syntax.Word, base int) word {
	if len(w.Parts) != 1 {
		return word{}
	}
	switch p := w.Parts[0].(type) {
	case *syntax.Lit:
		if strings.ContainsAny(p.Value, `\`) {
			return word{}
		}
		return word{text: p.Value, end: base + int(p.End().Offset())}
	case *syntax.SglQuoted:
		if p.Dollar {
			return word{}
		}
		return word{text: p.Value, end: base + int(p.Right.Offset())}
	case *syntax.DblQuoted:
		if len(p.Parts) != 1 {
			return word{}
		}
		if l, ok := p.Parts[0].(*syntax.Lit); ok && !strings.ContainsAny(l.Value, `\`) {
			return word{text: l.Value, end: base + int(l.End().Offset())}
		}
	}
	return word{}
}

// single returns the single-quoted string a word is made of.
func single(w *syntax.Word) (*syntax.SglQuoted, bool) {
	if len(w.Parts) != 1 {
		return nil, false
	}
	q, ok := w.Parts[0].(*syntax.SglQuoted)
	return q, ok && !q.Dollar
}

func isShell(name string) bool {
	switch path.Base(name) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh":
		return true
	}
	return false
}
