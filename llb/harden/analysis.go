package harden

// The two halves of hardening that read filesystems.
//
// Deciding what ships reads the shipped stage (and its base); verifying
// reads the hardened result. Both are pure functions of those filesystems
// and Params, so they can run wherever the filesystems are: in-process over
// the gateway (LocalAnalyzer), or as cached exec steps of the frontend's
// own image over read-only mounts (package hardenstep), where BuildKit
// caches them by the digest of their inputs and a rebuild that changes
// nothing re-runs neither. Both ways run the same code: DecideFS and
// VerifyFS.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/keep"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/tooling"
	"github.com/hardenkit/hardenkit/pkg/users"
)

// Analyzer runs the filesystem work of Plan and Verify. Implementations differ in
// where the filesystems are read, never in what is decided.
type Analyzer interface {
	// Decide evaluates the shipped stage (and its base) and decides what
	// ships and who runs it. Enforced controls that fail come back as
	// Violations.
	Decide(ctx context.Context, in Input) (Decision, error)
	// Verify evaluates the hardened filesystem and checks that the
	// controls held for the image config img.
	Verify(ctx context.Context, hardened llb.State, in Input, img *dockerspec.DockerOCIImage) (Verification, error)
	// Index returns the tools of another source of the build (a stage
	// the shipped one copies from, a named context, an image) by
	// fingerprint, for Input.Lineage (IndexFS).
	Index(ctx context.Context, src Source, cfg Config) ([]tooling.Known, error)
}

// Source is another filesystem of the build the shipped stage may have
// copied files from.
type Source struct {
	// Name says what it is in the origin of a match: "stage builder",
	// "image busybox:1.36", "context tools".
	Name  string
	State llb.State
}

