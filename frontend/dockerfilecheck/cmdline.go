package dockerfilecheck

import (
	"slices"
	"strings"
)

// optSpec says which options of a command take a value, so operand
// scanning does not mistake `-o Acquire::…` or `--virtual .deps` for a
// package name.
type optSpec struct {
	short string   // short option letters that take a value
	long  []string // long option names (without "--") that take a value
}

// longTakesValue reports whether the long option (without dashes) takes a
// value.
func (o optSpec) longTakesValue(name string) bool {
	return slices.Contains(o.long, name)
}

// optionWidth returns how many words the option at args[0] occupies (1 or
// 2), given that args[0] starts with "-".
func (o optSpec) optionWidth(args []string) int {
	a := args[0]
	if strings.HasPrefix(a, "--") {
		name, _, hasValue := strings.Cut(a[2:], "=")
		if !hasValue && o.longTakesValue(name) && len(args) > 1 {
			return 2
		}
		return 1
	}
	// Short group: the first value-taking letter takes the rest of the
	// word, or the next word when it is last.
	for i := 1; i < len(a); i++ {
		if strings.IndexByte(o.short, a[i]) >= 0 {
			if i == len(a)-1 && len(args) > 1 {
				return 2
			}
			return 1
		}
	}
	return 1
}

// operands returns the non-option words of args, GNU style: options may
// come after operands, and "--" ends the options.
func (o optSpec) operands(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i+1:]...)
		case len(a) > 1 && strings.HasPrefix(a, "-"):
			i += o.optionWidth(args[i:]) - 1
		default:
			out = append(out, a)
		}
	}
	return out
}

// firstOperand returns the index of the first non-option word, POSIX style
// (options end at the first operand), or len(args).
func (o optSpec) firstOperand(args []string) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return i + 1
		case len(a) > 1 && strings.HasPrefix(a, "-"):
			i += o.optionWidth(args[i:]) - 1
		default:
			return i
		}
	}
	return len(args)
}

// options returns the option words of args (values excluded), GNU style.
func (o optSpec) options(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return out
		case len(a) > 1 && strings.HasPrefix(a, "-"):
			out = append(out, a)
			i += o.optionWidth(args[i:]) - 1
		}
	}
	return out
}

// optionValue returns the value of a long option (--name=value or --name
// value) or a short one (-x value, -xvalue), and whether it was present.
func (o optSpec) optionValue(args []string, long string, short byte) (string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if long != "" && strings.HasPrefix(a, "--"+long) {
			rest := a[len(long)+2:]
			if strings.HasPrefix(rest, "=") {
				return rest[1:], true
			}
			if rest == "" && i+1 < len(args) {
				return args[i+1], true
			}
		}
		if short != 0 && len(a) >= 2 && a[0] == '-' && a[1] == short {
			if len(a) > 2 {
				return a[2:], true
			}
			if i+1 < len(args) {
				return args[i+1], true
			}
		}
		if len(a) > 1 && strings.HasPrefix(a, "-") {
			i += o.optionWidth(args[i:]) - 1
		}
	}
	return "", false
}

// wrapper describes a command that runs another command: its options and
// whether its leading NAME=value words are environment assignments.
type wrapper struct {
	spec    optSpec
	envArgs bool // env NAME=value cmd
	skip    int  // operands before the command (timeout DURATION cmd)
}

// wrappers are the commands unwrap looks through.
var wrappers = map[string]wrapper{
	"sudo":    {spec: optSpec{short: "ugCDhprtUTR", long: []string{"user", "group", "close-from", "chdir", "host", "prompt", "role", "type", "other-user", "command-timeout", "chroot"}}},
	"doas":    {spec: optSpec{short: "uC"}},
	"env":     {spec: optSpec{short: "uCS", long: []string{"unset", "chdir", "split-string"}}, envArgs: true},
	"nice":    {spec: optSpec{short: "n", long: []string{"adjustment"}}},
	"nohup":   {},
	"time":    {spec: optSpec{short: "fo", long: []string{"format", "output"}}},
	"command": {},
	"exec":    {spec: optSpec{short: "a"}},
	"timeout": {spec: optSpec{short: "sk", long: []string{"signal", "kill-after"}}, skip: 1},
	"stdbuf":  {spec: optSpec{short: "ioe", long: []string{"input", "output", "error"}}},
	"busybox": {},
	"xargs":   {spec: optSpec{short: "aEdILnPs", long: []string{"arg-file", "delimiter", "max-lines", "max-args", "max-procs", "max-chars", "process-slot-var"}}},
}

// peel removes one wrapper from the front of args. ok is false when args
// does not start with a wrapper. `command -v x` looks a command up without
// running it, so it peels to nothing.
func peel(args []string) (name string, rest []string, env []assign, ok bool) {
	if len(args) == 0 {
		return "", nil, nil, false
	}
	name = baseName(args[0])
	w, ok := wrappers[name]
	if !ok {
		return name, args, nil, false
	}
	rest = args[1:]
	if name == "command" && len(rest) > 0 && (rest[0] == "-v" || rest[0] == "-V") {
		return name, nil, nil, true
	}
	rest = rest[w.spec.firstOperand(rest):]
	if w.envArgs {
		for len(rest) > 0 && isAssignment(rest[0]) {
			n, v, _ := strings.Cut(rest[0], "=")
			env = append(env, assign{name: n, value: v})
			rest = rest[1:]
		}
	}
	if w.skip > 0 {
		if len(rest) < w.skip {
			return name, nil, env, true
		}
		rest = rest[w.skip:]
	}
	return name, rest, env, true
}

// unwrap strips command wrappers (sudo, env, nice, timeout, …) and returns
// the command that actually runs, plus assignments made through env.
func unwrap(args []string) ([]string, []assign) {
	var env []assign
	for {
		_, rest, e, ok := peel(args)
		if !ok {
			return args, env
		}
		env = append(env, e...)
		args = rest
	}
}

// wrappedBy reports whether the command is run through the named wrapper
// (`sudo apt-get …`, `env X=1 sudo …`).
func wrappedBy(args []string, wrapperName string) bool {
	for {
		name, rest, _, ok := peel(args)
		if !ok {
			return false
		}
		if name == wrapperName {
			return true
		}
		args = rest
	}
}

// isVariable reports whether a word still holds an expansion the check
// cannot resolve ($VAR, $(…)), so it must not be judged as a literal.
func isVariable(w string) bool {
	return strings.Contains(w, "$")
}
