package frontend

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/solve"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// hardenedBuild is what every platform of a hardened build shares, read
// only once the platforms start.
type hardenedBuild struct {
	*build
	// static are the static checks' findings, exceptions applied.
	static []rules.Finding
	// vulnDB is the grype database directory ("" when none was given) and
	// vex the OpenVEX documents of the build.
	vulnDB string
	vex    [][]byte
}

// warnFunc shows a warning in the client's progress.
type warnFunc func(ctx context.Context, msg string, opts client.WarnOpts)

// platformBuild is one platform's hardened build. Its methods are the
// pipeline's stages in order — convert, harden, verify and inspect,
// evidence — and each returns what the next one reads.
type platformBuild struct {
	hardenedBuild
	platform ocispecs.Platform
	// requested is the platform as dockerui gives it (nil: the default).
	requested *ocispecs.Platform
	id        string
	// first marks the first platform. Every platform finds the same
	// warnings, so warn shows the first platform's and drops the others.
	first bool
	warn  warnFunc
	times *stepTimes
}

// platform starts the build of one platform.
func (h hardenedBuild) platform(p *ocispecs.Platform, first bool) *platformBuild {
	warn := h.df.src.Warn
	if !first {
		warn = func(context.Context, string, client.WarnOpts) {}
	}
	return &platformBuild{hardenedBuild: h, platform: platformOrDefault(p), requested: p, id: platformID(p), first: first, warn: warn, times: h.times.fork()}
}

// run is the platform's pipeline.
func (p *platformBuild) run(ctx context.Context) (*dockerui.BuildResult, platformEvidence, error) {
	cv, err := p.convert(ctx)
	if err != nil {
		return nil, platformEvidence{}, err
	}
	planned, err := p.harden(ctx, cv)
	if err != nil {
		return nil, platformEvidence{}, err
	}
	// The SBOM starts beside verification and inspection; it is waited
	// for by evidence, and stopped if the build fails first.
	sbomCtx, stopSBOM := context.WithCancel(ctx)
	defer stopSBOM()
	// The smoke test (HK2060) runs beside them too; nothing is exported
	// before it passes.
	smokeCtx, stopSmoke := context.WithCancel(ctx)
	defer stopSmoke()
	smokeTest := p.startSmoke(smokeCtx, cv, planned.res)
	vd, err := p.verifyAndInspect(ctx, sbomCtx, cv, planned)
	if err != nil {
		return nil, platformEvidence{}, err
	}
	sm, err := smokeTest.wait(ctx)
	if err != nil {
		return nil, platformEvidence{}, err
	}
	ev, err := p.evidence(ctx, cv, vd, sm)
	if err != nil {
		return nil, platformEvidence{}, err
	}
	ref, err := solve.Ref(ctx, p.c, vd.hardened.State, p.bc.CacheImports)
	if err != nil {
		return nil, platformEvidence{}, err
	}
	return &dockerui.BuildResult{Reference: ref, Image: vd.hardened.Image, Epoch: &cv.epoch}, ev, nil
}

// converted is one platform's conversion and the Dockerfile model's view
// of that build.
type converted struct {
	opt   dockerfile2llb.ConvertOpt
	res   *dockerfile2llb.Result
	epoch time.Time
	// shipped, origins and copies are what the model says of this
	// platform's build: the stage it exports, the instruction that
	// wrote each path, and the context files it copies in.
	shipped dockerfilemodel.Shipped
	origins dockerfilemodel.Origins
	copies  []dockerfilemodel.ContextCopy
}

