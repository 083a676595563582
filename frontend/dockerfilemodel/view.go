package dockerfilemodel

import (
	"fmt"
	"maps"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Target says which build of the Dockerfile a View describes.
type Target struct {
	// Stage is the --target stage; empty means the last stage.
	Stage string
	// BuildArgs are the build arguments of the build.
	BuildArgs map[string]string
	// Platform is the target platform, BuildPlatform the build's.
	Platform, BuildPlatform ocispecs.Platform
}

// View is the Dockerfile as one platform's build sees it: its stages, the
// global ARGs resolved for that platform and those build arguments, and
// the stage the build exports. A View belongs to one goroutine: reading
// a RUN's mounts expands them in place.
type View struct {
	stages []instructions.Stage
	target int
	lex    *shell.Lex
	env    shell.EnvGetter
	// globals are the global ARGs as env holds them, for stageEnv.
	globals map[string]string
	opt     Target
}

// For returns the view of one platform's build.
func (f *File) For(t Target) (*View, error) {
	stages, metaArgs, err := f.Instructions()
	if err != nil {
		return nil, err
	}
	idx := TargetIndex(stages, t.Stage)
	if idx < 0 {
		return nil, fmt.Errorf("target stage %q not found", t.Stage)
	}
	stageName := t.Stage
	if stageName == "" {
		stageName = stages[len(stages)-1].Name
	}
	lex := shell.NewLex(f.EscapeToken())
	globals, err := globalArgs(lex, PlatformArgs(t.BuildPlatform, t.Platform, stageName, t.BuildArgs), metaArgs, t.BuildArgs)
	if err != nil {
		return nil, err
	}
	return &View{stages: stages, target: idx, lex: lex, env: envOf(globals), globals: globals, opt: t}, nil
}

// globalArgs mirrors dockerfile2llb's buildMetaArgs: a build argument
// overrides a global ARG's default, a default may use the ARGs before it,
// and an ARG with neither is not set.
func globalArgs(lex *shell.Lex, env map[string]string, metaArgs []instructions.ArgCommand, buildArgs map[string]string) (map[string]string, error) {
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			v, ok := buildArgs[kv.Key]
			if !ok {
				if kv.Value == nil {
					continue
				}
				r, err := lex.ProcessWordWithMatches(*kv.Value, envOf(env))
				if err != nil {
					return nil, parser.WithLocation(fmt.Errorf("expanding ARG %s: %w", kv.Key, err), a.Location())
				}
				v = r.Result
			}
			env[kv.Key] = v
		}
	}
	return env, nil
}

func envOf(m map[string]string) shell.EnvGetter {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return shell.EnvsFromSlice(out)
}

// Stages are the view's stages; callers must not modify them.
func (v *View) Stages() []instructions.Stage { return v.stages }

// TargetIndex is the index of the exported stage.
func (v *View) TargetIndex() int { return v.target }

// Platform is the view's target platform.
func (v *View) Platform() ocispecs.Platform { return v.opt.Platform }

// Expand expands a word with the global ARGs, as a FROM line sees them.
func (v *View) Expand(s string) (string, error) {
	r, err := v.lex.ProcessWordWithMatches(s, v.env)
	return r.Result, err
}

// base is the expanded FROM value of stage i.
func (v *View) base(i int) (string, error) {
	s := v.stages[i]
	b, err := v.Expand(s.BaseName)
	if err != nil {
		return "", fmt.Errorf("expanding FROM %s: %w", s.BaseName, err)
	}
	return b, nil
}

// stageEnv is what a stage's instructions expand with, as dockerfile2llb
// builds it: the global ARGs, then the stage's own ARG and ENV lines in
// order, a build argument overriding an ARG's default. A mount option like
// uid=${UID} after `ARG UID=1000` needs the stage's ARG.
type stageEnv map[string]string

// newStageEnv is the environment at the start of a stage.
func (v *View) newStageEnv() stageEnv { return maps.Clone(v.globals) }

// apply adds what cmd declares (an ARG or ENV line) to e. A value that
// does not expand leaves the variable as it was: dockerfile2llb reports it.
func (v *View) apply(e stageEnv, cmd instructions.Command) {
	set := func(key, word string) {
		if r, err := v.lex.ProcessWordWithMatches(word, envOf(e)); err == nil {
			e[key] = r.Result
		}
	}
	switch c := cmd.(type) {
	case *instructions.ArgCommand:
		for _, kv := range c.Args {
			if val, ok := v.opt.BuildArgs[kv.Key]; ok {
				e[kv.Key] = val
			} else if kv.Value != nil {
				set(kv.Key, *kv.Value)
			}
		}
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			set(kv.Key, kv.Value)
		}
	}
}

// runMounts returns the --mount flags of a RUN expanded with e, as
// BuildKit reads them: unexpanded, a mount records only its from=.
func (v *View) runMounts(e stageEnv, c *instructions.RunCommand) ([]*instructions.Mount, error) {
	expand := func(word string) (string, error) {
		r, err := v.lex.ProcessWordWithMatches(word, envOf(e))
		return r.Result, err
	}
	if err := c.Expand(expand); err != nil {
		return nil, fmt.Errorf("expanding the mounts of RUN at line %d: %w", firstLine(c.Location()), err)
	}
	return instructions.GetMounts(c), nil
}

// Reachable returns the stages a build of the target runs: the target,
// the stages it is built FROM, and those COPY --from and RUN
// --mount=from= use, transitively.
func (v *View) Reachable() (map[int]bool, error) {
	reached := map[int]bool{}
	for queue := []int{v.target}; len(queue) > 0; {
		i := queue[0]
		queue = queue[1:]
		if reached[i] {
			continue
		}
		reached[i] = true
		froms, err := v.stageDeps(i)
		if err != nil {
			return nil, err
		}
		for _, f := range froms {
			if j := stageRef(v.stages, f, i); j >= 0 {
				queue = append(queue, j)
			}
		}
	}
	return reached, nil
}

// stageDeps are the names stage i may build on, expanded: its FROM, its
// COPY --from values and its RUN --mount=from values. A value that does
// not expand is left out: dockerfile2llb reports it.
func (v *View) stageDeps(i int) ([]string, error) {
	var froms []string
	if b, err := v.Expand(v.stages[i].BaseName); err == nil {
		froms = append(froms, b)
	}
	env := v.newStageEnv()
	for _, cmd := range v.stages[i].Commands {
		v.apply(env, cmd)
		switch c := cmd.(type) {
		case *instructions.CopyCommand:
			if c.From == "" {
				continue
			}
			if f, err := v.Expand(c.From); err == nil {
				froms = append(froms, f)
			}
		case *instructions.RunCommand:
			ms, err := v.runMounts(env, c)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				if m.From != "" {
					froms = append(froms, m.From)
				}
			}
		}
	}
	return froms, nil
}

// chain is the exported stage and the stages it is built FROM, oldest
// first.
func (v *View) chain() ([]int, error) {
	var chain []int
	for i := v.target; i >= 0; {
		chain = append([]int{i}, chain...)
		b, err := v.base(i)
		if err != nil {
			return nil, err
		}
		i = StageIndex(v.stages, b, i)
	}
	return chain, nil
}

// firstLine is the first line of an instruction's location.
func firstLine(rs []parser.Range) int {
	if len(rs) == 0 {
		return 0
	}
	return rs[0].Start.Line
}
