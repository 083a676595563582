// Package hardenstep runs hardening's filesystem work inside the build: the
// frontend image re-runs its own binary (`hardenkit-frontend harden`) as
// in-build steps (llb/step): one that lists the shipped stage's base, one
// that decides what ships from the shipped stage and that listing
// (harden.DecideFS) and one that verifies the hardened result
// (harden.VerifyFS), each with its filesystems mounted read-only and its
// answer read back once. Analyzer is the frontend's side, Main the step's.
//
// Why steps: read over the gateway, every directory and every file the
// analysis looks at is a round trip, on every build. As exec steps,
// BuildKit caches the answers by the digest of their inputs: a rebuild
// that changes nothing re-runs neither, a changed application file re-runs
// what depends on it, and the steps show in the build's progress with
// their time.
//
// A step's definition is recorded in the build cache and in provenance,
// so the request carries only what the analysis reads: hardening's
// settings of the policy (harden.Config), so that a change to another
// policy setting keeps the steps' cache, and the image config without
// labels, history and environment values other than PATH and
// LD_LIBRARY_PATH, which the analysis needs to find programs and
// libraries. The step prints counts, never paths of findings.
package hardenstep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/step"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// Subcommand is the hardenkit-frontend subcommand that runs a step.
const Subcommand = "harden"

// Where a step finds the filesystems it reads, inside its container, and
// the flags that name them.
const (
	finalFlag = "final"
	finalDir  = "/hardenkit/final"
	baseFlag  = "base-index"
	baseDir   = "/hardenkit/base"
)

// The operations a step runs. index lists the base once, so that a build
// whose application changed re-reads only the shipped stage: the listing
// is cached by the base's digest.
const (
	opIndex   = "index"
	opDecide  = "decide"
	opVerify  = "verify"
	opLineage = "lineage"
)

// request is what a step is asked.
type request struct {
	Op     string        `json:"op"`
	Params harden.Params `json:"params"`
	// User is the hardened config's USER (verify only).
	User string `json:"user,omitempty"`
	// Source names the filesystem a lineage step indexes.
	Source string `json:"source,omitempty"`
}

// response is a step's answer: exactly one of Decision, Verification,
// Violations and Error is set.
type response struct {
	Decision     *harden.Decision     `json:"decision,omitempty"`
	Verification *harden.Verification `json:"verification,omitempty"`
	Violations   harden.Violations    `json:"violations,omitempty"`
	Error        string               `json:"error,omitempty"`
}

// Analyzer is a harden.Analyzer that runs the analysis as exec steps of
// the frontend image Image, solved through Client.
type Analyzer struct {
	// Client solves the steps and reads their answers.
	Client gwclient.Client
	// Image is an image with the hardenkit-frontend binary: the
	// frontend's own.
	Image llb.State
	// NoCache makes the steps ignore the build cache (--no-cache).
	NoCache bool
}

// Decide implements harden.Analyzer.
func (a Analyzer) Decide(ctx context.Context, in harden.Input) (harden.Decision, error) {
	mounts := []step.Mount{{Flag: finalFlag, Dir: finalDir, State: in.Final}}
	if in.Base != nil {
		index, err := a.exec(request{Op: opIndex}, []step.Mount{{Flag: finalFlag, Dir: finalDir, State: *in.Base}},
			"[hardenkit] list the base "+in.BaseName).Output()
		if err != nil {
			return harden.Decision{}, err
		}
		mounts = append(mounts, step.Mount{Flag: baseFlag, Dir: baseDir, State: index})
	}
	resp, err := a.run(ctx, a.exec(request{Op: opDecide, Params: stepParams(in.Params())}, mounts,
		"[hardenkit] decide what ships: executables, runtime closure, tooling, user"))
	if err != nil {
		return harden.Decision{}, err
	}
	if resp.Decision == nil {
		return harden.Decision{}, errors.New("in-build hardening step: the answer has no decision")
	}
	return *resp.Decision, nil
}

// Index implements harden.Analyzer: the source's tools, fingerprinted
// where its files are, cached by its definition and the tooling lists.
func (a Analyzer) Index(ctx context.Context, src harden.Source, cfg harden.Config) ([]tooling.Known, error) {
	var known []tooling.Known
	e := a.exec(request{Op: opLineage, Source: src.Name, Params: harden.Params{Config: harden.Config{Tooling: cfg.Tooling, Levels: cfg.Levels}}},
		[]step.Mount{{Flag: finalFlag, Dir: finalDir, State: src.State}}, "[hardenkit] fingerprint the tools of "+src.Name)
	if err := step.Answer(ctx, a.Client, e, &known); err != nil {
		return nil, err
	}
	return known, nil
}

// Verify implements harden.Analyzer.
func (a Analyzer) Verify(ctx context.Context, hardened llb.State, in harden.Input, img *dockerspec.DockerOCIImage) (harden.Verification, error) {
	resp, err := a.run(ctx, a.exec(request{Op: opVerify, Params: stepParams(in.Params()), User: img.Config.User},
		[]step.Mount{{Flag: finalFlag, Dir: finalDir, State: hardened}}, "[hardenkit] verify the hardened filesystem"))
	if err != nil {
		return harden.Verification{}, err
	}
	if resp.Verification == nil {
		return harden.Verification{}, errors.New("in-build hardening step: the answer has no verification")
	}
	return *resp.Verification, nil
}

