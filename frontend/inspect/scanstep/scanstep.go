// Package scanstep runs image inspection inside the build: the frontend
// image re-runs its own binary (`hardenkit-frontend scan`) as an in-build
// step (llb/step) with the candidate root filesystem — and the build
// context files COPY and ADD bring in — mounted read-only, and writes its
// result as JSON to an output mount that the frontend reads back. Reading every file of a
// large image over the gateway costs a round trip per directory and per
// file; the scanner reads them from its own mount.
//
// The step sees the filesystem checks' inputs only (inspect.ScopeFilesystem):
// the request carries the image config without Env, labels, ONBUILD
// triggers and history, and no build arguments, because an exec step's
// definition is recorded in the build cache and in provenance; the frontend
// checks those values itself (inspect.ScopeConfigSecrets). Of the policy
// it carries only the settings the scanner reads, so that a change to
// another setting keeps the step's cache.
//
// The step prints counts only, never a finding's subject: its output is
// shown in the build's progress.
package scanstep

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/llb/step"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Subcommand is the hardenkit-frontend subcommand that runs the scanner.
const Subcommand = "scan"

// Where the step finds the filesystems it reads, inside the scanner
// container, and the flags that name them.
const (
	rootFlag    = "root"
	rootDir     = "/hardenkit/rootfs"
	contextFlag = "context"
	contextDir  = "/hardenkit/context"
)

// Scan is one run of the scanner, as the frontend asks for it.
type Scan struct {
	// Scanner is an image with the hardenkit-frontend binary: the
	// frontend's own.
	Scanner llb.State
	// Root is the filesystem to inspect.
	Root llb.State
	// Context, when not nil, holds the build context files to scan for
	// secrets (HK3054).
	Context *llb.State
	// Image is the image config. Env, labels, ONBUILD triggers and
	// history never reach the step.
	Image *dockerspec.DockerOCIImage
	// Policy is the effective policy; only the settings the scanner reads
	// reach the step (settingsOf).
	Policy *policy.Policy
	// Opts apply to the exec (llb.IgnoreCache, a custom name, …).
	Opts []llb.RunOption
}

// request is what the scanner is asked to inspect.
type request struct {
	// Image is the image config without Env, labels, ONBUILD triggers
	// and history.
	Image *dockerspec.DockerOCIImage `json:"image"`
	// Settings are the policy settings the scanner reads.
	Settings *settings `json:"settings"`
	// Context says a build context is mounted for the HK3054 scan.
	Context bool `json:"context,omitempty"`
}

// settings are what the scanner reads of the policy: the levels of the
// rules it may evaluate and the secrets and tooling controls. Anything
// else would change the step's definition, and throw its cache away,
// when an unrelated policy setting changes.
type settings struct {
	Levels  map[string]rules.Level `json:"levels"`
	Secrets policy.SecretsControl  `json:"secrets"`
	Tooling policy.ToolingControl  `json:"tooling"`
}

// settingsOf are p's settings the scanner reads: the levels of every
// inspection rule except the config secret checks, which the frontend
// runs itself.
func settingsOf(p *policy.Policy) *settings {
	s := &settings{Levels: map[string]rules.Level{}, Secrets: p.Controls.Secrets, Tooling: p.Controls.Tooling}
	frontendOnly := inspect.ScopeRules(inspect.ScopeConfigSecrets)
	for _, r := range inspect.Rules() {
		if !slices.ContainsFunc(frontendOnly, func(f rules.Rule) bool { return f.ID == r.ID }) {
			s.Levels[r.ID] = p.Level(r)
		}
	}
	return s
}

// asPolicy is s as the policy the inspection reads. Every rule the scanner
// evaluates has its level in s; any other is enforced, as with no policy.
func (s *settings) asPolicy() *policy.Policy {
	return &policy.Policy{
		Defaults: policy.Defaults{Level: rules.LevelEnforce},
		Rules:    s.Levels,
		Controls: policy.Controls{Secrets: s.Secrets, Tooling: s.Tooling},
	}
}

// Response is what the scanner found.
type Response struct {
	// Image is the inspection of the root filesystem (ScopeFilesystem).
	Image inspect.Result `json:"image"`
	// Context is the build context scan; nil when none was requested.
	Context *ContextResult `json:"context,omitempty"`
}

// ContextResult is the secret scan of the build context files.
type ContextResult struct {
	// Findings are HK3054 findings at "context:REL".
	Findings []rules.Finding `json:"findings"`
	// Unscanned are context files that could not be scanned, relative
	// paths.
	Unscanned []string `json:"unscanned,omitempty"`
	// Stats count what the scan read and which detectors it ran.
	Stats *secrets.TreeStats `json:"stats,omitempty"`
}

