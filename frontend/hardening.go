package frontend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/rootfs"
)

// gatewayEvaluator solves LLB through the gateway and reads results with
// ReadDir/ReadFile.
type gatewayEvaluator struct {
	c            client.Client
	cacheImports []client.CacheOptionsEntry
}

// Evaluate solves st.
func (g gatewayEvaluator) Evaluate(ctx context.Context, st llb.State) (rootfs.Source, error) {
	ref, err := solveState(ctx, g.c, st, g.cacheImports)
	if err != nil {
		return nil, err
	}
	return rootfs.ReferenceSource(ref), nil
}

// hardenPlatform hardens one platform's converted build and reports its
// warnings; enforced violations come back as source-mapped errors.
func hardenPlatform(ctx context.Context, c client.Client, bc *dockerui.Client, src *dockerui.Source, dockerfile []byte, opt dockerfile2llb.ConvertOpt, dfRes *dockerfile2llb.Result, platform ocispecs.Platform, epoch time.Time, loaded *policysource.Loaded) (harden.Result, error) {
	stage, err := findShippedStage(dockerfile, opt.Target, opt.BuildArgs, platform, bc.BuildPlatforms[0])
	if err != nil {
		return harden.Result{}, fmt.Errorf("reading the shipped stage: %w", err)
	}
	base, err := baseState(ctx, bc, dockerfile, opt, stage, platform)
	if err != nil {
		return harden.Result{}, err
	}
	baseDigest, err := baseImageDigest(ctx, c, bc, stage, platform)
	if err != nil {
		return harden.Result{}, err
	}
	res, err := harden.Harden(ctx, gatewayEvaluator{c: c, cacheImports: bc.CacheImports}, harden.Input{
		Final:      dfRes.State,
		Base:       base,
		BaseName:   stage.baseName,
		BaseDigest: baseDigest,
		Image:      dfRes.Image,
		Epoch:      epoch,
		Platform:   platform,
		Policy:     loaded.Policy,
		Lines:      stage.lines,
		NoCache:    noCacheAll(bc),
	})
	if vs, ok := harden.AsViolations(err); ok {
		return harden.Result{}, violationsError(vs, src)
	}
	if err != nil {
		return harden.Result{}, err
	}
	if opt.Warn != nil {
		for _, f := range res.Findings {
			r, _ := catalog.Lookup(f.Rule)
			src.Warn(ctx, linter.LintFormatShort(r.ID+" "+r.Name, f.Message, 0), warnOpts(nil, [][]byte{[]byte(r.Title)}, r.HelpURI))
		}
	}
	return res, nil
}

// baseImageDigest resolves the manifest digest of the shipped stage's base
// when it is an image (not scratch, an earlier stage or a named context), so
// the evidence records exactly what the image was built on.
func baseImageDigest(ctx context.Context, c client.Client, bc *dockerui.Client, stage shippedStage, platform ocispecs.Platform) (string, error) {
	if stage.baseStage != "" || strings.EqualFold(stage.baseName, "scratch") {
		return "", nil
	}
	if nc, err := bc.NamedContext(stage.baseName, dockerui.ContextOpt{Platform: &platform}); err != nil || nc != nil {
		return "", err
	}
	named, err := reference.ParseNormalizedNamed(stage.baseName)
	if err != nil {
		return "", fmt.Errorf("base image %s: %w", stage.baseName, err)
	}
	_, dgst, _, err := c.ResolveImageConfig(ctx, reference.TagNameOnly(named).String(), sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform, ResolveMode: bc.ImageResolveMode.String()},
	})
	if err != nil {
		return "", fmt.Errorf("resolving base image %s: %w", stage.baseName, err)
	}
	return dgst.String(), nil
}

// violationsError is one error for all violations, with each one's
// Dockerfile ranges attached so the client shows every offending line.
func violationsError(vs harden.Violations, src *dockerui.Source) error {
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

// noCacheAll reports --no-cache without a stage list: every step, hardenkit's
// included, runs again.
func noCacheAll(bc *dockerui.Client) bool {
	v, ok := bc.BuildOpts().Opts["no-cache"]
	return ok && v == ""
}

func platformOrDefault(p *ocispecs.Platform) ocispecs.Platform {
	if p != nil {
		return *p
	}
	return platforms.Normalize(platforms.DefaultSpec())
}
