package harden

// Entrypoint scripts (HK2011, CIS 4.3): the official images' pattern
//
//	COPY docker-entrypoint.sh /usr/local/bin/
//	ENTRYPOINT ["docker-entrypoint.sh"]
//	CMD ["app", "--flag"]
//
// with a script that prepares something and ends in `exec "$@"` cannot run
// in a distroless image: the shell is removed. Keeping one shell would not
// be enough either (the script calls mkdir, chown, …, which are removed
// too), so rebase refuses it, and this file turns that refusal into the
// fix: the exec-form ENTRYPOINT the script hands over to, read from the
// script itself, and the commands it runs before that, to do at build time.
// Only command names are shown, never the script's arguments, which may
// hold values that must not be printed.

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/elfdeps"
	"github.com/hardenkit/hardenkit/pkg/keep"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// maxEntrypointScript bounds how much of an entrypoint script is read.
const maxEntrypointScript = 256 << 10

// rebaseMessage is the message of a failed rebase: the error, and for a
// shell-script entrypoint the rewrite that makes the image start without
// a shell.
func rebaseMessage(ctx context.Context, in Input, final *rootfs.Tree, src rootfs.Source, err error) string {
	msg := err.Error()
	var ee *keep.EntrypointError
	if !errors.As(err, &ee) || ee.Direct || ee.Position != 0 || ee.Match.Category != tooling.Shell {
		return msg
	}
	cfg := in.Image.Config
	argv := append(slices.Clone(cfg.Entrypoint), cfg.Cmd...)
	name := argv[0]
	lookup := name
	if strings.Contains(name, "/") && !path.IsAbs(name) {
		lookup = path.Join("/", cfg.WorkingDir, name)
	}
	exe, ok := elfdeps.LookPath(final, lookup, envValue(cfg.Env, "PATH"))
	if !ok {
		return msg
	}
	data, rerr := src.ReadFile(ctx, exe, 0, maxEntrypointScript)
	if rerr != nil {
		return fmt.Sprintf("%s (reading the script for advice: %v)", msg, rerr)
	}
	advice, fix := scriptRemedy(string(data), len(cfg.Entrypoint) > 0, argv, in.Lines)
	return msg + ". " + advice + sourcedEnvAdvice(ctx, string(data), cfg.Env, final, src) + fix
}

// scriptBuiltins are shell builtins and keywords-as-commands: they need no
// program in the image, only the shell.
var scriptBuiltins = map[string]bool{
	":": true, ".": true, "[": true, "[[": true, "alias": true, "break": true, "cd": true, "command": true,
	"continue": true, "echo": true, "eval": true, "exec": true, "exit": true, "export": true, "false": true,
	"getopts": true, "local": true, "printf": true, "pwd": true, "read": true, "readonly": true, "return": true,
	"set": true, "shift": true, "source": true, "test": true, "trap": true, "true": true, "type": true,
	"ulimit": true, "umask": true, "unset": true, "wait": true,
}

// scriptAdvice explains how to start the application without the script.
// argv is the container's command line (entrypoint then cmd); argv[0] is
// the script. hasEntrypoint says the script is the ENTRYPOINT (else CMD).
func scriptAdvice(script string, hasEntrypoint bool, argv []string) string {
	advice, _ := scriptRemedy(script, hasEntrypoint, argv, Lines{})
	return advice
}

// scriptRemedy is scriptAdvice and the same advice as Dockerfile edits
// against l (advicefix.go), rendered; "" when l is unknown.
func scriptRemedy(script string, hasEntrypoint bool, argv []string, l Lines) (advice, fix string) {
	instr, at := "CMD", l.Cmd
	if hasEntrypoint {
		instr, at = "ENTRYPOINT", l.Entrypoint
	}
	var b strings.Builder
	fx := &stageFix{lines: l}
	fmt.Fprintf(&b, "%s %s is a shell script, and a hardened image has no shell to run it", instr, argv[0])

	prep, final, sw := scanScript(effectCalls(shellscript.Parse(script)))
	args := argv[1:]
	switch {
	case final == nil:
		b.WriteString("; write the program it starts as the " + instr + " in exec form, e.g. " + instr + ` ["/path/to/app", "--flag"]`)
		fx.manual("the script names no program it hands over to: write it as the " + instr + " in exec form")
	case len(final) == 1 && isAllArgs(final[0]):
		// exec "$@": the script hands over to its arguments, the CMD.
		if len(args) == 0 {
			b.WriteString(`; it ends in exec "$@" but the image gives it no command: write the program as ENTRYPOINT in exec form`)
			fx.manual("the image gives the script no command to hand over to: write the program as ENTRYPOINT in exec form")
			break
		}
		fmt.Fprintf(&b, `; it ends in exec "$@", so it starts the CMD: write ENTRYPOINT %s here and remove the CMD`, execForm(args))
		fx.set(at, "ENTRYPOINT "+execForm(args))
		if hasEntrypoint {
			fx.remove(l.Cmd)
		}
	case !slices.ContainsFunc(final[:len(final)-1], isExpansion) && isAllArgs(final[len(final)-1]):
		// exec app --flag "$@": the fixed words become the ENTRYPOINT,
		// the arguments stay the CMD.
		fmt.Fprintf(&b, `; it ends in exec %s "$@": replace it with ENTRYPOINT %s`, strings.Join(final[:len(final)-1], " "), execForm(final[:len(final)-1]))
		fx.set(at, "ENTRYPOINT "+execForm(final[:len(final)-1]))
		if len(args) > 0 {
			fmt.Fprintf(&b, " and keep CMD %s", execForm(args))
			if !hasEntrypoint {
				fx.appendLine("CMD " + execForm(args))
			}
		}
	case !slices.ContainsFunc(final, isExpansion):
		fmt.Fprintf(&b, "; it ends in exec %s: replace it with %s %s", strings.Join(final, " "), instr, execForm(final))
		fx.set(at, instr+" "+execForm(final))
		if hasEntrypoint && len(args) > 0 {
			// The script ignored its arguments; an ENTRYPOINT would not.
			b.WriteString(" and remove the CMD")
			fx.remove(l.Cmd)
		}
	default:
		b.WriteString("; it ends in an exec whose words are computed at run time: write the program it starts as the " + instr + " in exec form")
		fx.manual("the program the script starts is computed at run time: write it as the " + instr + " in exec form")
	}
	buildTimeAdvice(&b, fx, prep, sw)
	return b.String(), fx.String()
}

