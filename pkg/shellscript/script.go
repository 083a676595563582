package shellscript

import (
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Call is one simple command of a script: its words with quotes removed.
// A word that is not fully literal keeps its expansions as text ("$PKGS",
// "$(…)"), so checks can tell it is not a fixed value.
type Call struct {
	Args []string
	// Subs are the commands inside process substitutions <(…) and
	// command substitutions $(…) among the arguments, which is where
	// `bash <(curl …)` and `sh -c "$(curl …)"` hide a download.
	Subs [][]Call
	// Redirected reports a redirection on the command that changes what
	// it does (it writes or reads a file, or reads a heredoc), not only
	// where its output goes (`>/dev/null 2>&1`): its words alone are not
	// the command.
	Redirected bool
}

// Assign is a variable assignment made by the script: `X=1 cmd`,
// `export X=1`, `env X=1 cmd` or a bare `X=1`.
type Assign struct{ Name, Value string }

// Script is shell code parsed once and flattened for the checks: every
// simple command (nested ones included), every pipeline of two or more
// commands, and every assignment.
type Script struct {
	Calls     []Call
	Pipelines [][]Call
	Assigns   []Assign
}

// maxNesting bounds `sh -c`/heredoc recursion so a pathological script
// cannot make the check loop.
const maxNesting = 4

// Parse parses sh/bash code. Code the parser rejects (a typo the shell
// would also reject, or a dialect it does not know) is still read through a
// plain tokenizer, so an unparsable line cannot hide `curl -k`.
func Parse(src string) *Script {
	return parse(src, 0)
}

// ParseArgv reads an exec-form command (a RUN or ENTRYPOINT argv): the
// argv is the command itself, and a shell in it (["sh","-c",…]) has its
// script followed like any nested `sh -c`.
func ParseArgv(argv []string) *Script {
	s := &Script{}
	s.addCall(Call{Args: argv}, 0)
	return s
}

// Calls returns the simple commands of a POSIX shell script in source
// order, each as its words with quotes removed; a word that is not fully
// literal keeps its expansions as text ("$@", "$PORT"). Commands nested in
// conditions, loops and command substitutions are included.
func Calls(src string) [][]string {
	s := Parse(src)
	out := make([][]string, 0, len(s.Calls))
	for _, c := range s.Calls {
		out = append(out, c.Args)
	}
	return out
}

// parse is Parse at a nesting depth.
func parse(src string, depth int) *Script {
	s := &Script{}
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
func (s *Script) walk(root syntax.Node, depth int) {
	// A statement's redirections belong to its command, which Walk
	// visits next.
	redirected := map[*syntax.CallExpr]bool{}
	syntax.Walk(root, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Stmt:
			s.heredocScripts(n, depth)
			if ce, ok := n.Cmd.(*syntax.CallExpr); ok && !quietRedirects(n.Redirs) {
				redirected[ce] = true
			}
		case *syntax.CallExpr:
			for _, a := range n.Assigns {
				s.Assigns = append(s.Assigns, assignOf(a))
			}
			if len(n.Args) > 0 {
				c := callOf(n, depth)
				c.Redirected = redirected[n]
				s.addCall(c, depth)
			}
		case *syntax.DeclClause:
			for _, a := range n.Args {
				if a.Name != nil && !a.Naked {
					s.Assigns = append(s.Assigns, assignOf(a))
				}
			}
		case *syntax.BinaryCmd:
			if n.Op == syntax.Pipe || n.Op == syntax.PipeAll {
				s.Pipelines = append(s.Pipelines, pipelineOf(n, depth))
			}
		}
		return true
	})
}

// addCall records a command, and follows the code a shell would run from
// it: `sh -c '…'`.
func (s *Script) addCall(c Call, depth int) {
	s.Calls = append(s.Calls, c)
	argv, env := Unwrap(c.Args)
	for _, a := range env {
		s.Assigns = append(s.Assigns, a)
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
			s.merge(parse(argv[i+1], depth+1))
		}
		return
	}
}

