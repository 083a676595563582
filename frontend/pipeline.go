package frontend

import (
	"context"
	"maps"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/convertllb"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/util/bkmaps"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/llb/solve"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// build is one build's state shared by every platform. It is filled in
// before the platforms start and only read after, so the per-platform
// goroutines dockerui runs share it without locks.
type build struct {
	cfg        Config
	c          client.Client
	bc         *dockerui.Client
	df         buildDockerfile
	self       *llb.State
	times      *stepTimes
	loaded     *policysource.Loaded
	convertOpt dockerfile2llb.ConvertOpt
}

// buildDockerfile is the build's Dockerfile: the text dockerfile2llb
// converts, its one parse, and the source shown to the client.
type buildDockerfile struct {
	data []byte
	// model is data parsed once for the build; nil when it does not
	// parse, and parseErr says why (dockerfile2llb reports that itself
	// when hardening is off).
	model    *dockerfilemodel.File
	parseErr error
	// src shows the Dockerfile to the client with secret values masked.
	src *dockerui.Source
}

// buildOptions reads and checks the request's options.
func buildOptions(bc *dockerui.Client) (options.Options, error) {
	frontendOpts := bc.BuildOpts().Opts
	if err := validateCaps(frontendOpts[options.OptFrontendCaps]); err != nil {
		return options.Options{}, err
	}
	return options.Parse(frontendOpts)
}

// readDockerfile reads the Dockerfile and parses it, once for the build.
func (cfg Config) readDockerfile(ctx context.Context, bc *dockerui.Client) (buildDockerfile, error) {
	src, err := bc.ReadEntrypoint(ctx, "Dockerfile")
	if err != nil {
		return buildDockerfile{}, err
	}
	parse := cfg.parse
	if parse == nil {
		parse = dockerfilecheck.Parse
	}
	model, parseErr := parse(src.Data, src.Filename)
	return buildDockerfile{data: src.Data, model: model, parseErr: parseErr, src: redactedSource(src, model)}, nil
}

// loadPolicy loads the build's policy and exceptions, refuses
// HARDENKIT_MODE=off when the policy forbids it, and announces the policy.
func (b *build) loadPolicy(ctx context.Context, opt options.Options) error {
	stopTimer := b.times.start("policy")
	loaded, err := policysource.Load(ctx, b.bc, b.c, policysource.Request{
		Explicit:       opt.Policy,
		DockerfileName: b.df.src.Filename,
		Known:          catalog.Known,
		Now:            time.Now(),
		Frontend:       b.self,
		Catalog:        catalog.All(),
	})
	if err != nil {
		return err
	}
	stopTimer()
	if opt.Mode == options.ModeOff && !loaded.Policy.Controls.Mode.AllowOff {
		return modeOffError(loaded.Policy)
	}
	b.loaded = loaded
	return announcePolicy(ctx, b.df.src, loaded.Policy)
}

// convertOptions are dockerfile2llb's options for the build, warnings
// shown with the redacted Dockerfile.
func (b *build) convertOptions(ctx context.Context) dockerfile2llb.ConvertOpt {
	src := b.df.src
	opt := dockerfile2llb.ConvertOpt{
		Config:       b.bc.Config,
		Client:       b.bc,
		SourceMap:    src.SourceMap,
		MetaResolver: b.c,
		Warn: func(rulename, description, url, msg string, location []parser.Range) {
			startLine := 0
			if len(location) > 0 {
				startLine = location[0].Start.Line
			}
			msg = linter.LintFormatShort(rulename, msg, startLine)
			src.Warn(ctx, msg, warnOpts(location, [][]byte{[]byte(description)}, url))
		},
	}
	opt.BuildArgs = options.StripBuildArgs(b.bc.BuildArgs)
	return opt
}

// handleSubrequest answers outline, targets, lint (with hardenkit's
// findings merged in) and convert requests; ok is false for a build.
func (b *build) handleSubrequest(ctx context.Context, opt options.Options, findings []rules.Finding) (*client.Result, bool, error) {
	dockerfile, convertOpt := b.df.data, b.convertOpt
	return b.bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			return dockerfile2llb.Dockerfile2Outline(ctx, dockerfile, convertOpt)
		},
		ListTargets: func(ctx context.Context) (*targets.List, error) {
			return dockerfile2llb.ListTargets(ctx, dockerfile)
		},
		Lint: func(ctx context.Context) (*lint.LintResults, error) {
			res, err := dockerfile2llb.DockerfileLint(ctx, dockerfile, convertOpt)
			if err != nil || opt.Mode == options.ModeOff {
				return res, err
			}
			mergeLint(res, b.df.src, findings)
			return res, nil
		},
		ConvertLLB: func(ctx context.Context) (*convertllb.Result, error) {
			return dockerfile2llb.DockerfileConvertLLB(ctx, dockerfile, convertOpt)
		},
	})
}

