// Package scanstep runs image inspection inside the build: the frontend
// image re-runs its own binary (`hardenkit-frontend scan`) as an LLB exec
// step with the candidate root filesystem — and the build context files
// COPY and ADD bring in — mounted read-only, and writes its result as JSON
// to an output mount that the frontend reads back. Reading every file of a
// large image over the gateway costs a round trip per directory and per
// file; the scanner reads them from its own mount.
//
// The step sees the filesystem checks' inputs only (inspect.ScopeFilesystem):
// the request carries the image config without Env, labels, ONBUILD triggers
// and history, and
// no build arguments, because an exec step's definition is recorded in the
// build cache and in provenance. The frontend checks those values itself
// (inspect.ScopeConfigSecrets).
//
// The step prints counts only, never a finding's subject: its output is
// shown in the build's progress.
package scanstep

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/llb/stepio"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Where the step finds its inputs and writes its result, inside the
// scanner container. BinaryPath is where the frontend image keeps the
// binary (see the repository's Dockerfile).
const (
	BinaryPath  = "/bin/hardenkit-frontend"
	Subcommand  = "scan"
	dir         = "/hardenkit"
	inDir       = dir + "/in"
	rootDir     = dir + "/rootfs"
	contextDir  = dir + "/context"
	outDir      = dir + "/out"
	requestFile = "request.json"
	resultFile  = "result.json"
)

// Request is what the scanner is asked to inspect.
type Request struct {
	// Image is the image config. Run removes Env, labels, ONBUILD triggers and history
	// before the request becomes part of the LLB definition.
	Image *dockerspec.DockerOCIImage `json:"image"`
	// Policy is the effective policy.
	Policy *policy.Policy `json:"policy"`
	// Context says a build context is mounted for the HK3054 scan.
	Context bool `json:"context,omitempty"`
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

// Step returns the state of the scanner's output: a directory holding
// result.json. scanner is an image with the hardenkit-frontend binary at
// BinaryPath; root is the filesystem to inspect; buildContext, when not
// nil, holds the context files to scan for secrets. opts apply to the
// exec (llb.IgnoreCache, a custom name, …).
func Step(scanner, root llb.State, buildContext *llb.State, req Request, opts ...llb.RunOption) (llb.State, error) {
	if req.Image == nil || req.Policy == nil {
		return llb.State{}, errors.New("scan step: the image config and the policy are required")
	}
	img := *req.Image
	img.Config.Env, img.Config.Labels, img.History, img.Config.OnBuild = nil, nil, nil, nil
	req.Image = &img
	req.Context = buildContext != nil
	dt, err := json.Marshal(req)
	if err != nil {
		return llb.State{}, fmt.Errorf("scan step: encoding the request: %w", err)
	}
	args := []string{BinaryPath, Subcommand,
		"--request", inDir + "/" + requestFile, "--root", rootDir, "--out", outDir + "/" + resultFile}
	runOpts := []llb.RunOption{
		llb.Args(args),
		llb.User("0:0"), // the mounted filesystem's root-only files must be readable
		llb.Network(llb.NetModeNone),
		llb.ReadonlyRootFS(),
		llb.AddMount(inDir, llb.Scratch().File(llb.Mkfile(requestFile, 0o444, dt), llb.WithCustomName("[hardenkit] scan request")), llb.Readonly),
		llb.AddMount(rootDir, root, llb.Readonly, llb.ContentCache(llb.MountContentCacheOff)), // keyed by definition: no hash of every file first (llb/harden/hardenstep)
		llb.WithCustomName("[hardenkit] inspect the hardened image (in-build scanner)"),
	}
	if buildContext != nil {
		runOpts = append(runOpts, llb.AddMount(contextDir, *buildContext, llb.Readonly))
		args = append(args, "--context", contextDir)
		runOpts[0] = llb.Args(args)
	}
	run := scanner.Run(append(runOpts, opts...)...)
	return run.AddMount(outDir, llb.Scratch()), nil
}

// Run executes the step through c and returns its response. Any failure —
// the step could not run, wrote nothing, or wrote something else — is an
// error: the caller fails the build.
func Run(ctx context.Context, c gwclient.Client, scanner, root llb.State, buildContext *llb.State, req Request, opts ...llb.RunOption) (Response, error) {
	out, err := Step(scanner, root, buildContext, req, opts...)
	if err != nil {
		return Response{}, err
	}
	var resp Response
	if err := stepio.Answer(ctx, c, out, resultFile, "in-build scanner", &resp); err != nil {
		return Response{}, err
	}
	if resp.Image.Status == nil {
		return Response{}, errors.New("in-build scanner: the result has no rule statuses")
	}
	if buildContext != nil && resp.Context == nil {
		return Response{}, errors.New("in-build scanner: the build context was not scanned")
	}
	return resp, nil
}

// Main is the scanner: `hardenkit-frontend scan --request F --root DIR
// [--context DIR] --out F`. A check that cannot run is recorded in the
// result (StatusError) for the frontend to fail on; Main itself fails only
// when it cannot read its request or write its result.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fl := flag.NewFlagSet(Subcommand, flag.ContinueOnError)
	fl.SetOutput(stderr)
	reqPath := fl.String("request", "", "request JSON")
	root := fl.String("root", "", "root filesystem to inspect")
	contextRoot := fl.String("context", "", "build context to scan for secrets")
	outPath := fl.String("out", "", "result JSON to write")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *reqPath == "" || *root == "" || *outPath == "" || fl.NArg() != 0 {
		return errors.New("usage: scan --request FILE --root DIR [--context DIR] --out FILE")
	}
	var req Request
	if err := stepio.ReadRequest(*reqPath, &req); err != nil {
		return err
	}
	if req.Image == nil || req.Policy == nil {
		return errors.New("the request has no image config or no policy")
	}
	if req.Context != (*contextRoot != "") {
		return errors.New("the request and --context disagree on whether a build context is scanned")
	}
	resp, err := scan(ctx, req, *root, *contextRoot)
	if err != nil {
		return err
	}
	if err := stepio.WriteAnswer(*outPath, resp); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "hardenkit scan: %d findings, %d unscanned files, %d rules in error\n",
		len(resp.Image.Findings)+contextCount(resp.Context), len(resp.Image.Unscanned), len(resp.Image.Errors))
	return nil
}

func contextCount(c *ContextResult) int {
	if c == nil {
		return 0
	}
	return len(c.Findings)
}

// scan inspects root and, when given, the build context.
func scan(ctx context.Context, req Request, root, contextRoot string) (Response, error) {
	src := rootfs.DirSource(root)
	tree, err := rootfs.Load(ctx, src)
	if err != nil {
		return Response{}, fmt.Errorf("loading %s: %w", root, err)
	}
	res, err := inspect.Run(ctx, inspect.Input{Tree: tree, Src: src, Image: req.Image, Policy: req.Policy, Scope: inspect.ScopeFilesystem})
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
		fs, unscanned, stats, err := inspect.ContextSecrets(ctx, ctree, csrc, req.Policy)
		if err != nil {
			return Response{}, err
		}
		resp.Context = &ContextResult{Findings: fs, Unscanned: unscanned, Stats: stats}
	}
	return resp, nil
}
