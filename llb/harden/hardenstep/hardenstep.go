// Package hardenstep runs hardening's filesystem work inside the build: the
// frontend image re-runs its own binary (`hardenkit-frontend harden`) as
// LLB exec steps, one that decides what ships from the shipped stage and
// its base (harden.DecideFS) and one that verifies the hardened result
// (harden.VerifyFS), each with its filesystems mounted read-only and its
// answer written as JSON to an output mount the frontend reads back once.
//
// Why steps: read over the gateway, every directory and every file the
// analysis looks at is a round trip, on every build. As exec steps,
// BuildKit caches the answers by the digest of their inputs: a rebuild
// that changes nothing re-runs neither, a changed application file re-runs
// what depends on it, and the steps show in the build's progress with
// their time.
//
// A step's definition is recorded in the build cache and in provenance,
// so the request carries the image config without labels, history and
// environment values other than PATH and LD_LIBRARY_PATH, which the
// analysis needs to find programs and libraries. The step prints counts,
// never paths of findings.
package hardenstep

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/stepio"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Subcommand is the hardenkit-frontend subcommand that runs a step.
const Subcommand = "harden"

// Where a step finds its inputs and writes its answer, inside its
// container. The binary's path is the one the scan step uses.
const (
	binaryPath  = "/bin/hardenkit-frontend"
	dir         = "/hardenkit"
	inDir       = dir + "/in"
	finalDir    = dir + "/final"
	baseDir     = dir + "/base"
	indexFile   = "tree.json"
	outDir      = dir + "/out"
	requestFile = "request.json"
	resultFile  = "result.json"
)

// The operations a step runs. index lists the base once, so that a build
// whose application changed re-reads only the shipped stage: the listing
// is cached by the base's digest.
const (
	opIndex  = "index"
	opDecide = "decide"
	opVerify = "verify"
)

// request is what a step is asked.
type request struct {
	Op     string        `json:"op"`
	Params harden.Params `json:"params"`
	// User is the hardened config's USER (verify only).
	User string `json:"user,omitempty"`
}

// response is a step's answer: exactly one of Decision, Verification,
// Violations and Error is set.
type response struct {
	Decision     *harden.Decision     `json:"decision,omitempty"`
	Verification *harden.Verification `json:"verification,omitempty"`
	Violations   harden.Violations    `json:"violations,omitempty"`
	Error        string               `json:"error,omitempty"`
}

// noContentHash keys a step's cache on its input's definition, not on a
// hash of the mounted files: BuildKit would otherwise read every byte of
// the filesystem to hash it before the step may run (about 20 s for 1 GiB),
// and the definition of a stage already changes with its content (COPY
// sources, images, RUNs are keyed by what they read).
var noContentHash = llb.ContentCache(llb.MountContentCacheOff)

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
	mounts := []llb.RunOption{llb.AddMount(finalDir, in.Final, llb.Readonly, noContentHash)}
	args := []string{"--final", finalDir}
	if in.Base != nil {
		index := a.step(request{Op: opIndex}, []string{"--final", finalDir},
			[]llb.RunOption{llb.AddMount(finalDir, *in.Base, llb.Readonly, noContentHash)}, "[hardenkit] list the base "+in.BaseName, indexFile)
		mounts = append(mounts, llb.AddMount(baseDir, index, llb.Readonly, noContentHash))
		args = append(args, "--base-index", baseDir+"/"+indexFile)
	}
	resp, err := a.run(ctx, request{Op: opDecide, Params: stepParams(in.Params())}, args, mounts,
		"[hardenkit] decide what ships: executables, runtime closure, tooling, user")
	if err != nil {
		return harden.Decision{}, err
	}
	if resp.Decision == nil {
		return harden.Decision{}, errors.New("in-build hardening step: the answer has no decision")
	}
	return *resp.Decision, nil
}

