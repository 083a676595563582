package harden

// Advice as Dockerfile edits (HK2011, HK2024): the refusals whose remedy
// is a change to the Dockerfile carry it as a rules.Fix after their prose,
// so the advice can be followed by a program (and is, by the integration
// suite's TestAdviceFollowed) instead of only read. The edits point at the
// shipped stage's lines the frontend located (Lines); without them (an
// in-process build of a config, not a Dockerfile) there is no fix to
// write and none is rendered.

import (
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

// stageFix collects the edits of one piece of advice.
type stageFix struct {
	lines Lines
	fix   rules.Fix
}

// set makes the instruction at r read text: replaced where the Dockerfile
// writes it, else (inherited from the base image) added at the end of the
// shipped stage.
func (s *stageFix) set(r []parser.Range, text string) {
	if len(r) == 0 {
		s.appendLine(text)
		return
	}
	s.fix.Edits = append(s.fix.Edits, rules.Edit{Op: rules.EditReplace, Line: r[0].Start.Line, End: endLine(r), Text: text})
}

// remove deletes the instruction at r, if the Dockerfile writes it.
func (s *stageFix) remove(r []parser.Range) {
	if len(r) > 0 {
		s.fix.Edits = append(s.fix.Edits, rules.Edit{Op: rules.EditDelete, Line: r[0].Start.Line, End: endLine(r)})
	}
}

// appendLine adds an instruction at the end of the shipped stage.
func (s *stageFix) appendLine(text string) {
	if len(s.lines.Last) > 0 {
		s.fix.Edits = append(s.fix.Edits, rules.Edit{Op: rules.EditInsert, Line: endLine(s.lines.Last), Text: text})
	}
}

// manual records a step the fix cannot write for the user.
func (s *stageFix) manual(why string) {
	if s.fix.Manual != "" {
		s.fix.Manual += "; "
	}
	s.fix.Manual += why
}

// String renders the fix, or nothing when the Dockerfile's lines are
// unknown.
func (s *stageFix) String() string {
	if len(s.lines.Last) == 0 {
		return ""
	}
	return s.fix.String()
}

func endLine(r []parser.Range) int {
	end := r[len(r)-1].End.Line
	return max(end, r[0].Start.Line)
}

// Words a build-time RUN step may repeat from an entrypoint script: they
// carry no value that could be a secret, only structure — options, paths,
// file modes, and find's expression punctuation. Any other word (a
// password, a token, a host) keeps the step out of the fix, which then
// says it is not mechanically applicable.
var (
	optionWord = regexp.MustCompile(`^--?[A-Za-z][A-Za-z0-9-]*$`)
	pathWord   = regexp.MustCompile(`^(\.|\.\.|[A-Za-z0-9_.@+-]*/[A-Za-z0-9_./@+-]*)$`)
	modeWord   = regexp.MustCompile(`^([0-7]{3,4}|[ugoa]*[-+=][rwxXst]+)$`)
	findWord   = map[string]bool{"{}": true, "+": true, ";": true, "!": true, "(": true, ")": true}
	findExec   = map[string]bool{"-exec": true, "-execdir": true, "-ok": true, "-okdir": true}
)

// buildTimeStep writes a script's preparation command as a RUN line, when
// every word is one a fix may repeat; user is the user the script
// switches to (already named in the advice), which its chown may name.
func buildTimeStep(call []string, user string) (string, bool) {
	words := make([]string, len(call))
	for i, w := range call {
		// A shell escape (find's \!) is the character itself.
		if len(w) == 2 && w[0] == '\\' {
			w = w[1:]
		}
		u, g, _ := strings.Cut(w, ":")
		// The program find -exec runs is a command name, like call[0].
		program := i == 0 || (i > 0 && findExec[call[i-1]])
		ok := program || optionWord.MatchString(w) || pathWord.MatchString(w) || modeWord.MatchString(w) || findWord[w] ||
			(user != "" && (w == user || (u == user && (g == "" || g == u))))
		if !ok || isExpansion(w) {
			return "", false
		}
		words[i] = ShellWord(w)
	}
	return "RUN " + strings.Join(words, " "), true
}

// plainWord needs no quoting in a shell-form RUN.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

// ShellWord writes w as one word of a shell-form RUN a fix writes: as it
// is when it needs no quoting, else single-quoted.
func ShellWord(w string) string {
	if plainWord.MatchString(w) {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}
