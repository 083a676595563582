package dockerfilecheck

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// shellScript returns the instruction's parsed RUN script, or nil when the
// instruction is not a RUN or runs a non-POSIX shell.
func (in *instr) shellScript() *shellscript.Script {
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
		// is followed by ParseArgv.
		in.script = shellscript.ParseArgv(run.CmdLine)
		return in.script
	}
	if !in.posixSh {
		return nil
	}
	in.script = shellscript.Parse(in.runSource(run))
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
	if shellscript.CommandName(fields[0]) == "env" {
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "-") {
				return f
			}
		}
		return ""
	}
	return fields[0]
}

// eachScript calls fn for every RUN instruction (ONBUILD triggers included)
// whose script could be parsed as shell code.
func (f *file) eachScript(fn func(in *instr, s *shellscript.Script)) {
	f.each(func(in *instr) {
		if s := in.shellScript(); s != nil {
			fn(in, s)
		}
	})
}

// eachCall calls fn for every command of every RUN script, unwrapped
// (sudo, env, … removed); raw is the command as written.
func (f *file) eachCall(fn func(in *instr, argv []string, raw shellscript.Call)) {
	f.eachScript(func(in *instr, s *shellscript.Script) {
		for _, c := range s.Calls {
			if argv, _ := shellscript.Unwrap(c.Args); len(argv) > 0 {
				fn(in, argv, c)
			}
		}
	})
}

// isVariable reports whether a word still holds an expansion the check
// cannot resolve ($VAR, $(…)), so it must not be judged as a literal.
func isVariable(w string) bool {
	return strings.Contains(w, "$")
}
