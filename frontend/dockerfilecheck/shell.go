package dockerfilecheck

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"mvdan.cc/sh/v3/syntax"
)

// call is one simple command of a RUN script: its words with quotes
// removed. A word that is not fully literal keeps its expansions as text
// ("$PKGS", "$(…)"), so checks can tell it is not a fixed value.
type call struct {
	args []string
	// subs are the commands inside process substitutions <(…) and
	// command substitutions $(…) among the arguments, which is where
	// `bash <(curl …)` and `sh -c "$(curl …)"` hide a download.
	subs [][]call
}

// assign is a variable assignment made by the script: `X=1 cmd`,
// `export X=1`, `env X=1 cmd` or a bare `X=1`.
type assign struct{ name, value string }

// script is a RUN instruction's shell code, parsed once and flattened for
// the checks: every simple command (nested ones included), every pipeline
// of two or more commands, and every assignment.
type script struct {
	calls     []call
	pipelines [][]call
	assigns   []assign
}

// maxNesting bounds `sh -c`/heredoc recursion so a pathological script
// cannot make the check loop.
const maxNesting = 4

// script returns the instruction's parsed RUN script, or nil when the
// instruction is not a RUN or runs a non-POSIX shell.
func (in *instr) shellScript() *script {
	if in.scripted {
		return in.script
	}
	in.scripted = true
	run, ok := in.cmd.(*instructions.RunCommand)
	if !ok {
		return nil
	}
	if !run.PrependShell {
		// Exec form: the argv is the command; a shell in it (["sh","-c",…])
		// is followed by addCall.
		s := &script{}
		s.addCall(call{args: run.CmdLine}, 0)
		in.script = s
		return s
	}
	if !in.posixSh {
		return nil
	}
	in.script = parseScript(in.runSource(run), 0)
	return in.script
}

// runSource rebuilds the shell code BuildKit hands to the shell for a RUN
// (dockerfile2llb dispatchRun): a lone heredoc is the script itself, any
// other heredocs are appended to the command line for the shell to read.
// Known variables are expanded like BuildKit's processCmdEnv (quotes kept,
// unknown variables left for the shell).
func (in *instr) runSource(run *instructions.RunCommand) string {
	lex := shell.NewLex('\\')
	lex.RawQuotes = true
	lex.RawEscapes = true
	lex.SkipUnsetEnv = true
	expand := func(s string) string {
		if w, _, err := lex.ProcessWord(s, in.env); err == nil {
			return w
		}
		return s
	}
	var heredocs []parser.Heredoc
	if in.node != nil {
		heredocs = in.node.Heredocs
	}
	cmdline := strings.Join(run.CmdLine, " ")
	if len(run.Files) > 0 && len(run.CmdLine) == 1 {
		if h := parser.MustParseHeredoc(run.CmdLine[0]); h != nil {
			data := run.Files[0].Data
			if strings.HasPrefix(data, "#!") && !isPOSIXShell(shebangInterpreter(data)) {
				return ""
			}
			if len(heredocs) > 0 && heredocs[0].Expand {
				data = expand(data)
			}
			return data
		}
	}
	var b strings.Builder
	b.WriteString(expand(cmdline))
	for i, file := range run.Files {
		data := file.Data
		if i < len(heredocs) && heredocs[i].Expand {
			data = expand(data)
		}
		b.WriteByte('\n')
		b.WriteString(data)
		b.WriteString(file.Name)
	}
	return b.String()
}

// shebangInterpreter returns the program a `#!` line runs, looking through
// `/usr/bin/env prog`.
func shebangInterpreter(data string) string {
	line, _, _ := strings.Cut(strings.TrimPrefix(data, "#!"), "\n")
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return ""
	}
	if baseName(fields[0]) == "env" {
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "-") {
				return f
			}
		}
		return ""
	}
	return fields[0]
}

// parseScript parses sh/bash code. Code the parser rejects (a typo the
// shell would also reject, or a dialect it does not know) is still checked
// through a plain tokenizer, so an unparsable line cannot hide `curl -k`.
func parseScript(src string, depth int) *script {
	s := &script{}
	if strings.TrimSpace(src) == "" {
		return s
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		s.tokenize(src, depth)
		return s
	}
	s.walk(f, depth)
	return s
}

