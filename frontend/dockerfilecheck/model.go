package dockerfilecheck

import (
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// span is an instruction's 1-based, inclusive line range.
type span struct{ start, end int }

// spanOf folds BuildKit source ranges into one line span.
func spanOf(loc []parser.Range) span {
	var s span
	for i, r := range loc {
		if i == 0 || r.Start.Line < s.start {
			s.start = r.Start.Line
		}
		if r.End.Line > s.end {
			s.end = r.End.Line
		}
	}
	if s.end < s.start {
		s.end = s.start
	}
	return s
}

// file is the analysed Dockerfile that every control reads. It is built
// once per Check and never shared, so controls may cache on it freely.
type file struct {
	opt      Options
	lines    []string
	stages   []*stage
	shipped  *stage
	metaArgs []*instr // ARGs before the first FROM; stage is nil
	global   envMap   // built-in platform ARGs and global ARGs, as BuildKit computes them
	lex      *shell.Lex
	secrets  *secrets.Scanner // the one secret detector, shared with image inspection

	keyVarNames map[string]bool // variables that key-handling instructions read (keyVars)
}

// stage is one FROM block.
type stage struct {
	index   int
	name    string // lower-cased by BuildKit; empty when unnamed
	baseRaw string // as written after FROM
	base    string // expanded with the global ARGs
	parent  *stage // set when base names an earlier stage
	from    span
	instrs  []*instr
	env     envMap // scope at the end of the stage, inherited by FROM <this stage>
	shipped bool   // the shipped stage or one of its ancestors
}

// label names the stage for findings: its name, or its index as BuildKit
// numbers unnamed stages.
func (s *stage) label() string {
	if s == nil {
		return ""
	}
	if s.name != "" {
		return s.name
	}
	return fmt.Sprintf("%d", s.index)
}

// instr is one instruction, with its words already expanded. ONBUILD
// triggers appear as their wrapped instruction with onbuild set and the
// ONBUILD line range, right after nothing else: they do not change the
// stage's scope because they run in a downstream build.
type instr struct {
	cmd     instructions.Command
	node    *parser.Node // heredoc bodies and original text
	at      span
	stage   *stage
	onbuild bool

	env      envMap // scope before a RUN, for expanding its script
	posixSh  bool   // the stage's SHELL is a POSIX shell (RUN scripts are parsed as sh)
	script   *shellscript.Script
	scripted bool
}

// builtinArgs are the automatic platform ARGs dockerfile2llb defines
// (dockerfilemodel.PlatformArgs). An offline check builds for the local
// platform unless the build arguments say otherwise.
func builtinArgs(buildArgs map[string]string, target string) envMap {
	p := platforms.DefaultSpec()
	return envMap(dockerfilemodel.PlatformArgs(p, p, target, buildArgs))
}

// Parse parses a Dockerfile for Check, with the Dockerfile's name in its
// errors. Errors keep BuildKit's *parser.LocationError so callers can
// show the snippet.
func Parse(dt []byte, filename string) (*dockerfilemodel.File, error) {
	if filename == "" {
		filename = DefaultFilename
	}
	m, err := dockerfilemodel.Parse(dt)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", filename, err)
	}
	return m, nil
}

// analyse builds the model of the parsed Dockerfile m.
func analyse(m *dockerfilemodel.File, opt Options) (*file, error) {
	// Fresh instructions: the model below expands them in place.
	stages, metaCmds, err := m.Instructions()
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", opt.Filename, err)
	}
	nodes := make(map[int]*parser.Node, len(m.AST().Children))
	for _, n := range m.AST().Children {
		nodes[n.StartLine] = n
	}

	target := opt.Target
	if target == "" {
		target = stages[len(stages)-1].Name
	}
	sc, err := secrets.Default()
	if err != nil {
		return nil, fmt.Errorf("loading the secret detectors: %w", err)
	}
	f := &file{
		opt:     opt,
		lines:   splitLines(m.Data()),
		global:  builtinArgs(opt.BuildArgs, target),
		lex:     shell.NewLex(m.EscapeToken()),
		secrets: sc,
	}
	f.buildMetaArgs(metaCmds, nodes)
	for i := range stages {
		f.addStage(stages, i, nodes)
	}
	if err := f.markShipped(stages); err != nil {
		return nil, err
	}
	return f, nil
}

