package harden

// Distroless final stage.
//
//	HK2010 BaseNotAllowed   CIS 4.1, 4.2 — require mode: the shipped stage's
//	                        base must be scratch or on the allow-list.
//	HK2011 RebaseFailed     CIS 4.3 — rebase mode: the image keeps only what
//	                        the application needs.
//
// In rebase mode (the default) the image keeps what the shipped stage
// added on top of its base, the dynamic-link closure of what it keeps and
// of the entrypoint, runtime support files and policy keep paths (package
// pkg/keep decides). In strip and require mode it keeps the shipped
// stage's filesystem minus tooling.

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/baseimage"
	"github.com/hardenkit/hardenkit/pkg/keep"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

var (
	ruleBaseNotAllowed = rules.Rule{
		ID: "HK2010", Name: "BaseNotAllowed", Title: "Shipped stage's base is not scratch or an allowed minimal base",
		Family: rules.FamilyMinimalImage, Severity: rules.SeverityHigh, Stage: rules.StageLLB, CIS: []string{"4.1", "4.2"},
		Rationale:   "In require mode only scratch or vetted minimal bases may carry an application: anything else ships an unreviewed operating system.",
		Remediation: "Build FROM scratch or an allowed base, copying the application in from a builder stage, or add the base to controls.distroless.allowedBases.",
		HelpURI:     rules.HelpURI("HK2010"),
	}
	ruleRebase = rules.Rule{
		ID: "HK2011", Name: "RebaseFailed", Title: "Shipped image could not be reduced to what the application needs",
		Family: rules.FamilyMinimalImage, Severity: rules.SeverityHigh, Stage: rules.StageLLB, CIS: []string{"4.3"},
		Rationale:   "A distroless image ships the application, the libraries it links and runtime support files, nothing else to exploit or patch.",
		Remediation: "Make the entrypoint an executable the image contains (exec form), or add paths the application loads at run time to controls.tooling.keep.",
		HelpURI:     rules.HelpURI("HK2011"),
	}
)

// fsPlan is what ships.
type fsPlan struct {
	// paths are the shipped paths, sorted.
	paths []string
	// generated are files written with new content.
	generated map[string][]byte
	// exclude are paths (with their subtrees) that must not ship.
	exclude []string
	// include selects the shipped files; nil means everything not excluded.
	include  []string
	removed  []tooling.Match
	findings []rules.Finding

	// rebased: the keep-set came from keep.Rebase, whose allowlist
	// decisions follow.
	rebased         bool
	notAllowed      []keep.Dropped
	leftOut         keep.LeftOut
	executables     []keep.Allowed
	runtimePackages map[string]string

	// stateDirs are the directories the image's user must own when it is
	// not root (keep.KeepSet.StateDirs); owner is that user, nil when the
	// image runs as root.
	stateDirs []string
	owner     *owner
	handed    // what else the non-root user is given (statedirs.go)
}

// owner is a numeric user and group.
type owner struct{ uid, gid uint32 }

// ownedStateDirs are the state directories handed to the image's user:
// none when it runs as root.
func (p fsPlan) ownedStateDirs() []string {
	if p.owner == nil {
		return nil
	}
	return p.stateDirs
}

func checkBaseAllowed(in Input) error {
	d := in.Config.Distroless
	if d.Mode != DistrolessRequire || in.Config.level(ruleBaseNotAllowed) == rules.LevelOff {
		return nil
	}
	if in.Base == nil || baseimage.AllowsName(d.AllowedBases, in.BaseName, in.BaseDigest) {
		return nil
	}
	msg := fmt.Sprintf("the shipped stage is built on %q, which is neither scratch nor an allowed minimal base (controls.distroless.allowedBases)", in.BaseName)
	return &Violation{Rule: ruleBaseNotAllowed.ID, Message: msg, Ranges: in.Lines.From}
}