// walk flattens a parsed file.
func (s *script) walk(root syntax.Node, depth int) {
	syntax.Walk(root, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Stmt:
			s.heredocScripts(n, depth)
		case *syntax.CallExpr:
			for _, a := range n.Assigns {
				s.assigns = append(s.assigns, assignOf(a))
			}
			if len(n.Args) > 0 {
				s.addCall(callOf(n, depth), depth)
			}
		case *syntax.DeclClause:
			for _, a := range n.Args {
				if a.Name != nil && !a.Naked {
					s.assigns = append(s.assigns, assignOf(a))
				}
			}
		case *syntax.BinaryCmd:
			if n.Op == syntax.Pipe || n.Op == syntax.PipeAll {
				s.pipelines = append(s.pipelines, pipelineOf(n, depth))
			}
		}
		return true
	})
}

// addCall records a command, and follows the code a shell would run from
// it: `sh -c '…'`.
func (s *script) addCall(c call, depth int) {
	s.calls = append(s.calls, c)
	argv, env := unwrap(c.args)
	for _, a := range env {
		s.assigns = append(s.assigns, a)
	}
	if depth >= maxNesting || len(argv) == 0 || !isShellCommand(argv[0]) {
		return
	}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if a == "-o" || a == "+o" {
			i++ // `set -o` style option with a name: bash -o pipefail -c …
			continue
		}
		if a == "--" || !strings.HasPrefix(a, "-") {
			break
		}
		if strings.HasPrefix(a, "--") || !strings.Contains(a, "c") {
			continue
		}
		if i+1 < len(argv) {
			s.merge(parseScript(argv[i+1], depth+1))
		}
		return
	}
}

// heredocScripts parses heredoc bodies that a shell reads as its script:
// `bash <<EOF`, `sh -s <<EOF`, or a statement that is only a heredoc.
func (s *script) heredocScripts(st *syntax.Stmt, depth int) {
	if depth >= maxNesting {
		return
	}
	for _, r := range st.Redirs {
		if r.Hdoc == nil || (r.Op != syntax.Hdoc && r.Op != syntax.DashHdoc) {
			continue
		}
		shellReads := st.Cmd == nil
		if ce, ok := st.Cmd.(*syntax.CallExpr); ok && len(ce.Args) > 0 {
			argv, _ := unwrap(wordsOf(ce.Args))
			shellReads = len(argv) > 0 && isShellCommand(argv[0]) && !hasShortFlag(argv[1:], 'c')
		}
		if shellReads {
			s.merge(parseScript(wordString(r.Hdoc), depth+1))
		}
	}
}

// merge appends a nested script's commands.
func (s *script) merge(o *script) {
	s.calls = append(s.calls, o.calls...)
	s.pipelines = append(s.pipelines, o.pipelines...)
	s.assigns = append(s.assigns, o.assigns...)
}

// callOf converts a CallExpr, collecting the commands in its substitutions.
func callOf(ce *syntax.CallExpr, depth int) call {
	c := call{args: wordsOf(ce.Args)}
	for _, w := range ce.Args {
		for _, p := range w.Parts {
			var stmts []*syntax.Stmt
			switch p := p.(type) {
			case *syntax.ProcSubst:
				stmts = p.Stmts
			case *syntax.CmdSubst:
				stmts = p.Stmts
			case *syntax.DblQuoted:
				for _, q := range p.Parts {
					if cs, ok := q.(*syntax.CmdSubst); ok {
						stmts = append(stmts, cs.Stmts...)
					}
				}
			}
			if len(stmts) > 0 {
				sub := &script{}
				for _, st := range stmts {
					sub.walk(st, depth+1)
				}
				c.subs = append(c.subs, sub.calls)
			}
		}
	}
	return c
}

// pipelineOf flattens `a | b | c` into its commands, in order.
func pipelineOf(b *syntax.BinaryCmd, depth int) []call {
	var out []call
	var visit func(st *syntax.Stmt)
	visit = func(st *syntax.Stmt) {
		switch c := st.Cmd.(type) {
		case *syntax.BinaryCmd:
			if c.Op == syntax.Pipe || c.Op == syntax.PipeAll {
				visit(c.X)
				visit(c.Y)
				return
			}
		case *syntax.CallExpr:
			if len(c.Args) > 0 {
				out = append(out, callOf(c, depth))
				return
			}
		}
		// A compound command in a pipeline (`curl … | (cd x && sh)`):
		// every command inside it reads the pipe.
		sub := &script{}
		sub.walk(st, depth+1)
		out = append(out, sub.calls...)
	}
	visit(b.X)
	visit(b.Y)
	return out
}

