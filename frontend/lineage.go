package frontend

// The other sources of a build, for lineage (pkg/keep/lineage.go): every
// stage the shipped one is not built on that the build runs (COPY --from,
// RUN --mount=from, transitively) and every image or named context a COPY
// --from names. Hardening fingerprints their tools, so that a tool copied
// from any of them is known in the final image under any name. A source is
// converted exactly as the build converts it, so its steps are the build's
// own, solved once and shared through the cache.

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// lineageSource is a source named as a stage or as an image or context.
type lineageSource struct {
	stage string // a stage name, or "" for an image or named context
	image string
}

// lineageSources returns the build's other sources (see above), in a
// stable order. Unnamed stages are left out: dockerfile2llb converts only
// named targets.
func (p *platformBuild) lineageSources(cv converted) ([]lineageSource, error) {
	view, err := p.df.model.For(dockerfilemodel.Target{Stage: cv.opt.Target, BuildArgs: cv.opt.BuildArgs, Platform: p.platform, BuildPlatform: p.bc.BuildPlatforms[0]})
	if err != nil {
		return nil, fmt.Errorf("reading the build's stages: %w", err)
	}
	stages := view.Stages()
	reached, err := view.Reachable()
	if err != nil {
		return nil, fmt.Errorf("reading the build's stages: %w", err)
	}
	// The shipped stage and the stages it is built on are the final
	// filesystem itself.
	chain := map[int]bool{}
	for i := view.TargetIndex(); i >= 0; {
		chain[i] = true
		b, err := view.Expand(stages[i].BaseName)
		if err != nil {
			break
		}
		i = dockerfilemodel.StageIndex(stages, b, i)
	}
	seen := map[lineageSource]bool{}
	var out []lineageSource
	add := func(s lineageSource) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for i := range stages {
		if !reached[i] {
			continue
		}
		if !chain[i] && stages[i].Name != "" {
			add(lineageSource{stage: stages[i].Name})
		}
		for _, img := range copyImages(view, stages, i) {
			add(lineageSource{image: img})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].stage+out[i].image < out[j].stage+out[j].image })
	return out, nil
}

// copyImages are the COPY --from and RUN --mount=from= values of stage i
// that name no stage: an image or a named context. A file copied out of a
// mounted image (`RUN --mount=from=busybox:musl,target=/m cp /m/bin/busybox
// /app/helper`) is as much that image's as one COPY --from brings.
func copyImages(view *dockerfilemodel.View, stages []instructions.Stage, i int) []string {
	var out []string
	for _, cmd := range stages[i].Commands {
		var froms []string
		switch c := cmd.(type) {
		case *instructions.CopyCommand:
			froms = append(froms, c.From)
		case *instructions.RunCommand:
			for _, m := range instructions.GetMounts(c) {
				froms = append(froms, m.From)
			}
		}
		for _, f := range froms {
			if f == "" {
				continue
			}
			from, err := view.Expand(f)
			if err != nil || from == "" || dockerfilemodel.StageIndex(stages, from, i) >= 0 || isStageNumber(from, i) {
				continue
			}
			out = append(out, from)
		}
	}
	return out
}

// isStageNumber reports whether from is the number of a stage before i.
func isStageNumber(from string, i int) bool {
	n := 0
	for _, r := range from {
		if r < '0' || r > '9' {
			return false
		}
		n = n*10 + int(r-'0')
	}
	return from != "" && n < i
}

// lineage fingerprints the tools of the build's other sources through an
// (an in-build step each, cached), for harden.Input.Lineage.
func (p *platformBuild) lineage(ctx context.Context, an harden.Analyzer, cv converted, cfg harden.Config) ([]tooling.Known, error) {
	srcs, err := p.lineageSources(cv)
	if err != nil {
		return nil, err
	}
	var known []tooling.Known
	for _, s := range srcs {
		shipped := dockerfilemodel.Shipped{BaseStage: s.stage, BaseName: s.image}
		name := "stage " + s.stage
		if s.stage == "" {
			name = "image " + s.image
		}
		st, err := baseState(ctx, p.bc, p.df.data, cv.opt, shipped, p.platform)
		if err != nil {
			return nil, fmt.Errorf("lineage: %w", err)
		}
		if st == nil || strings.EqualFold(s.image, "scratch") {
			continue
		}
		k, err := an.Index(ctx, harden.Source{Name: name, State: *st}, cfg)
		if err != nil {
			return nil, fmt.Errorf("lineage of %s: %w", name, err)
		}
		known = append(known, k...)
	}
	return known, nil
}
