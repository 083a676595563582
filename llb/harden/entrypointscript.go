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
	return msg + ". " + scriptAdvice(string(data), len(cfg.Entrypoint) > 0, argv) +
		sourcedEnvAdvice(ctx, string(data), cfg.Env, final, src)
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
	instr := "CMD"
	if hasEntrypoint {
		instr = "ENTRYPOINT"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s is a shell script, and a hardened image has no shell to run it", instr, argv[0])

	programs, final, sw := scanScript(shellscript.Calls(script))
	args := argv[1:]
	switch {
	case final == nil:
		b.WriteString("; write the program it starts as the " + instr + " in exec form, e.g. " + instr + ` ["/path/to/app", "--flag"]`)
	case len(final) == 1 && isAllArgs(final[0]):
		// exec "$@": the script hands over to its arguments, the CMD.
		if len(args) == 0 {
			b.WriteString(`; it ends in exec "$@" but the image gives it no command: write the program as ENTRYPOINT in exec form`)
			break
		}
		fmt.Fprintf(&b, `; it ends in exec "$@", so it starts the CMD: write ENTRYPOINT %s here and remove the CMD`, execForm(args))
	case !slices.ContainsFunc(final[:len(final)-1], isExpansion) && isAllArgs(final[len(final)-1]):
		// exec app --flag "$@": the fixed words become the ENTRYPOINT,
		// the arguments stay the CMD.
		fmt.Fprintf(&b, `; it ends in exec %s "$@": replace it with ENTRYPOINT %s`, strings.Join(final[:len(final)-1], " "), execForm(final[:len(final)-1]))
		if len(args) > 0 {
			fmt.Fprintf(&b, " and keep CMD %s", execForm(args))
		}
	case !slices.ContainsFunc(final, isExpansion):
		fmt.Fprintf(&b, "; it ends in exec %s: replace it with %s %s", strings.Join(final, " "), instr, execForm(final))
	default:
		b.WriteString("; it ends in an exec whose words are computed at run time: write the program it starts as the " + instr + " in exec form")
	}
	if len(programs) > 0 {
		fmt.Fprintf(&b, ". Before that it runs %s, which the hardened image does not ship either: do that at build time in a RUN step, or in the application", strings.Join(programs, ", "))
	}
	if sw != nil {
		b.WriteString(sw.advice())
	}
	return b.String()
}

// scanScript reads an entrypoint script's commands: the programs it runs
// before handing over (command names only), the words of the exec it
// hands over with (after a user switch), and the user switch, if any.
func scanScript(calls [][]string) (programs, final []string, sw *userSwitch) {
	for _, c := range calls {
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
		if !scriptBuiltins[c[0]] && !strings.ContainsAny(c[0], "$`") && !slices.Contains(programs, c[0]) {
			programs = append(programs, c[0])
		}
	}
	return programs, final, sw
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
