package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Parent image triggers. A base image's ONBUILD triggers run as the first
// instructions of every stage built FROM it: `ADD http://…` without a
// checksum in a parent image downloads into the child just as if the
// child's Dockerfile said so. The static rules therefore check the
// triggers of every base image (from its resolved config), and report what
// they find at the FROM line, with the trigger's text.

// onbuildFindings runs the static rules over the ONBUILD triggers of the
// base images of dockerfile's stages, for every platform the build
// targets, and applies the build's exceptions. A base that cannot be
// resolved fails the build: its triggers would run unchecked.
func onbuildFindings(ctx context.Context, c client.Client, bc *dockerui.Client, model *dockerfilemodel.File, opt dockerfilecheck.Options, exc *exceptions.Set) ([]rules.Finding, error) {
	// Each platform resolves its own base image (an index may give each a
	// different config), and may even name another one (FROM ${TARGETARCH}…).
	targets := bc.TargetPlatforms
	if len(targets) == 0 {
		targets = []ocispecs.Platform{platformOrDefault(nil)}
	}
	seen := map[string]bool{}
	var out []rules.Finding
	for _, platform := range targets {
		fs, err := platformTriggerFindings(ctx, c, bc, model, opt, platform)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			// The same trigger of the same base is one finding, whatever
			// the number of platforms that run it.
			key := fmt.Sprintf("%s\x00%d\x00%s", f.Rule, f.Line, f.Message)
			if !seen[key] {
				seen[key] = true
				out = append(out, f)
			}
		}
	}
	return exc.Apply(out, exceptions.MatchContext{}), nil
}

// platformTriggerFindings is onbuildFindings for one target platform.
func platformTriggerFindings(ctx context.Context, c client.Client, bc *dockerui.Client, model *dockerfilemodel.File, opt dockerfilecheck.Options, platform ocispecs.Platform) ([]rules.Finding, error) {
	view, err := model.For(dockerfilemodel.Target{Stage: bc.Target, BuildArgs: opt.BuildArgs, Platform: platform, BuildPlatform: bc.BuildPlatforms[0]})
	if err != nil {
		return nil, fmt.Errorf("reading the Dockerfile's FROM lines for ONBUILD triggers: %w", err)
	}
	bases, err := view.ImageBases()
	if err != nil {
		return nil, err
	}
	var out []rules.Finding
	for _, b := range bases {
		triggers, err := stageTriggers(ctx, c, bc, b.Image, b.Platform)
		if err != nil {
			return nil, err
		}
		if len(triggers) == 0 {
			continue
		}
		fs, err := checkTriggers(triggers, b, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// stageTriggers returns the ONBUILD triggers a stage FROM base runs on
// platform. A named context given for base replaces the image, and
// dockerfile2llb runs the triggers of the config it brings (a
// docker-image:// or oci-layout:// context has one; a local directory
// none), so those are the ones checked.
func stageTriggers(ctx context.Context, c client.Client, bc *dockerui.Client, base string, platform ocispecs.Platform) ([]string, error) {
	nc, err := bc.NamedContext(base, dockerui.ContextOpt{Platform: &platform, ResolveMode: bc.ImageResolveMode.String()})
	if err != nil {
		return nil, fmt.Errorf("base image %s: %w", base, err)
	}
	if nc == nil {
		return baseTriggers(ctx, c, bc, base, platform)
	}
	_, img, err := nc.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the build context that replaces base image %s, for its ONBUILD triggers: %w", base, err)
	}
	if img == nil {
		return nil, nil
	}
	return img.Config.OnBuild, nil
}

// checkTriggers runs the static rules over the ONBUILD triggers of b's
// image, and returns what they find placed at b's FROM line, each message
// naming the trigger.
func checkTriggers(triggers []string, b dockerfilemodel.ImageBase, opt dockerfilecheck.Options) ([]rules.Finding, error) {
	base, from, stage := b.Image, b.FromLine, b.Stage
	// The synthetic Dockerfile has one stage: the build's --target is not
	// one of its names.
	opt.Target = ""
	// The triggers as a Dockerfile of their own: line n+2 is trigger n.
	var synthetic strings.Builder
	synthetic.WriteString("FROM scratch\n")
	for _, t := range triggers {
		synthetic.WriteString(strings.ReplaceAll(t, "\n", " ") + "\n")
	}
	fs, err := dockerfilecheck.Check([]byte(synthetic.String()), opt)
	if err != nil {
		return nil, fmt.Errorf("checking the ONBUILD triggers of base image %s: %w", base, err)
	}
	// The message quotes the trigger: a secret in it (also encoded) is
	// masked, as it is in the Dockerfile BuildKit shows.
	scanner, err := secrets.Default()
	if err != nil {
		return nil, fmt.Errorf("checking the ONBUILD triggers of base image %s: %w", base, err)
	}
	var out []rules.Finding
	for _, f := range fs {
		// Line 1 is the synthetic FROM; findings about the stage as a
		// whole (HEALTHCHECK, USER) belong to the real Dockerfile.
		if f.Line < 2 || f.Line-2 >= len(triggers) {
			continue
		}
		shown := string(scanner.Mask([]byte(triggers[f.Line-2]), nil))
		f.Message = fmt.Sprintf("ONBUILD trigger of base image %s, %q: %s", base, shown, f.Message)
		f.File, f.Line, f.EndLine, f.StageName = opt.Filename, from, from, stage
		out = append(out, f)
	}
	return out, nil
}

// baseTriggers returns the ONBUILD triggers in the config of image ref.
func baseTriggers(ctx context.Context, c client.Client, bc *dockerui.Client, ref string, platform ocispecs.Platform) ([]string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, fmt.Errorf("base image %s: %w", ref, err)
	}
	_, _, cfg, err := c.ResolveImageConfig(ctx, reference.TagNameOnly(named).String(), sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform, ResolveMode: bc.ImageResolveMode.String()},
	})
	if err != nil {
		return nil, fmt.Errorf("resolving base image %s for its ONBUILD triggers: %w", ref, err)
	}
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(cfg, &img); err != nil {
		return nil, fmt.Errorf("reading the config of base image %s: %w", ref, err)
	}
	return img.Config.OnBuild, nil
}