func planFilesystem(ctx context.Context, baseTree func() (*rootfs.Tree, error), in Input, final *rootfs.Tree, src rootfs.Source, tl tooling.Lists) (fsPlan, error) {
	cfg := in.Image.Config
	keepPatterns := in.Config.Tooling.Keep
	if in.Config.Distroless.Mode != DistrolessRebase || in.Config.level(ruleRebase) == rules.LevelOff {
		return planStrip(ctx, in, final, src, tl, keepPatterns)
	}
	base, err := baseTree()
	if err != nil {
		return fsPlan{}, err
	}
	ks, err := keep.Rebase(ctx, keep.RebaseInput{
		Base:        base,
		Final:       final,
		Src:         src,
		Entrypoint:  append(slices.Clone(cfg.Entrypoint), cfg.Cmd...),
		Path:        envValue(cfg.Env, "PATH"),
		WorkingDir:  cfg.WorkingDir,
		LibraryPath: envValue(cfg.Env, "LD_LIBRARY_PATH"),
		Healthcheck: execHealthcheck(cfg.Healthcheck),
		Keep:        keepPatterns,
		Tooling:     tl,
	})
	if err != nil {
		return fsPlan{}, &Violation{Rule: ruleRebase.ID, Message: rebaseMessage(ctx, in, final, src, err), Ranges: entrypointRanges(in.Lines)}
	}
	plan := fsPlan{paths: ks.Paths, generated: ks.Generated, removed: ks.Removed,
		rebased: true, notAllowed: ks.NotAllowed, leftOut: ks.LeftOut, executables: ks.Executables, runtimePackages: ks.RuntimePackages,
		stateDirs: ks.StateDirs}
	for _, n := range ks.Notes {
		plan.findings = append(plan.findings, rules.Finding{Rule: ruleRebase.ID, Level: rules.LevelWarn, Message: n})
	}
	plan.include = leaves(ks.Paths)
	plan.exclude = excludedByMatches(ks.Removed, keepPatterns)
	// What the allowlist left out must not come back through a parent's
	// copy: include patterns select leaves, but a dropped path below a
	// kept leaf directory would still be copied with it.
	// A dropped directory can come back as the parent of a kept path
	// (/var/lib/dpkg of the rewritten database): only what stays dropped
	// is excluded, and a directory never, since an exclude pattern takes
	// its subtree.
	kept := map[string]bool{}
	for _, p := range ks.Paths {
		kept[p] = true
	}
	for _, d := range ks.NotAllowed {
		// A loadable file left out is listed for the evidence, not
		// dropped from a kept copy: nothing above it is kept.
		if e, ok := final.Lookup(d.Path); ok && !e.IsDir() && !kept[d.Path] && !d.Loadable {
			plan.exclude = append(plan.exclude, d.Path)
		}
	}
	// A kept directory with nothing kept below it (the target of a
	// symlink, an empty state directory) ships empty: its children in the
	// shipped stage are excluded, or the copy would bring them along.
	for _, p := range plan.include {
		if e, ok := final.Lookup(p); ok && e.IsDir() {
			for _, c := range final.Children(p) {
				if !kept[c.Path] {
					plan.exclude = append(plan.exclude, c.Path)
				}
			}
		}
	}
	plan.include = collapseKept(final, plan.include, kept)
	for lib, needers := range ks.Unresolved {
		plan.findings = append(plan.findings, rules.Finding{
			Rule: ruleRebase.ID, Level: rules.LevelWarn, File: lib,
			Message: fmt.Sprintf("%s is needed by %s but the image does not contain it", lib, strings.Join(needers, ", ")),
		})
	}
	return plan, nil
}

// execHealthcheck returns the command of an exec-form health check.
func execHealthcheck(hc *dockerspec.HealthcheckConfig) []string {
	if hc == nil || len(hc.Test) < 2 || hc.Test[0] != "CMD" {
		return nil
	}
	return hc.Test[1:]
}

// planStrip keeps the shipped stage's filesystem minus tooling and the
// package metadata of what was removed.
func planStrip(ctx context.Context, in Input, final *rootfs.Tree, src rootfs.Source, tl tooling.Lists, keepPatterns []string) (fsPlan, error) {
	matches, err := tooling.Detect(ctx, final, src, tl)
	if err != nil {
		return fsPlan{}, fmt.Errorf("detecting tooling: %w", err)
	}
	var removed []tooling.Match
	for _, m := range matches {
		if !keptByPolicy(m.Path, keepPatterns) {
			removed = append(removed, m)
		}
	}
	gone := func(p string) bool {
		for _, m := range removed {
			if p == m.Path || rootfs.IsUnder(p, m.Path) {
				return true
			}
		}
		return false
	}
	meta, err := keep.PackageMetadata(ctx, final, src, func(p string) bool { return !gone(p) })
	if err != nil {
		return fsPlan{}, fmt.Errorf("rewriting package metadata: %w", err)
	}
	plan := fsPlan{generated: meta.Generated, removed: removed}
	plan.exclude = excludedByMatches(removed, keepPatterns)
	metaPaths := map[string]bool{}
	for _, p := range meta.Paths {
		metaPaths[p] = true
	}
	for _, p := range final.Paths() {
		managed := false
		for _, d := range meta.ManagedDirs {
			if rootfs.IsUnder(p, d) && !metaPaths[p] {
				managed = true
			}
		}
		if managed {
			plan.exclude = append(plan.exclude, p)
			continue
		}
		if !gone(p) {
			plan.paths = append(plan.paths, p)
		}
	}
	if err := checkEntrypointKept(ctx, in, final, src, gone); err != nil {
		return fsPlan{}, err
	}
	return plan, nil
}

