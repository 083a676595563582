package dockerfilemodel

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ContextCopy is a COPY or ADD, or a RUN with a bind mount, in a stage
// the build runs, that brings files in from the main build context. A
// secret in such a file lands in that stage's layer and in the build
// cache even when the final image does not ship it; a RUN can write it
// anywhere, encoded (HK3054 is reported at its line).
type ContextCopy struct {
	// Stage is the stage's name, or its index when it has none.
	Stage string
	// Instruction is "COPY", "ADD" or "RUN".
	Instruction string
	// Sources are the source paths, ARGs expanded, relative to the
	// context root and cleaned; "." is the whole context.
	Sources []string
	// Ranges locate the instruction.
	Ranges []parser.Range
}

// Line is the 1-based line of the instruction.
func (c ContextCopy) Line() int {
	return firstLine(c.Ranges)
}

// Brings reports whether the instruction copies the context file rel.
func (c ContextCopy) Brings(rel string) bool {
	for _, s := range c.Sources {
		if s == "." || rel == s || strings.HasPrefix(rel, s+"/") {
			return true
		}
		if !strings.ContainsAny(s, "*?[") {
			continue
		}
		// A pattern matches a file, or a directory whose contents are copied.
		for p := rel; p != "." && p != "/"; p = path.Dir(p) {
			if ok, _ := path.Match(s, p); ok {
				return true
			}
		}
	}
	return false
}

// ContextCopies returns the COPY and ADD instructions, and the RUN
// instructions with bind mounts, that read the main build context in the
// stages the target depends on (Reachable), in Dockerfile order.
func (v *View) ContextCopies() ([]ContextCopy, error) {
	reached, err := v.Reachable()
	if err != nil {
		return nil, err
	}
	var out []ContextCopy
	for i, s := range v.stages {
		if !reached[i] {
			continue
		}
		env := v.newStageEnv()
		for _, cmd := range s.Commands {
			v.apply(env, cmd)
			cc, err := v.contextCopy(env, cmd, Label(s, i))
			if err != nil {
				return nil, err
			}
			if len(cc.Sources) > 0 {
				out = append(out, cc)
			}
		}
	}
	return out, nil
}

// contextCopy is cmd's copy from the main context; it has no sources when
// cmd reads none.
func (v *View) contextCopy(env stageEnv, cmd instructions.Command, stage string) (ContextCopy, error) {
	var srcs []string
	var instr string
	switch c := cmd.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			return ContextCopy{}, nil
		}
		instr, srcs = "COPY", c.SourcePaths
	case *instructions.AddCommand:
		instr = "ADD"
		for _, p := range c.SourcePaths {
			if !isRemoteSource(p) {
				srcs = append(srcs, p)
			}
		}
	case *instructions.RunCommand:
		// A bind mount without from= is the main context: the whole of
		// it, or its source path.
		instr = "RUN"
		ms, err := v.runMounts(env, c)
		if err != nil {
			return ContextCopy{}, err
		}
		for _, m := range ms {
			if m.Type == instructions.MountTypeBind && m.From == "" {
				srcs = append(srcs, cmp.Or(m.Source, "."))
			}
		}
	default:
		return ContextCopy{}, nil
	}
	cc := ContextCopy{Stage: stage, Instruction: instr, Ranges: cmd.Location()}
	for _, p := range srcs {
		exp, err := v.Expand(p)
		if err != nil {
			return ContextCopy{}, fmt.Errorf("expanding %s source %s: %w", instr, p, err)
		}
		cc.Sources = append(cc.Sources, cleanContextPath(exp))
	}
	return cc, nil
}

// IncludePatterns are the context paths the copies read, for the
// local source's include patterns; nil when one of them reads it all.
func IncludePatterns(copies []ContextCopy) []string {
	var out []string
	for _, c := range copies {
		for _, s := range c.Sources {
			if s == "." {
				return nil
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// cleanContextPath makes a COPY source relative to the context root, as
// BuildKit resolves it: "/x", "./x" and "x" are the same file.
func cleanContextPath(p string) string {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return "."
	}
	return c
}

// isRemoteSource reports whether an ADD source is a URL or a git
// repository rather than a context path.
func isRemoteSource(p string) bool {
	return strings.Contains(p, "://") || strings.HasPrefix(p, "git@")
}