// platformOpt is the conversion options of one platform; warnings, the
// same for every platform, are shown for the first only.
func (b *build) platformOpt(platform *ocispecs.Platform, first bool) dockerfile2llb.ConvertOpt {
	popt := b.convertOpt
	popt.BuildArgs = maps.Clone(b.convertOpt.BuildArgs)
	popt.TargetPlatform = platform
	if !first {
		popt.Warn = nil
	}
	return popt
}

// plain is the build with hardening off: dockerfile2llb's conversion, and
// BuildKit's SBOM scanner when the request asks for an SBOM, exactly as
// dockerfile.v0 does.
func (b *build) plain(ctx context.Context) (*client.Result, error) {
	scanner, err := sbomScanner(ctx, b.c, b.bc)
	if err != nil {
		return nil, err
	}
	var scanTargets bkmaps.SyncMap[string, scanTarget]
	rb, err := b.bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, idx int) (*dockerui.BuildResult, error) {
		dfRes, err := dockerfile2llb.Dockerfile2LLB(ctx, b.df.data, b.platformOpt(platform, idx == 0))
		if err != nil {
			return nil, err
		}
		ref, err := solve.Ref(ctx, b.c, dfRes.State, b.bc.CacheImports)
		if err != nil {
			return nil, err
		}
		// The SBOM scan sees the filesystem that ships.
		scanTargets.Store(platformID(platform), scanTarget{core: dfRes.State, extras: sbomExtras(dfRes), ignoreCache: dfRes.IsIgnoreCache})
		return &dockerui.BuildResult{Reference: ref, Image: dfRes.Image, BaseImage: dfRes.BaseImage, Epoch: dfRes.Epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	if scanner != nil {
		if err := attachSBOMs(ctx, b.c, rb, scanner, &scanTargets); err != nil {
			return nil, err
		}
	}
	return rb.Finalize()
}

// hardened is the build with hardening on: every platform converted,
// hardened, verified, inspected and given its evidence.
func (b *build) hardened(ctx context.Context, findings []rules.Finding) (*client.Result, error) {
	// The vulnerability gate's inputs, read once for every platform.
	vulnDB, cleanup, err := loadVulnDB(ctx, b.bc, b.c)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	vex, err := loadVEX(ctx, b.bc, b.c)
	if err != nil {
		return nil, err
	}
	shared := hardenedBuild{build: b, static: findings, vulnDB: vulnDB, vex: vex}
	var evidence bkmaps.SyncMap[string, platformEvidence]
	rb, err := b.bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, idx int) (*dockerui.BuildResult, error) {
		p := shared.platform(platform, idx == 0)
		out, ev, err := p.run(ctx)
		if err != nil {
			return nil, err
		}
		evidence.Store(p.id, ev)
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	if err := rb.EachPlatform(ctx, func(ctx context.Context, id string, _ ocispecs.Platform) error {
		if ev, ok := evidence.Load(id); ok {
			attachEvidence(rb, id, ev)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return rb.Finalize()
}
