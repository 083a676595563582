package frontend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/lint"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// staticFindings runs the static Dockerfile rules of the policy over the
// build's Dockerfile (model; parseErr when it did not parse) and the
// ONBUILD triggers of its base images, and applies the build's
// exceptions. Waived findings stay in the list.
func staticFindings(ctx context.Context, c client.Client, bc *dockerui.Client, b buildDockerfile, loaded *policysource.Loaded) ([]rules.Finding, error) {
	if b.parseErr != nil {
		return nil, b.parseErr
	}
	ignore, err := bc.DockerIgnorePatterns(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading .dockerignore: %w", err)
	}
	opt := dockerfilecheck.Options{
		Filename:             b.src.Filename,
		BuildArgs:            options.StripBuildArgs(bc.BuildArgs),
		Target:               bc.Target,
		DockerignorePatterns: ignore,
		HasDockerignore:      len(ignore) > 0,
		Policy:               loaded.Policy,
	}
	findings, err := dockerfilecheck.CheckFile(b.model, opt)
	if err != nil {
		return nil, err
	}
	findings = loaded.Exceptions.Apply(findings, exceptions.MatchContext{})
	triggers, err := onbuildFindings(ctx, c, bc, b.model, opt, loaded.Exceptions)
	if err != nil {
		return nil, err
	}
	return append(findings, triggers...), nil
}

// reportStatic shows warnings and waivers in the client's progress with
// their Dockerfile ranges and fails on enforced violations, pointing at
// every offending line.
func reportStatic(ctx context.Context, src *dockerui.Source, findings []rules.Finding) error {
	var violations []rules.Finding
	for _, f := range findings {
		r, _ := catalog.Lookup(f.Rule)
		switch f.Level {
		case rules.LevelEnforce:
			violations = append(violations, f)
		case rules.LevelWarn, rules.LevelWaived:
			msg := f.Message
			if f.Level == rules.LevelWaived {
				msg = fmt.Sprintf("%s (waived by exception %s)", msg, f.Waiver)
			}
			msg = linter.LintFormatShort(r.ID+" "+r.Name, msg, f.Line)
			src.Warn(ctx, msg, warnOpts(dockerfilecheck.Ranges(f), [][]byte{[]byte(r.Title)}, r.HelpURI))
		}
	}
	if len(violations) == 0 {
		return nil
	}
	lines := make([]string, 0, len(violations))
	for _, f := range violations {
		lines = append(lines, fmt.Sprintf("%s %s: %s", f.Where(), f.Rule, f.Message))
	}
	err := fmt.Errorf("hardenkit policy violations (%d):\n  %s%s", len(violations), strings.Join(lines, "\n  "), remedies(findingRules(violations)))
	for _, f := range violations {
		err = WithSource(err, src.SourceMap, dockerfilecheck.Ranges(f))
	}
	return err
}

// mergeLint adds hardenkit's findings to BuildKit's own lint results, so
// `--call=check` shows both.
func mergeLint(res *lint.LintResults, src *dockerui.Source, findings []rules.Finding) {
	idx := res.AddSource(src.SourceMap)
	for _, f := range findings {
		r, _ := catalog.Lookup(f.Rule)
		msg := fmt.Sprintf("[%s] %s", f.Level, f.Message)
		if f.Level == rules.LevelWaived {
			msg = fmt.Sprintf("%s (exception %s)", msg, f.Waiver)
		}
		res.AddWarning(r.ID+" "+r.Name, r.Title, r.HelpURI, msg, idx, dockerfilecheck.Ranges(f))
	}
}

// errModeOffForbidden is returned when HARDENKIT_MODE=off meets a policy
// that does not allow it.
var errModeOffForbidden = errors.New("HARDENKIT_MODE=off is not allowed by the policy")

// modeOffError is the refusal of HARDENKIT_MODE=off under pol: which policy
// and sources forbid it, and what to do. Only the highest source may allow
// off (a lower one may not, see policy.tighten), so the remedy names it; a
// build on the default baseline is told where a team policy goes.
func modeOffError(pol *policy.Policy) error {
	allow := "a team policy (hardenkit.yaml beside the Dockerfile, or the hardenkit-policy build context) must set controls.mode.allowOff: true"
	if len(pol.Sources) > 0 && pol.Sources[0].Rank != policy.RankDefault {
		allow = fmt.Sprintf("ask the owner of %s (%s) to set controls.mode.allowOff: true there (a lower policy source cannot)", pol.Sources[0].Name, pol.Sources[0].Rank)
	}
	return fmt.Errorf("%w %s (controls.mode.allowOff is false; policy sources: %s)\nto fix: build without HARDENKIT_MODE=off, so the hardening the policy requires runs; to switch it off, %s",
		errModeOffForbidden, pol.Name, sourceNames(pol), allow)
}