// stepParams is p as it may be recorded in an exec's definition: without
// labels, history, ONBUILD triggers and environment values the analysis
// does not read (the frontend checks those for secrets itself).
func stepParams(p harden.Params) harden.Params {
	if p.Image == nil {
		return p
	}
	img := *p.Image
	img.Config.Labels, img.History, img.Config.OnBuild = nil, nil, nil
	img.Config.Env = nil
	for _, kv := range p.Image.Config.Env {
		if k, _, _ := strings.Cut(kv, "="); k == "PATH" || k == "LD_LIBRARY_PATH" {
			img.Config.Env = append(img.Config.Env, kv)
		}
	}
	p.Image = &img
	return p
}

// exec is one step of the frontend image.
func (a Analyzer) exec(req request, mounts []step.Mount, name string) step.Exec {
	e := step.Exec{Image: a.Image, Subcommand: Subcommand, Request: req, Mounts: mounts, Name: name}
	if a.NoCache {
		e.Opts = []llb.RunOption{llb.IgnoreCache}
	}
	return e
}

// run solves one step and decodes its answer; Violations and errors the
// analysis returned come back as errors.
func (a Analyzer) run(ctx context.Context, e step.Exec) (response, error) {
	var resp response
	if err := step.Answer(ctx, a.Client, e, &resp); err != nil {
		return response{}, err
	}
	switch {
	case len(resp.Violations) > 0:
		return response{}, resp.Violations
	case resp.Error != "":
		return response{}, errors.New(resp.Error)
	}
	return resp, nil
}

// Command is the step: `hardenkit-frontend harden --request F --final DIR
// [--base-index DIR] --out DIR`. What the analysis decides — including a
// control that failed or could not run — is in the answer for the
// frontend to act on; the step itself fails only when it cannot read its
// request or write its answer.
func Command() step.Command[request] {
	return step.Command[request]{
		Name:    Subcommand,
		Request: true,
		Flags: []step.Flag{
			{Name: finalFlag, Arg: "DIR", Usage: "the filesystem to analyse: the shipped stage (decide) or the hardened one (verify)"},
			{Name: baseFlag, Arg: "DIR", Usage: "the output of the index operation on the shipped stage's base (decide)", Optional: true},
		},
		Run: runStep,
	}
}

func runStep(ctx context.Context, call step.Call[request]) (any, error) {
	req, final := call.Request, call.Flags[finalFlag]
	if req.Op == opIndex {
		tree, err := rootfs.Load(ctx, rootfs.DirSource(final))
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", final, err)
		}
		fmt.Fprintf(call.Stderr, "hardenkit: listed %d entries\n", len(tree.Entries()))
		return tree.Entries(), nil
	}
	if req.Op == opLineage {
		known, err := harden.IndexFS(ctx, rootfs.DirSource(final), req.Source, req.Params.Config)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(call.Stderr, "hardenkit: %d tools fingerprinted\n", len(known))
		return known, nil
	}
	if req.Params.Image == nil || req.Params.Config.Levels == nil {
		return nil, errors.New("the request has no image config or no policy settings")
	}
	return answer(ctx, req, final, call.Flags[baseFlag], call.Stderr)
}

// readIndex is the BaseTree of the listing that index wrote to dir.
func readIndex(dir string) harden.BaseTree {
	return func(context.Context) (*rootfs.Tree, error) {
		var entries []rootfs.Entry
		if err := step.ReadAnswer(dir, &entries); err != nil {
			return nil, fmt.Errorf("the base's listing: %w", err)
		}
		return rootfs.NewTree(entries), nil
	}
}

// answer runs the requested analysis and reports its outcome on stderr,
// which the build's progress shows: counts only.
func answer(ctx context.Context, req request, final, baseIndex string, stderr io.Writer) (response, error) {
	var base harden.BaseTree
	if baseIndex != "" {
		base = readIndex(baseIndex)
	}
	var resp response
	var err error
	switch req.Op {
	case opDecide:
		var d harden.Decision
		if d, err = harden.DecideFS(ctx, rootfs.DirSource(final), base, req.Params); err == nil {
			resp.Decision = &d
			fmt.Fprintf(stderr, "hardenkit: %d paths ship, %d tools removed, %d executables allowed, user %s\n", len(d.Paths), len(d.Removed), len(d.Executables), d.User)
		}
	case opVerify:
		var v harden.Verification
		if v, err = harden.VerifyFS(ctx, rootfs.DirSource(final), req.Params, req.User); err == nil {
			resp.Verification = &v
			fmt.Fprintf(stderr, "hardenkit: verified: %d problems, %d findings reported\n", len(v.Problems), len(v.Findings))
		}
	default:
		return response{}, fmt.Errorf("unknown operation %q", req.Op)
	}
	if vs, ok := harden.AsViolations(err); ok {
		resp.Violations = vs
		fmt.Fprintf(stderr, "hardenkit: %d controls failed\n", len(vs))
	} else if err != nil {
		resp.Error = err.Error()
		fmt.Fprintln(stderr, "hardenkit: the analysis could not run; the build fails with its reason")
	}
	return resp, nil
}
