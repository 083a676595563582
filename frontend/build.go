// Package frontend is hardenkit's BuildKit frontend: BuildKit's own
// Dockerfile frontend (dockerui + dockerfile2llb) with a hardening pipeline
// around the conversion. Build reads top to bottom as that pipeline.
package frontend

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwfrontend "github.com/moby/buildkit/frontend"
	"github.com/moby/buildkit/frontend/attestations/sbom"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/convertllb"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/result"
	"github.com/moby/buildkit/util/bkmaps"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Build is hardenkit's gateway BuildFunc with cfg. It is what `hardenkit
// build` runs in-process; the frontend image runs the package's Build.
//
// The pipeline: options → policy → static checks → convert → harden (LLB) →
// inspect → evidence → result.
func (cfg Config) Build(ctx context.Context, c client.Client) (_ *client.Result, err error) {
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

	// options
	frontendOpts := bc.BuildOpts().Opts
	if err := validateCaps(frontendOpts[options.OptFrontendCaps]); err != nil {
		return nil, err
	}
	opt, err := options.Parse(frontendOpts)
	if err != nil {
		return nil, err
	}

	src, err := bc.ReadEntrypoint(ctx, "Dockerfile")
	if err != nil {
		return nil, err
	}
	// dockerfile is what is parsed and converted; src, from here on, shows
	// the Dockerfile to the client with secret values masked.
	dockerfile := src.Data
	src = redactedSource(src)
	defer func() {
		err = withDockerfileSource(err, src.SourceMap)
	}()

	// policy
	times := &stepTimes{}
	stopTimer := times.start("policy")
	loaded, err := policysource.Load(ctx, bc, c, policysource.Request{
		Explicit:       opt.Policy,
		DockerfileName: src.Filename,
		Known:          catalog.Known,
		Now:            time.Now(),
		Frontend:       selfImage,
		Catalog:        catalog.All(),
	})
	if err != nil {
		return nil, err
	}
	stopTimer()
	if opt.Mode == options.ModeOff && !loaded.Policy.Controls.Mode.AllowOff {
		return nil, modeOffError(loaded.Policy)
	}
	if err := announcePolicy(ctx, src, loaded.Policy); err != nil {
		return nil, err
	}

	// static checks
	var findings []rules.Finding
	if opt.Mode == options.ModeEnforce {
		stopTimer := times.start("static-checks")
		if findings, err = staticFindings(ctx, bc, src, dockerfile, loaded); err != nil {
			return nil, err
		}
		ignore, err := bc.DockerIgnorePatterns(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading .dockerignore: %w", err)
		}
		triggers, err := onbuildFindings(ctx, c, bc, src, dockerfile, loaded, ignore)
		if err != nil {
			return nil, err
		}
		findings = append(findings, triggers...)
		stopTimer()
	}

	convertOpt := dockerfile2llb.ConvertOpt{
		Config:       bc.Config,
		Client:       bc,
		SourceMap:    src.SourceMap,
		MetaResolver: c,
		Warn: func(rulename, description, url, msg string, location []parser.Range) {
			startLine := 0
			if len(location) > 0 {
				startLine = location[0].Start.Line
			}
			msg = linter.LintFormatShort(rulename, msg, startLine)
			src.Warn(ctx, msg, warnOpts(location, [][]byte{[]byte(description)}, url))
		},
	}
	convertOpt.BuildArgs = options.StripBuildArgs(bc.BuildArgs)

	if res, ok, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{
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
			mergeLint(res, src, findings)
			return res, nil
		},
		ConvertLLB: func(ctx context.Context) (*convertllb.Result, error) {
			return dockerfile2llb.DockerfileConvertLLB(ctx, dockerfile, convertOpt)
		},
	}); err != nil {
		return nil, err
	} else if ok {
		return res, nil
	}

	if err := reportStatic(ctx, src, findings); err != nil {
		return nil, err
	}

	// With hardening on, hardenkit attaches its own SBOM of what ships; off,
	// BuildKit's scanner runs as it would for dockerfile.v0.
	var scanner sbom.Scanner
	if opt.Mode == options.ModeOff {
		if scanner, err = sbomScanner(ctx, c, bc); err != nil {
			return nil, err
		}
	}
	var scanTargets bkmaps.SyncMap[string, scanTarget]
	var evidence bkmaps.SyncMap[string, platformEvidence]

	// The vulnerability gate's inputs, read once for every platform.
	var vulnDB string
	var vex [][]byte
	if opt.Mode == options.ModeEnforce {
		var cleanup func()
		if vulnDB, cleanup, err = loadVulnDB(ctx, bc, c); err != nil {
			return nil, err
		}
		defer cleanup()
		if vex, err = loadVEX(ctx, bc, c); err != nil {
			return nil, err
		}
	}

	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, idx int) (*dockerui.BuildResult, error) {
		popt := convertOpt
		popt.BuildArgs = maps.Clone(convertOpt.BuildArgs)
		popt.TargetPlatform = platform
		if idx != 0 {
			// Warnings are the same for every platform: report them once.
			popt.Warn = nil
		}
		var epoch time.Time
		if opt.Mode == options.ModeEnforce {
			var known bool
			if epoch, known, err = resolveEpoch(ctx, bc, popt.BuildArgs, loaded.Policy.Controls.Epoch.Default); err != nil {
				return nil, err
			}
			if known {
				popt.BuildArgs[options.KeySourceDateEpoch] = strconv.FormatInt(epoch.Unix(), 10)
			}
		}

		// convert
		pt := times.fork()
		stopTimer := pt.start("convert")
		dfRes, err := dockerfile2llb.Dockerfile2LLB(ctx, dockerfile, popt)
		if err != nil {
			return nil, err
		}
		stopTimer()
		out := &dockerui.BuildResult{Image: dfRes.Image, BaseImage: dfRes.BaseImage, Epoch: dfRes.Epoch}
		st := dfRes.State

		// harden (LLB), with the result re-read and verified
		if opt.Mode == options.ModeEnforce {
			if dfRes.Epoch != nil {
				epoch = dfRes.Epoch.UTC()
			}
			// A symbolic SOURCE_DATE_EPOCH that dockerfile2llb could not
			// resolve must not become year 1 in the image.
			if epoch.IsZero() {
				return nil, fmt.Errorf("SOURCE_DATE_EPOCH=%q did not resolve to a time: give unix seconds", popt.BuildArgs[options.KeySourceDateEpoch])
			}
			// The build context's commit time, a stage or the policy's
			// default can be as far off as the build arg itself.
			if err := options.CheckEpochTime("the resolved SOURCE_DATE_EPOCH", epoch); err != nil {
				return nil, err
			}
			stopTimer := pt.start("decide")
			hardened, verify, err := hardenPlatform(ctx, c, bc, selfImage, src, dockerfile, popt, dfRes, platformOrDefault(platform), epoch, loaded)
			if err != nil {
				return nil, err
			}
			stopTimer()
			st = hardened.State
			out.Image, out.BaseImage, out.Epoch = hardened.Image, nil, &epoch

			// inspect: what ships, and the context files the build copies
			copies, err := contextCopies(dockerfile, popt.Target, popt.BuildArgs, platformOrDefault(platform), bc.BuildPlatforms[0])
			if err != nil {
				return nil, fmt.Errorf("reading the Dockerfile's COPY and ADD sources: %w", err)
			}
			origins, err := shippedOrigins(dockerfile, src.Filename, popt.Target, popt.BuildArgs, platformOrDefault(platform), bc.BuildPlatforms[0])
			if err != nil {
				return nil, fmt.Errorf("reading the shipped stage's instructions: %w", err)
			}
			evIn := evidenceInput{
				hardened: hardened,
				epoch:    epoch,
				loaded:   loaded,
				vulnDB:   vulnDB,
				vex:      vex,
				warn: func(msg string) {
					if idx == 0 {
						src.Warn(ctx, msg, client.WarnOpts{Level: 1})
					}
				},
				self:         selfImage,
				noCache:      noCacheAll(bc),
				platform:     platformID(platform),
				out:          cfg,
				sessionID:    bc.BuildOpts().SessionID,
				cacheImports: bc.CacheImports,
				timings:      pt,
			}
			// verify, inspect, and start the SBOM of what ships
			sbomCtx, stopSBOM := context.WithCancel(ctx)
			defer stopSBOM()
			ins, err := verifyAndInspect(ctx, sbomCtx, c, bc, verify, &hardened, &evIn, inspectInput{
				origins:    origins,
				loaded:     loaded,
				buildArgs:  convertOpt.BuildArgs,
				copies:     copies,
				scanner:    selfImage,
				noCache:    noCacheAll(bc),
				dockerfile: src.Filename,
				static:     findings,
			})
			if err != nil {
				return nil, err
			}
			if err := reportInspection(ctx, src, ins, idx == 0); err != nil {
				return nil, err
			}

			// evidence: SBOM of the verified filesystem, compliance statement
			evIn.inspection = ins
			evIn.findings = slices.Concat(findings, hardened.Findings, ins.findings)
			ev, err := collectEvidence(ctx, c, evIn)
			if err != nil {
				return nil, err
			}
			evidence.Store(platformID(platform), ev)
		}

		ref, err := solveState(ctx, c, st, bc.CacheImports)
		if err != nil {
			return nil, err
		}
		out.Reference = ref

		// The SBOM scan sees the filesystem that ships.
		scanTargets.Store(platformID(platform), scanTarget{
			core:        st,
			extras:      sbomExtras(dfRes),
			ignoreCache: dfRes.IsIgnoreCache,
		})
		return out, nil
	})
	if err != nil {
		return nil, err
	}

	// evidence
	if err := rb.EachPlatform(ctx, func(ctx context.Context, id string, _ ocispecs.Platform) error {
		ev, ok := evidence.Load(id)
		if !ok {
			return nil
		}
		attachEvidence(rb, id, ev)
		return nil
	}); err != nil {
		return nil, err
	}
	if scanner != nil {
		if err := attachSBOMs(ctx, c, rb, scanner, &scanTargets); err != nil {
			return nil, err
		}
	}
	return rb.Finalize()
}

// solveState evaluates st and returns its single result reference.
func solveState(ctx context.Context, c client.Client, st llb.State, cacheImports []client.CacheOptionsEntry) (client.Reference, error) {
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, fmt.Errorf("marshaling LLB definition: %w", err)
	}
	r, err := c.Solve(ctx, client.SolveRequest{
		Definition:   def.ToPB(),
		CacheImports: cacheImports,
	})
	if err != nil {
		return nil, err
	}
	ref, err := r.SingleRef()
	if err != nil {
		return nil, fmt.Errorf("reading solve result: %w", err)
	}
	return ref, nil
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
			def, err := st.Marshal(ctx)
			if err != nil {
				return nil, err
			}
			r, err := c.Solve(ctx, gwfrontend.SolveRequest{Definition: def.ToPB()})
			if err != nil {
				return nil, err
			}
			return r.Ref, nil
		})
		if err != nil {
			return fmt.Errorf("solving SBOM attestation for %s: %w", id, err)
		}
		rb.AddAttestation(id, *solved)
		return nil
	})
}