// heredocScripts parses heredoc bodies that a shell reads as its script:
// `bash <<EOF`, `sh -s <<EOF`, or a statement that is only a heredoc.
func (s *Script) heredocScripts(st *syntax.Stmt, depth int) {
	if depth >= maxNesting {
		return
	}
	for _, r := range st.Redirs {
		if r.Hdoc == nil || (r.Op != syntax.Hdoc && r.Op != syntax.DashHdoc) {
			continue
		}
		shellReads := st.Cmd == nil
		if ce, ok := st.Cmd.(*syntax.CallExpr); ok && len(ce.Args) > 0 {
			argv, _ := Unwrap(wordsOf(ce.Args))
			shellReads = len(argv) > 0 && isShellCommand(argv[0]) && !hasShortFlag(argv[1:], 'c')
		}
		if shellReads {
			s.merge(parse(WordString(r.Hdoc), depth+1))
		}
	}
}

// merge appends a nested script's commands.
func (s *Script) merge(o *Script) {
	s.Calls = append(s.Calls, o.Calls...)
	s.Pipelines = append(s.Pipelines, o.Pipelines...)
	s.Assigns = append(s.Assigns, o.Assigns...)
}

// callOf converts a CallExpr, collecting the commands in its substitutions.
func callOf(ce *syntax.CallExpr, depth int) Call {
	c := Call{Args: wordsOf(ce.Args)}
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
				sub := &Script{}
				for _, st := range stmts {
					sub.walk(st, depth+1)
				}
				c.Subs = append(c.Subs, sub.Calls)
			}
		}
	}
	return c
}

// pipelineOf flattens `a | b | c` into its commands, in order.
func pipelineOf(b *syntax.BinaryCmd, depth int) []Call {
	var out []Call
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
		sub := &Script{}
		sub.walk(st, depth+1)
		out = append(out, sub.Calls...)
	}
	visit(b.X)
	visit(b.Y)
	return out
}

func assignOf(a *syntax.Assign) Assign {
	as := Assign{}
	if a.Name != nil {
		as.Name = a.Name.Value
	}
	if a.Value != nil {
		as.Value = WordString(a.Value)
	}
	return as
}

func wordsOf(ws []*syntax.Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = WordString(w)
	}
	return out
}

// WordString renders a parsed word with quotes removed; expansions stay
// as text ("${PKGS}", "$(…)"), the way Call.Args holds them.
func WordString(w *syntax.Word) string {
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
			switch {
			case p.Param == nil:
				b.WriteString("${}")
			case p.Exp != nil || p.Repl != nil || p.Slice != nil || p.Index != nil || p.Length || p.Excl || p.Width:
				// ${X##*/}, ${X:-d}, ${#X}: computed from X, not X.
				b.WriteString("${" + p.Param.Value + "…}")
			default:
				b.WriteString("${" + p.Param.Value + "}")
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
func (s *Script) tokenize(src string, depth int) {
	src = strings.NewReplacer("\\\n", " ", "&&", "\n", "||", "\n", ";", "\n").Replace(src)
	for _, line := range strings.Split(src, "\n") {
		var pipe []Call
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
				s.Assigns = append(s.Assigns, Assign{Name: name, Value: value})
				args = args[1:]
			}
			if len(args) > 0 && (args[0] == "export" || args[0] == "declare" || args[0] == "readonly") {
				for _, a := range args[1:] {
					if isAssignment(a) {
						name, value, _ := strings.Cut(a, "=")
						s.Assigns = append(s.Assigns, Assign{Name: name, Value: value})
					}
				}
				continue
			}
			if len(args) == 0 {
				continue
			}
			c := Call{Args: args}
			s.addCall(c, depth)
			pipe = append(pipe, c)
		}
		if len(pipe) > 1 {
			s.Pipelines = append(s.Pipelines, pipe)
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
	switch CommandName(name) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh":
		return true
	}
	return false
}

// CommandName is a command word without its directory (`/usr/bin/sudo` is
// `sudo`), the name the wrapper and shell tables know it by.
func CommandName(s string) string {
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