// exec is s as an in-build step.
func (s Scan) exec() (step.Exec, error) {
	if s.Image == nil || s.Policy == nil {
		return step.Exec{}, errors.New("scan step: the image config and the policy are required")
	}
	img := *s.Image
	img.Config.Env, img.Config.Labels, img.History, img.Config.OnBuild = nil, nil, nil, nil
	e := step.Exec{
		Image:      s.Scanner,
		Subcommand: Subcommand,
		Request:    request{Image: &img, Settings: settingsOf(s.Policy), Context: s.Context != nil},
		Mounts:     []step.Mount{{Flag: rootFlag, Dir: rootDir, State: s.Root}},
		Name:       "[hardenkit] inspect the hardened image (in-build scanner)",
		Opts:       s.Opts,
	}
	if s.Context != nil {
		e.Mounts = append(e.Mounts, step.Mount{Flag: contextFlag, Dir: contextDir, State: *s.Context, HashContent: true})
	}
	return e, nil
}

// Step returns the state of the scanner's output: a directory holding its
// answer.
func Step(s Scan) (llb.State, error) {
	e, err := s.exec()
	if err != nil {
		return llb.State{}, err
	}
	return e.Output()
}

// Run executes the step through c and returns its response. Any failure —
// the step could not run, wrote nothing, or wrote something else — is an
// error: the caller fails the build.
func Run(ctx context.Context, c gwclient.Client, s Scan) (Response, error) {
	e, err := s.exec()
	if err != nil {
		return Response{}, err
	}
	var resp Response
	if err := step.Answer(ctx, c, e, &resp); err != nil {
		return Response{}, err
	}
	if resp.Image.Status == nil {
		return Response{}, errors.New("in-build scanner: the result has no rule statuses")
	}
	if s.Context != nil && resp.Context == nil {
		return Response{}, errors.New("in-build scanner: the build context was not scanned")
	}
	return resp, nil
}

// Command is the scanner: `hardenkit-frontend scan --request F --root DIR
// [--context DIR] --out DIR`. A check that cannot run is recorded in the
// result (StatusError) for the frontend to fail on; the step itself fails
// only when it cannot read its request or write its result.
func Command() step.Command[request] {
	return step.Command[request]{
		Name:    Subcommand,
		Request: true,
		Flags: []step.Flag{
			{Name: rootFlag, Arg: "DIR", Usage: "root filesystem to inspect"},
			{Name: contextFlag, Arg: "DIR", Usage: "build context to scan for secrets", Optional: true},
		},
		Run: runStep,
	}
}

func runStep(ctx context.Context, call step.Call[request]) (any, error) {
	req, contextRoot := call.Request, call.Flags[contextFlag]
	if req.Image == nil || req.Settings == nil {
		return nil, errors.New("the request has no image config or no policy settings")
	}
	if req.Context != (contextRoot != "") {
		return nil, errors.New("the request and --context disagree on whether a build context is scanned")
	}
	resp, err := scan(ctx, req, call.Flags[rootFlag], contextRoot)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(call.Stderr, "hardenkit scan: %d findings, %d unscanned files, %d rules in error\n",
		len(resp.Image.Findings)+contextCount(resp.Context), len(resp.Image.Unscanned), len(resp.Image.Errors))
	return resp, nil
}

func contextCount(c *ContextResult) int {
	if c == nil {
		return 0
	}
	return len(c.Findings)
}

// scan inspects root and, when given, the build context.
func scan(ctx context.Context, req request, root, contextRoot string) (Response, error) {
	pol := req.Settings.asPolicy()
	src := rootfs.DirSource(root)
	tree, err := rootfs.Load(ctx, src)
	if err != nil {
		return Response{}, fmt.Errorf("loading %s: %w", root, err)
	}
	res, err := inspect.Run(ctx, inspect.Input{Tree: tree, Src: src, Image: req.Image, Policy: pol, Scope: inspect.ScopeFilesystem})
	// Rules that could not run are in res.Errors, for the frontend to fail
	// the build on; any other error means the result is incomplete.
	if err != nil && len(res.Errors) == 0 {
		return Response{}, err
	}
	resp := Response{Image: res}
	if contextRoot != "" {
		csrc := rootfs.DirSource(filepath.Clean(contextRoot))
		ctree, err := rootfs.Load(ctx, csrc)
		if err != nil {
			return Response{}, fmt.Errorf("loading the build context: %w", err)
		}
		fs, unscanned, stats, err := inspect.ContextSecrets(ctx, ctree, csrc, pol)
		if err != nil {
			return Response{}, err
		}
		resp.Context = &ContextResult{Findings: fs, Unscanned: unscanned, Stats: stats}
	}
	return resp, nil
}
