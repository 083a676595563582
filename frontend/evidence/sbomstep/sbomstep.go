// Package sbomstep writes the SBOMs of a large image inside the build: the
// frontend image re-runs its own binary (`hardenkit-frontend sbom`) as an
// in-build step (llb/step) with the hardened root filesystem mounted
// read-only, and syft (frontend/evidence/sbom, the same code the frontend
// runs in-process) writes the SPDX and CycloneDX documents to an output
// mount.
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
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/frontend/evidence/sbom"
	"github.com/hardenkit/hardenkit/llb/step"
)

// The step's subcommand, its documents' names in the output, and where it
// finds the filesystem it catalogs.
const (
	// Subcommand is the hardenkit-frontend subcommand that runs the step.
	Subcommand = "sbom"
	// SPDXFile and CycloneDXFile are the documents' names in the output.
	SPDXFile      = "sbom.spdx.json"
	CycloneDXFile = "sbom.cdx.json"
	rootFlag      = "root"
	rootDir       = "/hardenkit/rootfs"
	epochFlag     = "epoch"
)

// exec is the step for root: image has the hardenkit-frontend binary;
// epoch is the documents' creation time.
func exec(image, root llb.State, epoch time.Time, opts []llb.RunOption) step.Exec {
	return step.Exec{
		Image:      image,
		Subcommand: Subcommand,
		Mounts:     []step.Mount{{Flag: rootFlag, Dir: rootDir, State: root}},
		Args:       []string{"--" + epochFlag, strconv.FormatInt(epoch.Unix(), 10)},
		Name:       "[hardenkit] SBOM of the hardened image (SPDX, CycloneDX)",
		Opts:       opts,
	}
}

// Step returns the state of the step's output: a directory holding SPDXFile
// and CycloneDXFile for root. image has the hardenkit-frontend binary (the
// frontend's own image); epoch is the documents' creation time (the build's
// SOURCE_DATE_EPOCH); opts apply to the exec.
func Step(image, root llb.State, epoch time.Time, opts ...llb.RunOption) (llb.State, error) {
	return exec(image, root, epoch, opts).Output()
}

// Run runs the step through c and returns its output, as Step describes.
func Run(ctx context.Context, c gwclient.Client, image, root llb.State, epoch time.Time, opts ...llb.RunOption) (gwclient.Reference, error) {
	return step.Solve(ctx, c, exec(image, root, epoch, opts))
}

// Command is the step: `hardenkit-frontend sbom --root DIR --epoch SECONDS
// --out DIR`. It prints sizes only.
func Command() step.Command[struct{}] {
	return step.Command[struct{}]{
		Name: Subcommand,
		Flags: []step.Flag{
			{Name: rootFlag, Arg: "DIR", Usage: "root filesystem to catalog"},
			{Name: epochFlag, Arg: "SECONDS", Usage: "creation time of the documents, unix seconds"},
		},
		Run: runStep,
	}
}

// runStep writes the documents to the output directory; it answers
// nothing else.
func runStep(ctx context.Context, call step.Call[struct{}]) (any, error) {
	epoch, err := strconv.ParseInt(call.Flags[epochFlag], 10, 64)
	if err != nil || epoch < 0 {
		return nil, fmt.Errorf("--%s %q: want unix seconds, not negative", epochFlag, call.Flags[epochFlag])
	}
	doc, err := sbom.Generate(ctx, call.Flags[rootFlag], sbom.Options{Epoch: time.Unix(epoch, 0)})
	if err != nil {
		return nil, err
	}
	for name, dt := range map[string][]byte{SPDXFile: doc.SPDX, CycloneDXFile: doc.CycloneDX} {
		if err := os.WriteFile(filepath.Join(call.Out, name), dt, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
	}
	fmt.Fprintf(call.Stderr, "hardenkit sbom: %d packages; SPDX %d bytes, CycloneDX %d bytes\n", len(doc.Packages), len(doc.SPDX), len(doc.CycloneDX))
	return nil, nil
}
