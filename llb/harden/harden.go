// Package harden rewrites a converted Dockerfile build in LLB. It works on the
// llb.State and image config that dockerfile2llb returns, never on the
// Dockerfile text: BuildKit owns Dockerfile → LLB, hardenkit only changes
// what comes out of it.
//
// The frontend hardens a build in two calls. Plan evaluates the shipped
// stage, decides what ships (distroless.go, tooling.go) and who it runs as
// (nonroot.go), and writes one layer whose every file has the build's epoch
// as its time and no setuid bit (epoch.go, setuid.go). Verify (verify.go)
// then re-reads the result and fails the build when a control did not
// hold; nothing may be exported before it passes. Between the two the
// frontend may inspect the planned result.
//
// Hardening reads only its Config of the policy, which the frontend
// derives; the filesystem work runs through an Analyzer: in-process
// (LocalAnalyzer) or as cached exec steps of the frontend image (package
// hardenstep).
package harden

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/keep"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// Evaluator solves LLB and gives read access to the result. The frontend
// implements it over the gateway client.
type Evaluator interface {
	Evaluate(ctx context.Context, st llb.State) (rootfs.Source, error)
}

// Lines are the Dockerfile ranges of the shipped stage's instructions that
// hardening errors point at. Empty ranges mean the instruction is inherited
// or absent.
type Lines struct {
	From, User, Entrypoint, Cmd, Healthcheck []parser.Range
	// Last is the shipped stage's own last instruction (its FROM when it
	// has none): where advice appends what belongs at the end of the stage.
	Last []parser.Range
}

// Input is one platform's converted build.
type Input struct {
	// Final is the shipped stage's filesystem.
	Final llb.State
	// Base is the shipped stage's base filesystem; nil for scratch.
	Base *llb.State
	// BaseName is the shipped stage's base as written, ARGs expanded
	// ("debian:bookworm", "scratch", or a stage name).
	BaseName string
	// BaseDigest is the resolved digest of an image base, if known.
	BaseDigest string
	// Image is the config dockerfile2llb produced.
	Image *dockerspec.DockerOCIImage
	// Epoch is the build's SOURCE_DATE_EPOCH.
	Epoch time.Time
	// Platform is the target platform.
	Platform ocispecs.Platform
	// Config is what hardening reads of the policy.
	Config Config
	// Lines locate instructions for errors.
	Lines Lines
	// NoCache makes hardenkit's own steps ignore the build cache, as
	// --no-cache does for the Dockerfile's.
	NoCache bool
	// Probe is the frontend image, which carries the static health probe
	// at ProbeImagePath (healthrewrite.go); nil in-process.
	Probe *llb.State
	// Lineage are the tools of the build's other sources (Analyzer.Index
	// of each): a file of Final that is the same program is that tool.
	Lineage []tooling.Known
}

// Result is the hardened build.
type Result struct {
	// State is the hardened root filesystem: a single layer.
	State llb.State
	// Image is the config that goes with State.
	Image *dockerspec.DockerOCIImage
	// Findings are the warnings hardening raised (controls at warn level).
	Findings []rules.Finding
	// Removed are the tooling matches left out of the image.
	Removed []tooling.Match
	// NotAllowed are the paths the allowlist left out and the loadable
	// files not in the closure (rebase mode).
	NotAllowed []keep.Dropped
	// LeftOut summarises the rest of what does not ship (rebase mode).
	LeftOut keep.LeftOut
	// Executables are the executables that ship, each with why it was
	// allowed (rebase mode).
	Executables []keep.Allowed
	// RuntimePackages are the packages of the runtime closure, with why
	// each is in it (rebase mode).
	RuntimePackages map[string]string
	// OwnedByUser are the directories handed to the non-root image user
	// (/run and the runtime closure's state directories), sorted.
	OwnedByUser []string
	// HandedOver are the directories handed to the non-root image user,
	// each with why (statedirs.go, layout.go), sorted.
	HandedOver []Handover
	// StickyBitAdded are the world-writable directories given the sticky
	// bit (worldwritable.go), sorted.
	StickyBitAdded []string
	// Rebased says the distroless control rebased the shipped stage, so
	// the three fields above are meaningful.
	Rebased bool
	// Shipped is the number of paths in the hardened filesystem.
	Shipped int
	// InjectedUser is set when no USER was given and one was injected.
	InjectedUser bool
	// BaseName and BaseDigest are the shipped stage's base, as in Input.
	BaseName, BaseDigest string
	// Tree and Src are the verified hardened filesystem, for the
	// inspection and evidence steps that follow.
	Tree *rootfs.Tree
	Src  rootfs.Source
}

