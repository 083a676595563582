package frontend

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/buildkit/frontend/dockerui"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/llb/harden"
)

// shippedStage is what hardening needs to know about the stage a build
// exports, read from the Dockerfile with BuildKit's parser.
type shippedStage struct {
	// baseName is the stage's FROM value, ARGs expanded.
	baseName string
	// baseStage is the earlier stage the shipped one is built on, if any.
	baseStage string
	// lines locate USER, ENTRYPOINT, CMD, HEALTHCHECK and FROM, following
	// the chain of stages the shipped one inherits them from.
	lines harden.Lines
}

// findShippedStage reads the shipped stage (target, else the last) of dt.
func findShippedStage(dt []byte, target string, buildArgs map[string]string, platform ocispecs.Platform, buildPlatform ocispecs.Platform) (shippedStage, error) {
	df, err := parseDockerfile(dt, buildArgs, platform, buildPlatform)
	if err != nil {
		return shippedStage{}, err
	}
	idx, err := df.targetIndex(target)
	if err != nil {
		return shippedStage{}, err
	}
	var out shippedStage
	for i, first := idx, true; i >= 0; first = false {
		s := df.stages[i]
		base, err := df.expand(s.BaseName)
		if err != nil {
			return shippedStage{}, fmt.Errorf("expanding FROM %s: %w", s.BaseName, err)
		}
		if first {
			out.baseName = base
			out.lines.From = s.Location
		}
		fillLines(&out.lines, s)
		next := df.stageIndex(base, i)
		if first && next >= 0 {
			out.baseStage = df.stages[next].Name
		}
		i = next
	}
	return out, nil
}

// parsedDockerfile is a Dockerfile read with BuildKit's parser and
// instructions, with the ARG expansion its FROM lines see.
type parsedDockerfile struct {
	stages []instructions.Stage
	// expand expands a word with the global ARGs (build args given, else
	// their defaults) and the automatic platform ARGs.
	expand func(string) (string, error)
}

// parseDockerfile parses dt for the given build args and platforms.
func parseDockerfile(dt []byte, buildArgs map[string]string, platform ocispecs.Platform, buildPlatform ocispecs.Platform) (parsedDockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		return parsedDockerfile{}, err
	}
	// A nil linter panics on `# check=` comments; an empty one reports
	// nothing (dockerfile2llb reports its own lint).
	stages, metaArgs, err := instructions.Parse(res.AST, &linter.Linter{})
	if err != nil {
		return parsedDockerfile{}, err
	}
	if len(stages) == 0 {
		return parsedDockerfile{}, fmt.Errorf("the Dockerfile has no stage")
	}
	lex := shell.NewLex(res.EscapeToken)
	env := platformArgs(platform, buildPlatform)
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			v, ok := buildArgs[kv.Key]
			if !ok && kv.Value != nil {
				r, err := lex.ProcessWordWithMatches(*kv.Value, shell.EnvsFromSlice(envSlice(env)))
				if err != nil {
					return parsedDockerfile{}, fmt.Errorf("expanding ARG %s: %w", kv.Key, err)
				}
				v = r.Result
			}
			env[kv.Key] = v
		}
	}
	expand := func(s string) (string, error) {
		r, err := lex.ProcessWordWithMatches(s, shell.EnvsFromSlice(envSlice(env)))
		return r.Result, err
	}
	return parsedDockerfile{stages: stages, expand: expand}, nil
}

// targetIndex is the index of the target stage, the last one when target
// is empty.
func (d parsedDockerfile) targetIndex(target string) (int, error) {
	if target == "" {
		return len(d.stages) - 1, nil
	}
	idx := -1
	for i, s := range d.stages {
		if strings.EqualFold(s.Name, target) {
			idx = i
		}
	}
	if idx < 0 {
		return 0, fmt.Errorf("target stage %q not found", target)
	}
	return idx, nil
}

