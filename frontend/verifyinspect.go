package frontend

import (
	"context"

	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/llb/harden"
)

// verifyAndInspect verifies the planned hardened build, inspects it and
// starts its SBOM (evIn.sbom, under sbomCtx); on return hardened holds the
// verification's findings and evIn the verified build.
//
// From the frontend image the three are build steps over the same planned
// filesystem that need nothing of each other, so they run side by side, and
// a verification failure is reported before anything inspection found.
// In-process, inspection and the SBOM read the filesystem that
// verification loaded, so verification comes first.
func verifyAndInspect(ctx, sbomCtx context.Context, c client.Client, bc *dockerui.Client, verify verifyFunc, hardened *harden.Result, evIn *evidenceInput, in inspectInput) (inspection, error) {
	verify = timed(evIn.timings, "verify", verify)
	inspect := timed(evIn.timings, "inspect", func(ctx context.Context) (inspection, error) { return inspectImage(ctx, c, bc, in) })
	if in.scanner == nil {
		v, err := verify(ctx)
		if err != nil {
			return inspection{}, err
		}
		hardened.Tree, hardened.Src = v.Tree, v.Src
		hardened.Findings = append(hardened.Findings, v.Findings...)
		evIn.hardened = *hardened
		evIn.sbom = startSBOM(sbomCtx, c, *evIn)
		in.hardened = *hardened
		return inspect(ctx)
	}

	evIn.hardened = *hardened
	evIn.sbom = startSBOM(sbomCtx, c, *evIn)
	type verified struct {
		v   harden.Verification
		err error
	}
	done := make(chan verified, 1)
	go func() {
		v, err := verify(ctx)
		done <- verified{v, err}
	}()
	in.hardened = *hardened
	ins, insErr := inspect(ctx)
	vr := <-done
	if vr.err != nil {
		return inspection{}, vr.err
	}
	if insErr != nil {
		return inspection{}, insErr
	}
	hardened.Findings = append(hardened.Findings, vr.v.Findings...)
	evIn.hardened = *hardened
	return ins, nil
}

// timed is f, recording how long each call takes as step in t.
func timed[T any](t *stepTimes, step string, f func(context.Context) (T, error)) func(context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		defer t.start(step)()
		return f(ctx)
	}
}