// buildTimeAdvice says what the script did before handing over, and who
// it handed over as, with the RUN steps and USER that replace them.
func buildTimeAdvice(b *strings.Builder, fx *stageFix, prep []shellscript.Call, sw *userSwitch) {
	user := ""
	if sw != nil && userWord.MatchString(sw.user) {
		user = sw.user
	}
	var programs []string
	for _, call := range prep {
		c := call.Args
		if !slices.Contains(programs, c[0]) {
			programs = append(programs, c[0])
		}
		// A redirection (`cat > conf <<EOF`) is part of what the command
		// does: its words alone would be another command.
		step, ok := buildTimeStep(c, user)
		switch {
		case call.Redirected:
			fx.manual("the script runs " + c[0] + " with a redirection (it writes or reads a file) the advice does not repeat: write that RUN step yourself")
		case ok:
			fx.appendLine(step)
		default:
			fx.manual("the script runs " + c[0] + " with arguments the advice does not repeat (they may hold values that must not be printed): write that RUN step yourself")
		}
	}
	if len(programs) > 0 {
		fmt.Fprintf(b, ". Before that it runs %s, which the hardened image does not ship either: do that at build time in a RUN step, or in the application", strings.Join(programs, ", "))
	}
	if sw != nil {
		b.WriteString(sw.advice())
		sw.addTo(fx)
	}
}

// effectCalls are a script's commands except those inside a command
// substitution: `$(id -u)` computes a value for a test, it prepares
// nothing a build-time step should repeat.
func effectCalls(s *shellscript.Script) []shellscript.Call {
	var subs [][]string
	var collect func(cs []shellscript.Call)
	collect = func(cs []shellscript.Call) {
		for _, c := range cs {
			for _, sub := range c.Subs {
				for _, sc := range sub {
					subs = append(subs, sc.Args)
				}
				collect(sub)
			}
		}
	}
	collect(s.Calls)
	out := make([]shellscript.Call, 0, len(s.Calls))
	for _, c := range s.Calls {
		if !slices.ContainsFunc(subs, func(sub []string) bool { return slices.Equal(sub, c.Args) }) {
			out = append(out, c)
		}
	}
	return out
}

// scanScript reads an entrypoint script's commands: the commands it runs
// before handing over, the words of the exec it hands over with (after a
// user switch), and the user switch, if any.
func scanScript(calls []shellscript.Call) (prep []shellscript.Call, final []string, sw *userSwitch) {
	for _, call := range calls {
		c := call.Args
		if len(c) == 0 {
			continue
		}
		exec := c[0] == "exec" && len(c) > 1
		words := c
		if exec {
			words = c[1:]
		}
		if s, ok := switchOf(words); ok {
			sw = &s
			// `exec gosu app "$0" "$@"` runs the script again as the
			// user; the exec that follows is the one that hands over.
			if exec && (len(s.rest) == 0 || s.rest[0] != "$0") {
				final = s.rest
			}
			continue
		}
		if exec {
			final = words
			continue
		}
		if !scriptBuiltins[c[0]] && !strings.ContainsAny(c[0], "$`") {
			prep = append(prep, call)
		}
	}
	return prep, final, sw
}

// isAllArgs reports whether a script word is "$@" (the script's
// arguments, as shellscript.Calls renders it).
func isAllArgs(w string) bool { return w == "$@" || w == "${@}" }

// isExpansion reports whether a script word is computed at run time.
func isExpansion(w string) bool { return strings.ContainsAny(w, "$`*?") }

// execForm writes argv as a Dockerfile exec-form JSON array, spaced as
// Dockerfiles are usually written.
func execForm(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
