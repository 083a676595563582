package shellscript

import (
	"slices"
	"strings"
)

// OptSpec says which options of a command take a value, so operand
// scanning does not mistake `-o Acquire::…` or `--virtual .deps` for a
// package name.
type OptSpec struct {
	Short string   // short option letters that take a value
	Long  []string // long option names (without "--") that take a value
}

// longTakesValue reports whether the long option (without dashes) takes a
// value.
func (o OptSpec) longTakesValue(name string) bool {
	return slices.Contains(o.Long, name)
}

// optionWidth returns how many words the option at args[0] occupies (1 or
// 2), given that args[0] starts with "-".
func (o OptSpec) optionWidth(args []string) int {
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
		if strings.IndexByte(o.Short, a[i]) >= 0 {
			if i == len(a)-1 && len(args) > 1 {
				return 2
			}
			return 1
		}
	}
	return 1
}

// Operands returns the non-option words of args, GNU style: options may
// come after operands, and "--" ends the options.
func (o OptSpec) Operands(args []string) []string {
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

// FirstOperand returns the index of the first non-option word, POSIX style
// (options end at the first operand), or len(args).
func (o OptSpec) FirstOperand(args []string) int {
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

// Options returns the option words of args (values excluded), GNU style.
func (o OptSpec) Options(args []string) []string {
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

// OptionValue returns the value of a long option (--name=value or --name
// value) or a short one (-x value, -xvalue), and whether it was present.
func (o OptSpec) OptionValue(args []string, long string, short byte) (string, bool) {
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
	spec    OptSpec
	envArgs bool // env NAME=value cmd
	skip    int  // Operands before the command (timeout DURATION cmd)
}

// wrappers are the commands Unwrap looks through.
var wrappers = map[string]wrapper{
	"sudo":    {spec: OptSpec{Short: "ugCDhprtUTR", Long: []string{"user", "group", "close-from", "chdir", "host", "prompt", "role", "type", "other-user", "command-timeout", "chroot"}}},
	"doas":    {spec: OptSpec{Short: "uC"}},
	"env":     {spec: OptSpec{Short: "uCS", Long: []string{"unset", "chdir", "split-string"}}, envArgs: true},
	"nice":    {spec: OptSpec{Short: "n", Long: []string{"adjustment"}}},
	"nohup":   {},
	"time":    {spec: OptSpec{Short: "fo", Long: []string{"format", "output"}}},
	"command": {},
	"exec":    {spec: OptSpec{Short: "a"}},
	"timeout": {spec: OptSpec{Short: "sk", Long: []string{"signal", "kill-after"}}, skip: 1},
	"stdbuf":  {spec: OptSpec{Short: "ioe", Long: []string{"input", "output", "error"}}},
	"busybox": {},
	"xargs":   {spec: OptSpec{Short: "aEdILnPs", Long: []string{"arg-file", "delimiter", "max-lines", "max-args", "max-procs", "max-chars", "process-slot-var"}}},
	// Process supervisors and privilege/limit setters that an image's
	// ENTRYPOINT puts in front of its program: they start the program and
	// stay (init reapers) or exec it, so what runs is the command after
	// their options.
	"tini":      {spec: OptSpec{Short: "pe"}},
	"dumb-init": {spec: OptSpec{Short: "r", Long: []string{"rewrite"}}},
	"catatonit": {},
	"chpst":     {spec: OptSpec{Short: "uUe/nlLmdopfc"}},
	"setpriv":   {spec: OptSpec{Long: []string{"reuid", "regid", "groups", "securebits", "pdeathsig", "ambient-caps", "inh-caps", "bounding-set", "selinux-label", "apparmor-profile", "landlock-access", "landlock-rule"}}},
	"ionice":    {spec: OptSpec{Short: "cnpP", Long: []string{"class", "classdata", "pid", "pgid", "uid"}}},
	"taskset":   {skip: 1},
	"chrt":      {skip: 1},
	"prlimit":   {spec: OptSpec{Short: "p", Long: []string{"pid", "output"}}},
}

// peel removes one wrapper from the front of args. ok is false when args
// does not start with a wrapper. `command -v x` looks a command up without
// running it, so it peels to nothing.
func peel(args []string) (name string, rest []string, env []Assign, ok bool) {
	if len(args) == 0 {
		return "", nil, nil, false
	}
	name = CommandName(args[0])
	w, ok := wrappers[name]
	if !ok {
		return name, args, nil, false
	}
	rest = args[1:]
	if name == "command" && len(rest) > 0 && (rest[0] == "-v" || rest[0] == "-V") {
		return name, nil, nil, true
	}
	rest = rest[w.spec.FirstOperand(rest):]
	if w.envArgs {
		for len(rest) > 0 && isAssignment(rest[0]) {
			n, v, _ := strings.Cut(rest[0], "=")
			env = append(env, Assign{Name: n, Value: v})
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

// Unwrap strips command wrappers (sudo, env, nice, timeout, …) and returns
// the command that actually runs, plus assignments made through env.
func Unwrap(args []string) ([]string, []Assign) {
	var env []Assign
	for {
		_, rest, e, ok := peel(args)
		if !ok {
			return args, env
		}
		env = append(env, e...)
		args = rest
	}
}

// WrappedBy reports whether the command is run through the named wrapper
// (`sudo apt-get …`, `env X=1 sudo …`).
func WrappedBy(args []string, wrapperName string) bool {
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

// Chain returns the positions in args of every program the command line
// runs in turn: 0, then the command each wrapper runs after its options
// (`tini -- env X=1 python3 app.py` gives 0, 2, 4). A wrapper left with
// nothing to run ends the chain.
func Chain(args []string) []int {
	var out []int
	off := 0
	for len(args) > 0 {
		out = append(out, off)
		_, rest, _, ok := peel(args)
		if !ok || len(rest) == 0 {
			return out
		}
		off += len(args) - len(rest)
		args = rest
	}
	return out
}