// Verify implements harden.Analyzer.
func (a Analyzer) Verify(ctx context.Context, hardened llb.State, in harden.Input, img *dockerspec.DockerOCIImage) (harden.Verification, error) {
	resp, err := a.run(ctx, request{Op: opVerify, Params: stepParams(in.Params()), User: img.Config.User},
		[]string{"--final", finalDir}, []llb.RunOption{llb.AddMount(finalDir, hardened, llb.Readonly, noContentHash)},
		"[hardenkit] verify the hardened filesystem")
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

// step is the output of one step: a directory holding out.
func (a Analyzer) step(req request, args []string, mounts []llb.RunOption, name, out string) llb.State {
	// request holds no map and no type with custom encoding that could
	// fail; a failure would be a bug, and shows as an empty request the
	// step refuses.
	dt, _ := json.Marshal(req)
	runOpts := append([]llb.RunOption{
		llb.Args(append([]string{binaryPath, Subcommand, "--request", inDir + "/" + requestFile, "--out", outDir + "/" + out}, args...)),
		llb.User("0:0"), // the mounted filesystems' root-only files must be readable
		llb.Network(llb.NetModeNone),
		llb.ReadonlyRootFS(),
		llb.AddMount(inDir, llb.Scratch().File(llb.Mkfile(requestFile, 0o444, dt), llb.WithCustomName("[hardenkit] hardening request")), llb.Readonly),
		llb.WithCustomName(name),
	}, mounts...)
	if a.NoCache {
		runOpts = append(runOpts, llb.IgnoreCache)
	}
	return a.Image.Run(runOpts...).AddMount(outDir, llb.Scratch())
}

// run solves one step and decodes its answer; Violations and errors the
// analysis returned come back as errors.
func (a Analyzer) run(ctx context.Context, req request, args []string, mounts []llb.RunOption, name string) (response, error) {
	var resp response
	if err := stepio.Answer(ctx, a.Client, a.step(req, args, mounts, name, resultFile), resultFile, fmt.Sprintf("in-build hardening step %q", name), &resp); err != nil {
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

// Main is the step: `hardenkit-frontend harden --request F --out F --final
// DIR [--base-index F]`. What the analysis decides — including a control that
// failed or could not run — is written to the answer for the frontend to
// act on; Main itself fails only when it cannot read its request or write
// its answer.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fl := flag.NewFlagSet(Subcommand, flag.ContinueOnError)
	fl.SetOutput(stderr)
	reqPath := fl.String("request", "", "request JSON")
	outPath := fl.String("out", "", "answer JSON to write")
	final := fl.String("final", "", "the filesystem to analyse: the shipped stage (decide) or the hardened one (verify)")
	baseIndex := fl.String("base-index", "", "the listing of the shipped stage's base, written by the index operation (decide)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *reqPath == "" || *outPath == "" || *final == "" || fl.NArg() != 0 {
		return errors.New("usage: harden --request FILE --out FILE --final DIR [--base-index FILE]")
	}
	var req request
	if err := stepio.ReadRequest(*reqPath, &req); err != nil {
		return err
	}
	if req.Op != opIndex && (req.Params.Image == nil || req.Params.Policy == nil) {
		return errors.New("the request has no image config or no policy")
	}
	if req.Op == opIndex {
		tree, err := rootfs.Load(ctx, rootfs.DirSource(*final))
		if err != nil {
			return fmt.Errorf("listing %s: %w", *final, err)
		}
		fmt.Fprintf(stderr, "hardenkit: listed %d entries\n", len(tree.Entries()))
		return stepio.WriteAnswer(*outPath, tree.Entries())
	}
	resp, err := answer(ctx, req, *final, *baseIndex, stderr)
	if err != nil {
		return err
	}
	return stepio.WriteAnswer(*outPath, resp)
}

// readIndex is the BaseTree of a listing that index wrote.
func readIndex(file string) harden.BaseTree {
	return func(context.Context) (*rootfs.Tree, error) {
		var entries []rootfs.Entry
		if err := stepio.ReadRequest(file, &entries); err != nil {
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