// IndexFS lists the source read through src and returns its tools by
// fingerprint (keep.IndexSource), looking for the categories cfg removes.
func IndexFS(ctx context.Context, src rootfs.Source, name string, cfg Config) ([]tooling.Known, error) {
	t, err := rootfs.Load(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return keep.IndexSource(ctx, t, src, name, toolingLists(cfg))
}

// Params are the data inputs of the analysis (Input without its LLB
// states), in a form an in-build step receives as JSON.
type Params struct {
	BaseName   string                     `json:"baseName,omitempty"`
	BaseDigest string                     `json:"baseDigest,omitempty"`
	HasBase    bool                       `json:"hasBase,omitempty"`
	Image      *dockerspec.DockerOCIImage `json:"image"`
	Epoch      time.Time                  `json:"epoch"`
	Platform   ocispecs.Platform          `json:"platform"`
	Config     Config                     `json:"config"`
	Lines      Lines                      `json:"lines"`
	Lineage    []tooling.Known            `json:"lineage,omitempty"`
}

// Params returns in's data inputs.
func (in Input) Params() Params {
	return Params{BaseName: in.BaseName, BaseDigest: in.BaseDigest, HasBase: in.Base != nil,
		Image: in.Image, Epoch: in.Epoch, Platform: in.Platform, Config: in.Config, Lines: in.Lines, Lineage: in.Lineage}
}

// input is p as an Input without LLB states, for the analysis functions.
func (p Params) input() Input {
	return Input{BaseName: p.BaseName, BaseDigest: p.BaseDigest, Image: p.Image, Epoch: p.Epoch,
		Platform: p.Platform, Config: p.Config, Lines: p.Lines, Lineage: p.Lineage}
}

// Decision is what ships and who runs it: the result of DecideFS.
type Decision struct {
	// Paths are the shipped paths, sorted.
	Paths []string `json:"paths"`
	// Generated are files written with new content.
	Generated map[string][]byte `json:"generated,omitempty"`
	// Exclude are paths (with their subtrees) that must not ship.
	Exclude []string `json:"exclude,omitempty"`
	// Include selects the shipped files; nil means everything not
	// excluded.
	Include         []string          `json:"include"`
	Removed         []tooling.Match   `json:"removed,omitempty"`
	Findings        []rules.Finding   `json:"findings,omitempty"`
	Rebased         bool              `json:"rebased,omitempty"`
	NotAllowed      []keep.Dropped    `json:"notAllowed,omitempty"`
	LeftOut         keep.LeftOut      `json:"leftOut"`
	Executables     []keep.Allowed    `json:"executables,omitempty"`
	RuntimePackages map[string]string `json:"runtimePackages,omitempty"`
	StateDirs       []string          `json:"stateDirs,omitempty"`
	// Handovers are the directories handed to the non-root user, and why.
	Handovers []Handover `json:"handovers,omitempty"`
	// RootOwned are executables below StateDirs that keep their owner.
	RootOwned []string `json:"rootOwned,omitempty"`
	// Layout are the directories and links the image gets (layout.go).
	Layout []LayoutEntry `json:"layout,omitempty"`
	// Owner is the image's non-root user and group; nil for root.
	Owner *Owner `json:"owner,omitempty"`
	// User is the config's USER, numeric.
	User string `json:"user"`
	// Injected says User was injected (the Dockerfile set none).
	Injected bool `json:"injected,omitempty"`
}

// Owner is a numeric user and group.
type Owner struct {
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
}

// Verification is what VerifyFS found in the hardened filesystem.
type Verification struct {
	// Problems are the controls that did not hold; any fails the build
	// (HK2050).
	Problems []string `json:"problems,omitempty"`
	// Paths are the image paths the problems are about (bounded), so the
	// frontend can name the instructions that wrote them.
	Paths []string `json:"paths,omitempty"`
	// User says a problem is about the image's USER (it does not resolve,
	// or resolves to root).
	User bool `json:"user,omitempty"`
	// Findings are reported without failing: world-writable paths at
	// warn, tooling the policy warns about.
	Findings []rules.Finding `json:"findings,omitempty"`
	// Tree and Src are the hardened filesystem as read, when it was read
	// in-process; an in-build step leaves them nil.
	Tree *rootfs.Tree  `json:"-"`
	Src  rootfs.Source `json:"-"`
}

// BaseTree gives the listing of the shipped stage's base, read only when a
// rebase needs it.
type BaseTree func(context.Context) (*rootfs.Tree, error)

// LoadBase is the BaseTree that lists src.
func LoadBase(src rootfs.Source) BaseTree {
	return func(ctx context.Context) (*rootfs.Tree, error) { return rootfs.Load(ctx, src) }
}

// DecideFS decides what ships from the shipped stage final (read through
// finalSrc) and, for a rebase, the listing of its base (nil for scratch).
func DecideFS(ctx context.Context, finalSrc rootfs.Source, base BaseTree, p Params) (Decision, error) {
	in := p.input()
	final, err := rootfs.Load(ctx, finalSrc)
	if err != nil {
		return Decision{}, fmt.Errorf("reading the shipped stage's filesystem: %w", err)
	}
	// The base is listed once however many controls ask for it.
	baseTree := sync.OnceValues(func() (*rootfs.Tree, error) {
		if !p.HasBase {
			return nil, nil
		}
		if base == nil {
			return nil, fmt.Errorf("reading base %s: no filesystem was given for it", in.BaseName)
		}
		t, err := base(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading base %s: %w", in.BaseName, err)
		}
		return t, nil
	})

	if err := checkSwitchingEntrypoint(in); err != nil {
		return Decision{}, err
	}
	tl := toolingLists(in.Config)
	tl.Known = in.Lineage
	plan, err := planFilesystem(ctx, baseTree, in, final, finalSrc, tl)
	if err != nil {
		return Decision{}, err
	}
	if err := dropSpecialFiles(in, final, &plan); err != nil {
		return Decision{}, err
	}
	who, err := resolveUser(ctx, in, final, finalSrc, plan)
	if err != nil {
		return Decision{}, err
	}
	for p, dt := range who.generated {
		plan.generated[p] = dt
	}
	// A non-root image must still write where it wrote as root: /run, its
	// packages' and its own state directories become the user's
	// (statedirs.go), and it gets the layout programs expect (layout.go).
	if !users.IsRoot(who.uid, who.gid) {
		plan.owner = &owner{uid: who.uid, gid: who.gid}
	}
	if err := handOverState(ctx, in, final, finalSrc, baseTree, &plan); err != nil {
		return Decision{}, err
	}

	shipped := map[string]bool{}
	for _, p := range plan.paths {
		shipped[p] = true
	}
	if vs := checkConfigCommands(in, final, shipped, len(tl.Shells) > 0); len(vs) > 0 {
		if in.Config.level(ruleConfigTool) == rules.LevelEnforce {
			return Decision{}, Violations(vs)
		}
		for _, v := range vs {
			plan.findings = append(plan.findings, rules.Finding{Rule: v.Rule, Level: rules.LevelWarn, Message: v.Message, Line: firstLine(v.Ranges)})
		}
	}
	plan.findings = append(plan.findings, who.findings...)
	return decisionOf(plan, who), nil
}

func decisionOf(plan fsPlan, who identity) Decision {
	d := Decision{Paths: plan.paths, Generated: plan.generated, Exclude: plan.exclude, Include: plan.include,
		Removed: plan.removed, Findings: plan.findings, Rebased: plan.rebased, NotAllowed: plan.notAllowed,
		Executables: plan.executables, RuntimePackages: plan.runtimePackages, StateDirs: plan.stateDirs,
		Handovers: plan.handovers, RootOwned: plan.rootOwned, Layout: plan.layout,
		User: who.user, Injected: who.injected}
	if plan.owner != nil {
		d.Owner = &Owner{UID: plan.owner.uid, GID: plan.owner.gid}
	}
	return d
}

// plan is d as the plan writeLayer follows.
func (d Decision) plan() fsPlan {
	p := fsPlan{paths: d.Paths, generated: d.Generated, exclude: d.Exclude, include: d.Include,
		removed: d.Removed, findings: d.Findings, rebased: d.Rebased, notAllowed: d.NotAllowed, leftOut: d.LeftOut,
		executables: d.Executables, runtimePackages: d.RuntimePackages, stateDirs: d.StateDirs,
		handed: handed{handovers: d.Handovers, rootOwned: d.RootOwned, layout: d.Layout}}
	if p.generated == nil {
		p.generated = map[string][]byte{}
	}
	if d.Owner != nil {
		p.owner = &owner{uid: d.Owner.UID, gid: d.Owner.GID}
	}
	return p
}

// VerifyFS re-reads the hardened filesystem through src and checks that
// the controls held for a config whose USER is user.
func VerifyFS(ctx context.Context, src rootfs.Source, p Params, user string) (Verification, error) {
	tree, err := rootfs.Load(ctx, src)
	if err != nil {
		return Verification{}, fmt.Errorf("reading the hardened filesystem: %w", err)
	}
	in := p.input()
	tl := toolingLists(in.Config)
	tl.Known = in.Lineage
	problems, paths, reported, err := verify(ctx, in, tree, src, user, tl)
	if err != nil {
		return Verification{}, err
	}
	warned, err := warnedTooling(ctx, in.Config, tree, src)
	if err != nil {
		return Verification{}, err
	}
	aboutUser := false
	for _, p := range problems {
		aboutUser = aboutUser || strings.HasPrefix(p, userProblem)
	}
	return Verification{Problems: problems, Paths: paths, User: aboutUser, Findings: append(reported, warned...), Tree: tree, Src: src}, nil
}

// LocalAnalyzer runs the analysis in the calling process, reading the
// filesystems that Evaluator gives access to.
type LocalAnalyzer struct{ Evaluator Evaluator }

// Decide implements Analyzer.
func (a LocalAnalyzer) Decide(ctx context.Context, in Input) (Decision, error) {
	finalSrc, err := a.Evaluator.Evaluate(ctx, in.Final)
	if err != nil {
		return Decision{}, fmt.Errorf("evaluating the shipped stage: %w", err)
	}
	// The base is solved and listed only if a rebase asks for it.
	var base BaseTree
	if in.Base != nil {
		base = func(ctx context.Context) (*rootfs.Tree, error) {
			baseSrc, err := a.Evaluator.Evaluate(ctx, *in.Base)
			if err != nil {
				return nil, fmt.Errorf("evaluating: %w", err)
			}
			return LoadBase(baseSrc)(ctx)
		}
	}
	return DecideFS(ctx, finalSrc, base, in.Params())
}

// Index implements Analyzer.
func (a LocalAnalyzer) Index(ctx context.Context, s Source, cfg Config) ([]tooling.Known, error) {
	src, err := a.Evaluator.Evaluate(ctx, s.State)
	if err != nil {
		return nil, fmt.Errorf("evaluating %s: %w", s.Name, err)
	}
	return IndexFS(ctx, src, s.Name, cfg)
}

// Verify implements Analyzer.
func (a LocalAnalyzer) Verify(ctx context.Context, hardened llb.State, in Input, img *dockerspec.DockerOCIImage) (Verification, error) {
	src, err := a.Evaluator.Evaluate(ctx, hardened)
	if err != nil {
		return Verification{}, fmt.Errorf("evaluating the hardened filesystem: %w", err)
	}
	return VerifyFS(ctx, src, in.Params(), img.Config.User)
}