// stageIndex is the index of the last stage before `before` named name,
// or -1 when name is no earlier stage (FROM refers to stages by name).
func (d parsedDockerfile) stageIndex(name string, before int) int {
	for i := before - 1; i >= 0; i-- {
		if strings.EqualFold(d.stages[i].Name, name) {
			return i
		}
	}
	return -1
}

// fillLines records the last USER, ENTRYPOINT, CMD and HEALTHCHECK of s
// that a later stage has not set already.
func fillLines(l *harden.Lines, s instructions.Stage) {
	var user, ep, cmd, hc []parser.Range
	for _, c := range s.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.Location()
		case *instructions.EntrypointCommand:
			ep = c.Location()
		case *instructions.CmdCommand:
			cmd = c.Location()
		case *instructions.HealthCheckCommand:
			hc = c.Location()
		}
	}
	if l.User == nil {
		l.User = user
	}
	if l.Entrypoint == nil {
		l.Entrypoint = ep
	}
	if l.Cmd == nil {
		l.Cmd = cmd
	}
	if l.Healthcheck == nil {
		l.Healthcheck = hc
	}
}

// platformArgs are the automatic platform ARGs a FROM line may use.
func platformArgs(target, build ocispecs.Platform) map[string]string {
	return map[string]string{
		"TARGETPLATFORM": platforms.Format(target),
		"TARGETOS":       target.OS,
		"TARGETARCH":     target.Architecture,
		"TARGETVARIANT":  target.Variant,
		"BUILDPLATFORM":  platforms.Format(build),
		"BUILDOS":        build.OS,
		"BUILDARCH":      build.Architecture,
		"BUILDVARIANT":   build.Variant,
	}
}

func envSlice(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// baseState returns the filesystem the shipped stage is built on: an
// earlier stage (converted by dockerfile2llb with it as the target), a
// named context, an image, or nil for scratch.
func baseState(ctx context.Context, bc *dockerui.Client, dt []byte, opt dockerfile2llb.ConvertOpt, st shippedStage, platform ocispecs.Platform) (*llb.State, error) {
	switch {
	case st.baseStage != "":
		opt.Target = st.baseStage
		opt.Warn = nil
		res, err := dockerfile2llb.Dockerfile2LLB(ctx, dt, opt)
		if err != nil {
			return nil, fmt.Errorf("converting base stage %s: %w", st.baseStage, err)
		}
		return &res.State, nil
	case strings.EqualFold(st.baseName, "scratch"):
		return nil, nil
	}
	nc, err := bc.NamedContext(st.baseName, dockerui.ContextOpt{Platform: &platform})
	if err != nil {
		return nil, fmt.Errorf("named context %s: %w", st.baseName, err)
	}
	if nc != nil {
		s, _, err := nc.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading named context %s: %w", st.baseName, err)
		}
		return s, nil
	}
	img := llb.Image(st.baseName, llb.Platform(platform), llb.WithCustomName("[hardenkit] base "+st.baseName))
	return &img, nil
}

// resolveEpoch decides the build's SOURCE_DATE_EPOCH: the build arg, else
// the commit time of a git context (or an HTTP context's time), else the
// policy's default. It returns ok=false when dockerfile2llb must resolve a
// symbolic build arg value itself ("context", a named context).
func resolveEpoch(ctx context.Context, bc *dockerui.Client, buildArgs map[string]string, policyDefault int64) (time.Time, bool, error) {
	if v, ok := buildArgs[options.KeySourceDateEpoch]; ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false, nil
		}
		return time.Unix(n, 0).UTC(), true, nil
	}
	t, err := bc.ResolveMainContextSourceDateEpoch(ctx)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("resolving the build context's commit time for SOURCE_DATE_EPOCH: %w", err)
	}
	if t != nil {
		return t.UTC(), true, nil
	}
	return time.Unix(policyDefault, 0).UTC(), true, nil
}