// summary says what ships and what was removed, for the build's progress
// output: the step's name is all a frontend can show there.
func (p fsPlan) summary() string {
	tools := map[string]bool{}
	for _, m := range p.removed {
		if m.Category != tooling.PackageManager || m.Reason != tooling.ReasonPackageManagerData {
			tools[path.Base(m.Path)] = true
		}
	}
	names := slices.Sorted(maps.Keys(tools))
	const show = 12
	list := strings.Join(names, " ")
	if len(names) > show {
		list = strings.Join(names[:show], " ") + fmt.Sprintf(" … (%d more)", len(names)-show)
	}
	if len(names) == 0 {
		return fmt.Sprintf("ship %d paths; no tooling to remove", len(p.paths))
	}
	return fmt.Sprintf("ship %d paths; remove %d tools: %s", len(p.paths), len(names), list)
}

// checkEntrypointKept fails when a program the image runs is removed:
// the entrypoint's first word or what its wrappers run (keep.ExecChain).
func checkEntrypointKept(ctx context.Context, in Input, final *rootfs.Tree, src rootfs.Source, gone func(string) bool) error {
	cfg := in.Image.Config
	args := append(slices.Clone(cfg.Entrypoint), cfg.Cmd...)
	if len(args) == 0 {
		return nil
	}
	runs, _, err := keep.ExecChain(ctx, final, src, args, cfg.WorkingDir, envValue(cfg.Env, "PATH"))
	if err != nil {
		return fmt.Errorf("reading the entrypoint: %w", err)
	}
	for _, run := range runs {
		if run.ByPath {
			continue
		}
		if r, ok := final.Resolve(run.Path); ok && (gone(run.Path) || gone(r)) {
			return &Violation{Rule: ruleRebase.ID, Ranges: entrypointRanges(in.Lines),
				Message: fmt.Sprintf("the image runs %s, which hardenkit removes as tooling; ship the application itself as the entrypoint", run.Arg)}
		}
	}
	return nil
}

func keptByPolicy(p string, patterns []string) bool {
	for _, k := range patterns {
		if rootfs.Match(k, p) || rootfs.IsUnder(p, strings.TrimSuffix(k, "/**")) {
			return true
		}
	}
	return false
}

func excludedByMatches(ms []tooling.Match, keepPatterns []string) []string {
	var out []string
	for _, m := range ms {
		if !keptByPolicy(m.Path, keepPatterns) {
			out = append(out, m.Path)
		}
	}
	return out
}

// leaves returns the paths that have no other path below them: the files,
// symlinks and empty directories to include. Parent directories come along
// with what they contain. (Sorting alone cannot tell: "/a-b" sorts between
// "/a" and "/a/c".)
func leaves(paths []string) []string {
	parents := map[string]bool{}
	for _, p := range paths {
		for _, d := range rootfs.Parents(p) {
			parents[d] = true
		}
	}
	var out []string
	for _, p := range paths {
		if p != "/" && !parents[p] {
			out = append(out, p)
		}
	}
	return out
}

// collapseKept replaces the include patterns below a directory whose whole
// subtree ships with that directory. BuildKit matches every path the copy
// walks against every include pattern, when it hashes the copy's source and
// when it copies: one pattern per file of an application tree of 100,000
// files would be 10^10 matches.
func collapseKept(final *rootfs.Tree, include []string, kept map[string]bool) []string {
	whole := map[string]bool{}
	var wholly func(p string) bool
	wholly = func(p string) bool {
		if w, ok := whole[p]; ok {
			return w
		}
		w := kept[p]
		if e, ok := final.Lookup(p); w && ok && e.IsDir() {
			for _, c := range final.Children(p) {
				// Every child is asked, so each directory is decided once.
				if !wholly(c.Path) {
					w = false
				}
			}
		}
		whole[p] = w
		return w
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range include {
		top := p
		for _, d := range rootfs.Parents(p) {
			if d != "/" && wholly(d) {
				top = d
				break
			}
		}
		if !seen[top] {
			seen[top] = true
			out = append(out, top)
		}
	}
	return out
}

// copyPatterns turns absolute paths into fsutil patterns relative to the
// copy source, escaping pattern metacharacters in file names.
func copyPatterns(paths []string) []string {
	out := make([]string, 0, len(paths))
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	for _, p := range paths {
		out = append(out, r.Replace(strings.TrimPrefix(path.Clean(p), "/")))
	}
	return out
}

// entrypointRanges points at the instruction that names the program the
// image runs.
func entrypointRanges(l Lines) []parser.Range {
	if len(l.Entrypoint) > 0 {
		return l.Entrypoint
	}
	return l.Cmd
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}
