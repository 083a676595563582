package frontend

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// contextCopy is a COPY or ADD, or a RUN with a bind mount, in a stage
// the build runs, that brings files in from the main build context. A
// secret in such a file lands in that stage's layer and in the build
// cache even when the final image does not ship it; a RUN can write it
// anywhere, encoded (HK3054 is reported at its line).
type contextCopy struct {
	// stage is the stage's name, or its index when it has none.
	stage string
	// instruction is "COPY", "ADD" or "RUN".
	instruction string
	// sources are the source paths, ARGs expanded, relative to the
	// context root and cleaned; "." is the whole context.
	sources []string
	ranges  []parser.Range
}

// line is the 1-based line of the instruction.
func (c contextCopy) line() int {
	if len(c.ranges) == 0 {
		return 0
	}
	return c.ranges[0].Start.Line
}

// brings reports whether the instruction copies the context file rel.
func (c contextCopy) brings(rel string) bool {
	for _, s := range c.sources {
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

// contextCopies returns the COPY and ADD instructions, and the RUN
// instructions with bind mounts, that read the main build context in the
// stages the target depends on (through FROM, COPY --from and RUN
// --mount=from=), in Dockerfile order.
func contextCopies(dt []byte, target string, buildArgs map[string]string, platform, buildPlatform ocispecs.Platform) ([]contextCopy, error) {
	df, err := parseDockerfile(dt, buildArgs, platform, buildPlatform)
	if err != nil {
		return nil, err
	}
	idx, err := df.targetIndex(target)
	if err != nil {
		return nil, err
	}
	reached := map[int]bool{}
	for queue := []int{idx}; len(queue) > 0; {
		i := queue[0]
		queue = queue[1:]
		if reached[i] {
			continue
		}
		reached[i] = true
		s := df.stages[i]
		if base, err := df.expand(s.BaseName); err == nil {
			if j := df.stageIndex(base, i); j >= 0 {
				queue = append(queue, j)
			}
		}
		for _, cmd := range s.Commands {
			var froms []string
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				froms = append(froms, c.From)
			case *instructions.RunCommand:
				// RUN --mount=from=<stage> depends on that stage too.
				ms, err := runMounts(df, c)
				if err != nil {
					return nil, err
				}
				for _, m := range ms {
					froms = append(froms, m.From)
				}
			}
			for _, f := range froms {
				if f == "" {
					continue
				}
				from, err := df.expand(f)
				if err != nil {
					continue
				}
				if j := df.stageIndex(from, i); j >= 0 {
					queue = append(queue, j)
				} else if n, err := strconv.Atoi(from); err == nil && n >= 0 && n < i {
					queue = append(queue, n)
				}
			}
		}
	}

	var out []contextCopy
	for i, s := range df.stages {
		if !reached[i] {
			continue
		}
		name := s.Name
		if name == "" {
			name = strconv.Itoa(i)
		}
		for _, cmd := range s.Commands {
			var srcs []string
			var instr string
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					continue
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
				// A bind mount without from= is the main context: the
				// whole of it, or its source path.
				instr = "RUN"
				ms, err := runMounts(df, c)
				if err != nil {
					return nil, err
				}
				for _, m := range ms {
					if m.Type == instructions.MountTypeBind && m.From == "" {
						srcs = append(srcs, cmp.Or(m.Source, "."))
					}
				}
			default:
				continue
			}
			cc := contextCopy{stage: name, instruction: instr, ranges: cmd.Location()}
			for _, p := range srcs {
				exp, err := df.expand(p)
				if err != nil {
					return nil, fmt.Errorf("expanding %s source %s: %w", instr, p, err)
				}
				cc.sources = append(cc.sources, cleanContextPath(exp))
			}
			if len(cc.sources) > 0 {
				out = append(out, cc)
			}
		}
	}
	return out, nil
}

// runMounts returns the --mount flags of a RUN with the global ARGs
// expanded, as BuildKit reads them: unexpanded, a mount records only its
// from=.
func runMounts(df parsedDockerfile, c *instructions.RunCommand) ([]*instructions.Mount, error) {
	if err := c.Expand(df.expand); err != nil {
		return nil, fmt.Errorf("expanding the mounts of RUN at line %d: %w", firstLine(c.Location()), err)
	}
	return instructions.GetMounts(c), nil
}

// firstLine is the first line of an instruction's location.
func firstLine(rs []parser.Range) int {
	if len(rs) == 0 {
		return 0
	}
	return rs[0].Start.Line
}

// contextIncludePatterns are the context paths the copies read, for the
// local source's include patterns; nil when one of them reads it all.
func contextIncludePatterns(copies []contextCopy) []string {
	var out []string
	for _, c := range copies {
		for _, s := range c.sources {
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
