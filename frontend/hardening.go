package frontend

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/harden/hardenstep"
	"github.com/hardenkit/hardenkit/llb/solve"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// gatewayEvaluator solves LLB through the gateway and reads results with
// ReadDir/ReadFile.
type gatewayEvaluator struct {
	c            client.Client
	cacheImports []client.CacheOptionsEntry
}

// Evaluate solves st.
func (g gatewayEvaluator) Evaluate(ctx context.Context, st llb.State) (rootfs.Source, error) {
	ref, err := solve.Ref(ctx, g.c, st, g.cacheImports)
	if err != nil {
		return nil, err
	}
	return rootfs.ReferenceSource(ref), nil
}

// verifyFunc verifies a planned hardened build (harden.Verify) and reports
// its warnings; an enforced violation comes back as a source-mapped error.
type verifyFunc func(context.Context) (harden.Verification, error)

// plannedBuild is a platform's hardening plan, not verified yet: verify
// does that, and nothing may be exported before it passes.
type plannedBuild struct {
	res    harden.Result
	verify verifyFunc
}

// hardenPlatform plans the hardening of one platform's converted build and
// reports its warnings; enforced violations come back as source-mapped
// errors.
func hardenPlatform(ctx context.Context, p *platformBuild, cv converted) (plannedBuild, error) {
	base, err := baseState(ctx, p.bc, p.df.data, cv.opt, cv.shipped, p.platform)
	if err != nil {
		return plannedBuild{}, err
	}
	baseDigest, err := baseImageDigest(ctx, p.c, p.bc, cv.shipped, p.platform)
	if err != nil {
		return plannedBuild{}, err
	}
	// From the frontend image, the analysis runs as cached build steps of
	// that image; in-process (hardenkit build), over the gateway.
	var an harden.Analyzer = harden.LocalAnalyzer{Evaluator: gatewayEvaluator{c: p.c, cacheImports: p.bc.CacheImports}}
	if p.self != nil {
		an = hardenstep.Analyzer{Client: p.c, Image: *p.self, NoCache: noCacheAll(p.bc)}
	}
	in := harden.Input{
		Final:      cv.res.State,
		Base:       base,
		BaseName:   cv.shipped.BaseName,
		BaseDigest: baseDigest,
		Image:      cv.res.Image,
		Epoch:      cv.epoch,
		Platform:   p.platform,
		Config:     hardenConfig(p.loaded.Policy),
		Lines:      harden.Lines(cv.shipped.Lines),
		NoCache:    noCacheAll(p.bc),
		Probe:      p.self,
	}
	if in.Lineage, err = p.lineage(ctx, an, cv, in.Config); err != nil {
		return plannedBuild{}, err
	}
	// A violation names the instructions that wrote its paths.
	fail := func(vs harden.Violations) error { return violationsError(vs, p.df.src, &cv.origins) }
	warn := func(fs []rules.Finding) {
		for _, f := range fs {
			r, _ := catalog.Lookup(f.Rule)
			p.warn(ctx, linter.LintFormatShort(r.ID+" "+r.Name, f.Message, 0), warnOpts(nil, [][]byte{[]byte(r.Title)}, r.HelpURI))
		}
	}
	res, err := harden.Plan(ctx, an, in)
	if vs, ok := harden.AsViolations(err); ok {
		return plannedBuild{}, fail(vs)
	}
	if err != nil {
		return plannedBuild{}, err
	}
	warn(res.Findings)
	verify := func(ctx context.Context) (harden.Verification, error) {
		v, err := harden.Verify(ctx, an, in, res)
		if vs, ok := harden.AsViolations(err); ok {
			return harden.Verification{}, fail(vs)
		}
		if err != nil {
			return harden.Verification{}, err
		}
		warn(v.Findings)
		return v, nil
	}
	return plannedBuild{res: res, verify: verify}, nil
}

// baseImageDigest resolves the manifest digest of the shipped stage's base
// when it is an image (not scratch, an earlier stage or a named context), so
// the evidence records exactly what the image was built on.
func baseImageDigest(ctx context.Context, c client.Client, bc *dockerui.Client, stage dockerfilemodel.Shipped, platform ocispecs.Platform) (string, error) {
	if stage.BaseStage != "" || strings.EqualFold(stage.BaseName, "scratch") {
		return "", nil
	}
	if nc, err := bc.NamedContext(stage.BaseName, dockerui.ContextOpt{Platform: &platform}); err != nil || nc != nil {
		return "", err
	}
	named, err := reference.ParseNormalizedNamed(stage.BaseName)
	if err != nil {
		return "", fmt.Errorf("base image %s: %w", stage.BaseName, err)
	}
	_, dgst, _, err := c.ResolveImageConfig(ctx, reference.TagNameOnly(named).String(), sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform, ResolveMode: bc.ImageResolveMode.String()},
	})
	if err != nil {
		return "", fmt.Errorf("resolving base image %s: %w", stage.BaseName, err)
	}
	return dgst.String(), nil
}

// violationsError is one error for all violations, with each one's
// Dockerfile ranges attached so the client shows every offending line. A
// violation about image paths (HK2042, HK2050) names, per path, the
// instruction that wrote it (o, nil when unknown) and points its ranges at
// those instructions instead of its own.
func violationsError(vs harden.Violations, src *dockerui.Source, o *dockerfilemodel.Origins) error {
	if o != nil {
		vs = slices.Clone(vs)
		for i, v := range vs {
			vs[i] = withOrigins(v, *o)
		}
	}
	// A violation whose message says what to do itself (HK2050) needs
	// no catalog remedy after it.
	var ids []string
	for _, v := range vs {
		if !strings.Contains(v.Message, "to fix: ") {
			ids = append(ids, v.Rule)
		}
	}
	var err error = fmt.Errorf("%w%s", vs, remedies(ids))
	if len(vs) == 1 {
		err = fmt.Errorf("hardenkit: %w%s", vs[0], remedies(ids))
	}
	for _, v := range vs {
		if len(v.Ranges) > 0 {
			err = WithSource(err, src.SourceMap, v.Ranges)
		}
	}
	return err
}

// withOrigins returns v with the instructions that wrote its paths: one
// line per instruction, listing its paths, before v's own remedy, and the
// instructions' ranges in place of v's. A violation about no path is v.
func withOrigins(v *harden.Violation, o dockerfilemodel.Origins) *harden.Violation {
	if len(v.Paths) == 0 {
		return v
	}
	var order []string
	paths := map[string][]string{}
	var ranges []parser.Range
	for _, p := range v.Paths {
		what, rs := o.Of(p)
		if _, ok := paths[what]; !ok {
			order = append(order, what)
			ranges = append(ranges, rs...)
		}
		paths[what] = append(paths[what], p)
	}
	var b strings.Builder
	for _, what := range order {
		fmt.Fprintf(&b, "\n    [%s: %s]", strings.Join(paths[what], ", "), what)
	}
	out := *v
	if head, fix, ok := strings.Cut(v.Message, "\n  to fix: "); ok {
		out.Message = head + b.String() + "\n  to fix: " + fix
	} else {
		out.Message = v.Message + b.String()
	}
	if len(ranges) > 0 {
		out.Ranges = ranges
	}
	return &out
}

// noCacheAll reports --no-cache without a stage list: every step, hardenkit's
// included, runs again.
func noCacheAll(bc *dockerui.Client) bool {
	v, ok := bc.BuildOpts().Opts[options.OptNoCache]
	return ok && v == ""
}

func platformOrDefault(p *ocispecs.Platform) ocispecs.Platform {
	if p != nil {
		return *p
	}
	return platforms.Normalize(platforms.DefaultSpec())
}