func assignOf(a *syntax.Assign) assign {
	as := assign{}
	if a.Name != nil {
		as.name = a.Name.Value
	}
	if a.Value != nil {
		as.value = wordString(a.Value)
	}
	return as
}

func wordsOf(ws []*syntax.Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = wordString(w)
	}
	return out
}

// wordString renders a word with quotes removed; expansions stay as text.
func wordString(w *syntax.Word) string {
	var b strings.Builder
	writeParts(&b, w.Parts)
	return b.String()
}

func writeParts(b *strings.Builder, parts []syntax.WordPart) {
	for _, p := range parts {
		switch p := p.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			writeParts(b, p.Parts)
		case *syntax.ParamExp:
			if p.Param != nil {
				b.WriteString("${" + p.Param.Value + "}")
			} else {
				b.WriteString("${}")
			}
		case *syntax.CmdSubst:
			b.WriteString("$(…)")
		case *syntax.ArithmExp:
			b.WriteString("$((…))")
		case *syntax.ProcSubst:
			b.WriteString("<(…)")
		case *syntax.ExtGlob:
			b.WriteString(p.Op.String() + p.Pattern.Value + ")")
		}
	}
}

// tokenize is the fallback for code the shell parser rejects: split into
// commands at newlines, ;, && and ||, into pipelines at |, and into words
// at blanks, with quotes stripped.
func (s *script) tokenize(src string, depth int) {
	src = strings.NewReplacer("\\\n", " ", "&&", "\n", "||", "\n", ";", "\n").Replace(src)
	for _, line := range strings.Split(src, "\n") {
		var pipe []call
		for _, seg := range strings.Split(line, "|") {
			var args []string
			for _, w := range strings.Fields(seg) {
				args = append(args, strings.Trim(w, `"'`))
			}
			if len(args) == 0 {
				continue
			}
			for len(args) > 0 && isAssignment(args[0]) {
				name, value, _ := strings.Cut(args[0], "=")
				s.assigns = append(s.assigns, assign{name: name, value: value})
				args = args[1:]
			}
			if len(args) > 0 && (args[0] == "export" || args[0] == "declare" || args[0] == "readonly") {
				for _, a := range args[1:] {
					if isAssignment(a) {
						name, value, _ := strings.Cut(a, "=")
						s.assigns = append(s.assigns, assign{name: name, value: value})
					}
				}
				continue
			}
			if len(args) == 0 {
				continue
			}
			c := call{args: args}
			s.addCall(c, depth)
			pipe = append(pipe, c)
		}
		if len(pipe) > 1 {
			s.pipelines = append(s.pipelines, pipe)
		}
	}
}

// isAssignment reports whether a word is NAME=value.
func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	return ok && syntax.ValidName(name)
}

// isShellCommand reports whether a command name runs shell code.
func isShellCommand(name string) bool {
	switch baseName(name) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh":
		return true
	}
	return false
}

// baseName is the command name without its directory.
func baseName(s string) string {
	return path.Base(strings.TrimSpace(s))
}

// hasShortFlag reports whether a short option letter appears among the
// leading options (`-c`, `-ec`, `-xc`).
func hasShortFlag(args []string, flag byte) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-o" || a == "+o" {
			i++
			continue
		}
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return false
		}
		if !strings.HasPrefix(a, "--") && strings.IndexByte(a[1:], flag) >= 0 {
			return true
		}
	}
	return false
}

// eachScript calls fn for every RUN instruction (ONBUILD triggers included)
// whose script could be parsed as shell code.
func (f *file) eachScript(fn func(in *instr, s *script)) {
	f.each(func(in *instr) {
		if s := in.shellScript(); s != nil {
			fn(in, s)
		}
	})
}

// eachCall calls fn for every command of every RUN script, unwrapped
// (sudo, env, … removed); raw is the command as written.
func (f *file) eachCall(fn func(in *instr, argv []string, raw call)) {
	f.eachScript(func(in *instr, s *script) {
		for _, c := range s.calls {
			if argv, _ := unwrap(c.args); len(argv) > 0 {
				fn(in, argv, c)
			}
		}
	})
}
