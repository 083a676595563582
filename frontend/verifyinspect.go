package frontend

import (
	"context"
	"slices"

	"github.com/hardenkit/hardenkit/llb/harden"
)

// verifyAndInspect verifies the planned hardened build, inspects it and
// starts its SBOM (under sbomCtx), and returns the verified build with the
// verification's findings added.
//
// From the frontend image the three are build steps over the same planned
// filesystem that need nothing of each other, so they run side by side, and
// a verification failure is reported before anything inspection found.
// In-process, inspection and the SBOM read the filesystem that
// verification loaded, so verification comes first.
func (p *platformBuild) verifyAndInspect(ctx, sbomCtx context.Context, cv converted, planned plannedBuild) (verified, error) {
	verify := timed(p.times, "verify", planned.verify)
	inspect := func(ctx context.Context, h harden.Result) (inspection, error) {
		defer p.times.start("inspect")()
		return inspectImage(ctx, p.c, p.bc, p.inspectInput(cv, h))
	}
	if p.self == nil {
		v, err := verify(ctx)
		if err != nil {
			return verified{}, err
		}
		h := withVerification(planned.res, v)
		h.Tree, h.Src = v.Tree, v.Src
		sbom := startSBOM(sbomCtx, p.c, p.evidenceInput(ctx, cv, h))
		ins, err := inspect(ctx, h)
		return verified{hardened: h, ins: ins, sbom: sbom}, err
	}

	sbom := startSBOM(sbomCtx, p.c, p.evidenceInput(ctx, cv, planned.res))
	type result struct {
		v   harden.Verification
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := verify(ctx)
		done <- result{v, err}
	}()
	ins, insErr := inspect(ctx, planned.res)
	vr := <-done
	if vr.err != nil {
		return verified{}, vr.err
	}
	if insErr != nil {
		return verified{}, insErr
	}
	return verified{hardened: withVerification(planned.res, vr.v), ins: ins, sbom: sbom}, nil
}

// withVerification is h with the verification's findings added.
func withVerification(h harden.Result, v harden.Verification) harden.Result {
	h.Findings = slices.Concat(h.Findings, v.Findings)
	return h
}

// inspectInput is what inspecting the platform's hardened build h reads.
func (p *platformBuild) inspectInput(cv converted, h harden.Result) inspectInput {
	return inspectInput{
		hardened:   h,
		origins:    cv.origins,
		loaded:     p.loaded,
		buildArgs:  p.convertOpt.BuildArgs,
		copies:     cv.copies,
		scanner:    p.self,
		noCache:    noCacheAll(p.bc),
		dockerfile: p.df.src.Filename,
		static:     p.static,
	}
}

// timed is f, recording how long each call takes as step in t.
func timed[T any](t *stepTimes, step string, f func(context.Context) (T, error)) func(context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		defer t.start(step)()
		return f(ctx)
	}
}
