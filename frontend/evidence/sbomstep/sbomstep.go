// Package sbomstep writes the SBOMs of a large image inside the build: the
// frontend image re-runs its own binary (`hardenkit-frontend sbom`) as an
// LLB exec step with the hardened root filesystem mounted read-only, and
// syft (frontend/evidence/sbom, the same code the frontend runs
// in-process) writes the SPDX and CycloneDX documents to an output mount.
//
// Why a step: an SBOM costs about 870 bytes per shipped file, and a
// document the frontend encodes itself can only reach BuildKit inside an
// LLB definition (llb.Mkfile), which travels in one gRPC message bounded by
// 16 MiB — about 19,000 files. The step's definition carries only the epoch;
// the documents stay in the build's cache, the attestations point at them,
// and the frontend reads the SPDX back in bounded ranges for the
// vulnerability gate and the compliance statement.
package sbomstep

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/moby/buildkit/client/llb"

	"github.com/hardenkit/hardenkit/frontend/evidence/sbom"
	"github.com/hardenkit/hardenkit/frontend/inspect/scanstep"
)

// Where the step finds its input and writes its documents, inside the
// step's container, and the documents' names in the output.
const (
	// Subcommand is the hardenkit-frontend subcommand that runs the step.
	Subcommand = "sbom"
	// SPDXFile and CycloneDXFile are the documents' names in the output.
	SPDXFile      = "sbom.spdx.json"
	CycloneDXFile = "sbom.cdx.json"
	rootDir       = "/hardenkit/rootfs"
	outDir        = "/hardenkit/out"
)

// Step returns the state of the step's output: a directory holding SPDXFile
// and CycloneDXFile for root. image has the hardenkit-frontend binary at
// scanstep.BinaryPath; epoch is the documents' creation time (the build's
// SOURCE_DATE_EPOCH); opts apply to the exec.
func Step(image, root llb.State, epoch time.Time, opts ...llb.RunOption) llb.State {
	args := []string{scanstep.BinaryPath, Subcommand,
		"--root", rootDir, "--epoch", strconv.FormatInt(epoch.Unix(), 10), "--out", outDir}
	runOpts := []llb.RunOption{
		llb.Args(args),
		llb.User("0:0"), // root-only files of the image must be readable
		llb.Network(llb.NetModeNone),
		llb.ReadonlyRootFS(),
		llb.AddMount(rootDir, root, llb.Readonly, llb.ContentCache(llb.MountContentCacheOff)), // keyed by definition: no hash of every file first (llb/harden/hardenstep)
		llb.WithCustomName("[hardenkit] SBOM of the hardened image (SPDX, CycloneDX)"),
	}
	run := image.Run(append(runOpts, opts...)...)
	return run.AddMount(outDir, llb.Scratch())
}

// Main is the step: `hardenkit-frontend sbom --root DIR --epoch SECONDS
// --out DIR`. It prints sizes only.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fl := flag.NewFlagSet(Subcommand, flag.ContinueOnError)
	fl.SetOutput(stderr)
	root := fl.String("root", "", "root filesystem to catalog")
	epoch := fl.Int64("epoch", -1, "creation time of the documents, unix seconds")
	out := fl.String("out", "", "directory to write "+SPDXFile+" and "+CycloneDXFile+" to")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *root == "" || *out == "" || *epoch < 0 || fl.NArg() != 0 {
		return errors.New("usage: sbom --root DIR --epoch SECONDS --out DIR")
	}
	doc, err := sbom.Generate(ctx, *root, sbom.Options{Epoch: time.Unix(*epoch, 0)})
	if err != nil {
		return err
	}
	for name, dt := range map[string][]byte{SPDXFile: doc.SPDX, CycloneDXFile: doc.CycloneDX} {
		if err := os.WriteFile(filepath.Join(*out, name), dt, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	fmt.Fprintf(stderr, "hardenkit sbom: %d packages; SPDX %d bytes, CycloneDX %d bytes\n", len(doc.Packages), len(doc.SPDX), len(doc.CycloneDX))
	return nil
}
