// Package frontend is hardenkit's BuildKit frontend: BuildKit's own
// Dockerfile frontend (dockerui + dockerfile2llb) with a hardening pipeline
// around the conversion. Build reads top to bottom as that pipeline.
package frontend

import (
	"context"
	"fmt"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/attestations/sbom"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/result"
	"github.com/moby/buildkit/util/bkmaps"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/llb/solve"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Build is hardenkit's gateway BuildFunc with cfg. It is what `hardenkit
// build` runs in-process; the frontend image runs the package's Build.
//
// The pipeline: options → Dockerfile (parsed once) → policy → static
// checks → per platform: convert → harden → verify and inspect → evidence
// → result. HARDENKIT_MODE=off converts and nothing else.
func (cfg Config) Build(ctx context.Context, c client.Client) (*client.Result, error) {
	// The frontend's own image runs the in-build scanner; nil in-process.
	selfImage, err := currentFrontend(c)
	if err != nil {
		return nil, err
	}
	c = withResolveCache(c)
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, fmt.Errorf("reading build options: %w", err)
	}
	opt, err := buildOptions(bc)
	if err != nil {
		return nil, err
	}
	df, err := cfg.readDockerfile(ctx, bc)
	if err != nil {
		return nil, err
	}
	b := &build{cfg: cfg, c: c, bc: bc, df: df, self: selfImage, times: &stepTimes{}}
	res, err := b.run(ctx, opt)
	return res, withDockerfileSource(err, df.src.SourceMap)
}

// run is Build once the Dockerfile is read.
func (b *build) run(ctx context.Context, opt options.Options) (*client.Result, error) {
	if err := b.loadPolicy(ctx, opt); err != nil {
		return nil, err
	}
	var findings []rules.Finding
	if opt.Mode == options.ModeEnforce {
		stopTimer := b.times.start("static-checks")
		var err error
		if findings, err = staticFindings(ctx, b.c, b.bc, b.df, b.loaded); err != nil {
			return nil, err
		}
		stopTimer()
	}
	b.convertOpt = b.convertOptions(ctx)
	if res, ok, err := b.handleSubrequest(ctx, opt, findings); err != nil || ok {
		return res, err
	}
	if err := reportStatic(ctx, b.df.src, findings); err != nil {
		return nil, err
	}
	if opt.Mode == options.ModeOff {
		return b.plain(ctx)
	}
	return b.hardened(ctx, findings)
}

func platformID(p *ocispecs.Platform) string {
	spec := platforms.DefaultSpec()
	if p != nil {
		spec = *p
	}
	return platforms.FormatAll(platforms.Normalize(spec))
}

// scanTarget is what BuildKit's SBOM scanner protocol scans for one platform.
type scanTarget struct {
	core        llb.State
	extras      map[string]llb.State
	ignoreCache bool
}

func sbomExtras(dfRes *dockerfile2llb.Result) map[string]llb.State {
	if dfRes.SBOM == nil {
		return nil
	}
	return dfRes.SBOM.Extras
}

// sbomScanner starts BuildKit's SBOM scanner when the request asks for an
// SBOM attestation, exactly as dockerfile.v0 does.
func sbomScanner(ctx context.Context, c client.Client, bc *dockerui.Client) (sbom.Scanner, error) {
	if bc.SBOM == nil {
		return nil, nil
	}
	scannerPlatform := bc.BuildPlatforms[0]
	scanner, err := sbom.CreateSBOMScanner(ctx, c, bc.SBOM.Generator, scannerPlatform, sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{
			ResolveMode: bc.BuildOpts().Opts[options.OptImageResolveMode],
			Platform:    &scannerPlatform,
		},
	}, bc.SBOM.Parameters)
	if err != nil {
		return nil, fmt.Errorf("starting SBOM scanner %s: %w", bc.SBOM.Generator, err)
	}
	return scanner, nil
}

func attachSBOMs(ctx context.Context, c client.Client, rb *dockerui.ResultBuilder, scanner sbom.Scanner, targets *bkmaps.SyncMap[string, scanTarget]) error {
	return rb.EachPlatform(ctx, func(ctx context.Context, id string, _ ocispecs.Platform) error {
		target, ok := targets.Load(id)
		if !ok {
			return fmt.Errorf("no SBOM scan target for platform %s", id)
		}
		var opts []llb.ConstraintsOpt
		if target.ignoreCache {
			opts = append(opts, llb.IgnoreCache)
		}
		att, err := scanner(ctx, id, target.core, target.extras, opts...)
		if err != nil {
			return fmt.Errorf("scanning %s for an SBOM: %w", id, err)
		}
		solved, err := result.ConvertAttestation(&att, func(st *llb.State) (client.Reference, error) {
			return solve.Ref(ctx, c, *st, nil)
		})
		if err != nil {
			return fmt.Errorf("solving SBOM attestation for %s: %w", id, err)
		}
		rb.AddAttestation(id, *solved)
		return nil
	})
}