// convert converts the Dockerfile for the platform with a resolved
// SOURCE_DATE_EPOCH, and reads the model for the same build.
func (p *platformBuild) convert(ctx context.Context) (converted, error) {
	popt := p.platformOpt(p.requested, p.first)
	epoch, known, err := resolveEpoch(ctx, p.bc, popt.BuildArgs, p.loaded.Policy.Controls.Epoch.Default)
	if err != nil {
		return converted{}, err
	}
	if known {
		popt.BuildArgs[options.KeySourceDateEpoch] = strconv.FormatInt(epoch.Unix(), 10)
	}
	stopTimer := p.times.start("convert")
	dfRes, err := dockerfile2llb.Dockerfile2LLB(ctx, p.df.data, popt)
	if err != nil {
		return converted{}, err
	}
	stopTimer()
	if dfRes.Epoch != nil {
		epoch = dfRes.Epoch.UTC()
	}
	// A symbolic SOURCE_DATE_EPOCH that dockerfile2llb could not resolve
	// must not become year 1 in the image.
	if epoch.IsZero() {
		return converted{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q did not resolve to a time: give unix seconds", popt.BuildArgs[options.KeySourceDateEpoch])
	}
	// The build context's commit time, a stage or the policy's default
	// can be as far off as the build arg itself.
	if err := options.CheckEpochTime("the resolved SOURCE_DATE_EPOCH", epoch); err != nil {
		return converted{}, err
	}
	cv := converted{opt: popt, res: dfRes, epoch: epoch}
	if err := p.readModel(&cv); err != nil {
		return converted{}, err
	}
	return cv, nil
}

// readModel fills in what the Dockerfile model says of cv's build.
func (p *platformBuild) readModel(cv *converted) error {
	if p.df.parseErr != nil {
		return p.df.parseErr
	}
	view, err := p.df.model.For(dockerfilemodel.Target{Stage: cv.opt.Target, BuildArgs: cv.opt.BuildArgs, Platform: p.platform, BuildPlatform: p.bc.BuildPlatforms[0]})
	if err != nil {
		return fmt.Errorf("reading the shipped stage: %w", err)
	}
	if cv.shipped, err = view.Shipped(); err != nil {
		return fmt.Errorf("reading the shipped stage: %w", err)
	}
	if cv.copies, err = view.ContextCopies(); err != nil {
		return fmt.Errorf("reading the Dockerfile's COPY and ADD sources: %w", err)
	}
	if cv.origins, err = view.Origins(p.df.src.Filename); err != nil {
		return fmt.Errorf("reading the shipped stage's instructions: %w", err)
	}
	return nil
}

// harden plans the hardening of the converted build (hardenPlatform).
func (p *platformBuild) harden(ctx context.Context, cv converted) (plannedBuild, error) {
	defer p.times.start("decide")()
	return hardenPlatform(ctx, p, cv)
}

// verified is a hardened build that passed verification, with what
// inspecting it found and its SBOM under way.
type verified struct {
	hardened harden.Result
	ins      inspection
	sbom     *pendingSBOM
}

// evidence reports what inspection found and writes the platform's SBOM
// and compliance statement, with the smoke test's record.
func (p *platformBuild) evidence(ctx context.Context, cv converted, vd verified, sm smokeOutcome) (platformEvidence, error) {
	if err := reportInspection(ctx, p.warn, p.df.src.SourceMap, vd.ins); err != nil {
		return platformEvidence{}, err
	}
	in := p.evidenceInput(ctx, cv, vd.hardened)
	in.inspection, in.sbom, in.smoke = vd.ins, vd.sbom, sm.record
	in.findings = slices.Concat(p.static, vd.hardened.Findings, vd.ins.findings, sm.findings)
	return collectEvidence(ctx, p.c, in)
}

// evidenceInput is what the platform's evidence is made from, for the
// hardened build h.
func (p *platformBuild) evidenceInput(ctx context.Context, cv converted, h harden.Result) evidenceInput {
	return evidenceInput{
		hardened: h,
		epoch:    cv.epoch,
		loaded:   p.loaded,
		vulnDB:   p.vulnDB,
		vex:      p.vex,
		warn: func(msg string) {
			p.warn(ctx, msg, client.WarnOpts{Level: 1})
		},
		self:         p.self,
		noCache:      noCacheAll(p.bc),
		platform:     p.id,
		out:          p.cfg,
		sessionID:    p.bc.BuildOpts().SessionID,
		cacheImports: p.bc.CacheImports,
		timings:      p.times,
		rebuild:      rebuildInput{bc: p.bc, self: p.self, hardened: h.State, platform: p.id},
	}
}