// splitLines keeps raw lines for inline suppression comments.
func splitLines(dt []byte) []string {
	s := strings.TrimPrefix(string(dt), "\ufeff")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// buildMetaArgs mirrors dockerfile2llb.buildMetaArgs: a build argument
// overrides a global ARG's default, and defaults may use earlier ARGs.
func (f *file) buildMetaArgs(cmds []instructions.ArgCommand, nodes map[int]*parser.Node) {
	for i := range cmds {
		c := &cmds[i]
		for j, kv := range c.Args {
			if v, ok := f.opt.BuildArgs[kv.Key]; ok {
				c.Args[j].Value = &v
			} else if kv.Value != nil {
				res, err := f.lex.ProcessWordWithMatches(*kv.Value, f.global)
				if err == nil {
					c.Args[j].Value = &res.Result
				}
			}
			if c.Args[j].Value != nil {
				f.global[kv.Key] = *c.Args[j].Value
			}
		}
		at := spanOf(c.Location())
		f.metaArgs = append(f.metaArgs, &instr{cmd: c, node: nodes[at.start], at: at})
	}
}

// expander is the SingleWordExpander dockerfile2llb's dispatch uses. An
// expansion error leaves the word as written: BuildKit reports that error
// itself, and the check should still see the instruction.
func (f *file) expander(env envMap) instructions.SingleWordExpander {
	return func(word string) (string, error) {
		w, _, err := f.lex.ProcessWord(word, env)
		if err != nil {
			return word, nil
		}
		return w, nil
	}
}

// addStage expands one stage's instructions in order, tracking the scope.
func (f *file) addStage(stages []instructions.Stage, i int, nodes map[int]*parser.Node) {
	st := &stages[i]
	s := &stage{index: i, name: st.Name, baseRaw: st.BaseName, base: st.BaseName, from: spanOf(st.Location)}
	if res, err := f.lex.ProcessWordWithMatches(st.BaseName, f.global); err == nil {
		s.base = res.Result
	}
	env := envMap{}
	// FROM names the last earlier stage of that name, as in BuildKit.
	if j := dockerfilemodel.StageIndex(stages, s.base, i); j >= 0 && s.base != "" {
		s.parent = f.stages[j]
		env = s.parent.env.clone()
	}
	posix := true
	if s.parent != nil {
		posix = s.parent.lastShellPOSIX()
	}
	for _, c := range st.Commands {
		at := spanOf(c.Location())
		in := &instr{cmd: c, node: nodes[at.start], at: at, stage: s, posixSh: posix}
		switch c := c.(type) {
		case *instructions.ArgCommand:
			f.expandArg(c, env)
		case *instructions.EnvCommand:
			_ = c.Expand(f.expander(env))
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.ShellCommand:
			posix = len(c.Shell) > 0 && isPOSIXShell(c.Shell[0])
		case *instructions.RunCommand:
			in.env = env.clone()
		case *instructions.OnbuildCommand:
			s.instrs = append(s.instrs, in)
			if t := f.onbuildTrigger(c, at, s, env, posix); t != nil {
				s.instrs = append(s.instrs, t)
			}
			continue
		default:
			f.expandCommand(c, env)
		}
		s.instrs = append(s.instrs, in)
	}
	s.env = env
	f.stages = append(f.stages, s)
}

// lastShellPOSIX reports whether the stage ends with a POSIX shell, for
// stages built FROM it.
func (s *stage) lastShellPOSIX() bool {
	for i := len(s.instrs) - 1; i >= 0; i-- {
		if c, ok := s.instrs[i].cmd.(*instructions.ShellCommand); ok && !s.instrs[i].onbuild {
			return len(c.Shell) > 0 && isPOSIXShell(c.Shell[0])
		}
	}
	if s.parent != nil {
		return s.parent.lastShellPOSIX()
	}
	return true
}

// expandArg resolves a stage ARG the way dispatchArg does: a build argument
// wins, then the default (expanded in the current scope), then a global ARG
// of the same name.
func (f *file) expandArg(c *instructions.ArgCommand, env envMap) {
	for j, kv := range c.Args {
		switch v, ok := f.opt.BuildArgs[kv.Key]; {
		case ok:
			c.Args[j].Value = &v
		case kv.Value != nil:
			w, _ := f.expander(env)(*kv.Value)
			c.Args[j].Value = &w
		default:
			if g, ok := f.global[kv.Key]; ok {
				c.Args[j].Value = &g
			}
		}
		if c.Args[j].Value != nil {
			env[kv.Key] = *c.Args[j].Value
		}
	}
}

// expandCommand expands the words of instructions BuildKit expands.
func (f *file) expandCommand(c instructions.Command, env envMap) {
	switch c := c.(type) {
	case *instructions.ExposeCommand:
		var ports []string
		for _, p := range c.Ports {
			ps, err := f.lex.ProcessWords(p, env)
			if err != nil {
				ps = []string{p}
			}
			ports = append(ports, ps...)
		}
		c.Ports = ports
	case instructions.SupportsSingleWordExpansion:
		_ = c.Expand(f.expander(env))
	}
}

// onbuildTrigger parses an ONBUILD's wrapped instruction the way
// dockerfile2llb's initOnBuildTriggers does, expanded in the current scope
// and located at the ONBUILD line. A trigger that does not parse is left to
// the downstream build that runs it: it is not an error of this build.
func (f *file) onbuildTrigger(c *instructions.OnbuildCommand, at span, s *stage, env envMap, posix bool) *instr {
	res, err := parser.Parse(strings.NewReader(c.Expression))
	if err != nil || len(res.AST.Children) != 1 {
		return nil
	}
	node := res.AST.Children[0]
	cmd, err := parseCommand(node)
	if err != nil {
		return nil
	}
	in := &instr{cmd: cmd, node: node, at: at, stage: s, onbuild: true, posixSh: posix}
	switch cmd := cmd.(type) {
	case *instructions.ArgCommand:
		f.expandArg(cmd, env.clone())
	case *instructions.EnvCommand:
		_ = cmd.Expand(f.expander(env))
	case *instructions.RunCommand:
		in.env = env.clone()
	default:
		f.expandCommand(cmd, env)
	}
	return in
}

// markShipped finds the shipped stage as dockerfile2llb resolves it (the
// target, the last stage of that name; else the last stage) and marks it
// and the stages it is built FROM.
func (f *file) markShipped(stages []instructions.Stage) error {
	idx := dockerfilemodel.TargetIndex(stages, f.opt.Target)
	if idx < 0 {
		return fmt.Errorf("target stage %q could not be found in %s", f.opt.Target, f.opt.Filename)
	}
	f.shipped = f.stages[idx]
	for s := f.shipped; s != nil; s = s.parent {
		s.shipped = true
	}
	return nil
}

// shippedChain lists the shipped stage's ancestry, root first, so the last
// USER, CMD or ENTRYPOINT found walking it forward is the effective one.
func (f *file) shippedChain() []*stage {
	var chain []*stage
	for s := f.shipped; s != nil; s = s.parent {
		chain = append([]*stage{s}, chain...)
	}
	return chain
}

// each calls fn for every instruction of every stage (ONBUILD triggers
// included), in file order, then for the global ARGs.
func (f *file) each(fn func(*instr)) {
	for _, in := range f.metaArgs {
		fn(in)
	}
	for _, s := range f.stages {
		for _, in := range s.instrs {
			fn(in)
		}
	}
}

// isPOSIXShell reports whether a SHELL executable runs sh-compatible code.
func isPOSIXShell(exe string) bool {
	switch shellscript.CommandName(exe) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox":
		return true
	}
	return false
}

// parseCommand is instructions.ParseCommand with a non-nil linter:
// ParseCommand passes a nil one, which panics on a node preceded by a
// `# check=` comment.
func parseCommand(node *parser.Node) (instructions.Command, error) {
	v, err := instructions.ParseInstructionWithLinter(node, &linter.Linter{})
	if err != nil {
		return nil, err
	}
	c, ok := v.(instructions.Command)
	if !ok {
		return nil, fmt.Errorf("%s is not a command", node.Value)
	}
	return c, nil
}