// Violation is an enforced control that failed, with the Dockerfile ranges
// it is about. The frontend turns it into a source-mapped error.
type Violation struct {
	Rule    string
	Message string
	Ranges  []parser.Range
	// Paths are the image paths the violation is about (at most
	// maxVerifyProblems), so that the frontend can name the Dockerfile
	// instruction that wrote each one; nil when it is about no path (a
	// USER, a base image). Violations travel as JSON from the in-build
	// analysis step, so this is a plain, serialisable list.
	Paths []string `json:"paths,omitempty"`
}

// Error implements error.
func (v *Violation) Error() string { return v.Rule + ": " + v.Message }

// Violations are several enforced controls that failed at once.
type Violations []*Violation

// Error implements error.
func (vs Violations) Error() string {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Error()
	}
	return fmt.Sprintf("hardening failed (%d):\n  %s", len(vs), strings.Join(msgs, "\n  "))
}

// AsViolations returns the violations err carries, if any.
func AsViolations(err error) (Violations, bool) {
	var vs Violations
	if errors.As(err, &vs) {
		return vs, true
	}
	var v *Violation
	if errors.As(err, &v) {
		return Violations{v}, true
	}
	return nil, false
}

func firstLine(r []parser.Range) int {
	if len(r) == 0 {
		return 0
	}
	return r[0].Start.Line
}

// Plan decides what ships and writes the hardened filesystem in LLB. The
// result must not be exported before Verify passes; a caller may inspect
// it meanwhile.
func Plan(ctx context.Context, an Analyzer, in Input) (Result, error) {
	if in.Image == nil {
		return Result{}, errors.New("hardening: no image config")
	}
	if err := checkBaseAllowed(in); err != nil {
		return Result{}, err
	}
	in, rewritten := withHealthProbe(in)
	d, err := an.Decide(ctx, in)
	if err != nil {
		return Result{}, err
	}
	plan := d.plan()
	plan.findings = append(rewritten, plan.findings...)

	st := writeLayer(in.Final, plan, in.Epoch, in.Platform, in.NoCache)
	img, err := hardenedConfig(in, d.User, plan)
	if err != nil {
		return Result{}, err
	}

	res := Result{
		State:           st,
		Image:           img,
		Findings:        plan.findings,
		Removed:         plan.removed,
		NotAllowed:      plan.notAllowed,
		LeftOut:         plan.leftOut,
		Executables:     plan.executables,
		RuntimePackages: plan.runtimePackages,
		OwnedByUser:     plan.ownedStateDirs(),
		HandedOver:      plan.handovers,
		StickyBitAdded:  stickyAdded(plan.layout),
		Rebased:         plan.rebased,
		Shipped:         len(plan.paths),
		InjectedUser:    d.Injected,
		BaseName:        in.BaseName,
		BaseDigest:      in.BaseDigest,
	}
	return res, nil
}

// Verify re-reads the hardened filesystem of res and fails with HK2050
// when a control did not hold. The findings it reports without failing
// are in the returned Verification.
func Verify(ctx context.Context, an Analyzer, in Input, res Result) (Verification, error) {
	v, err := an.Verify(ctx, res.State, in, res.Image)
	if err != nil {
		return Verification{}, err
	}
	if len(v.Problems) > 0 {
		vi := &Violation{Rule: ruleVerify.ID, Message: verifyMessage(v.Problems), Paths: v.Paths}
		if v.User {
			vi.Ranges = in.Lines.User
		}
		return Verification{}, vi
	}
	return v, nil
}
