package frontend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/inspect/scanstep"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/solve"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// The secret rules inspection handles here rather than in a check: HK3054
// is mapped to the Dockerfile, HK3052 names the unscanned files.
const (
	ruleSecretInContext = "HK3054"
	ruleSecretInFile    = "HK3052"
)

// How the image was inspected, as the compliance statement records it.
const (
	scannerInBuild = "in-build"
	scannerGateway = "gateway"
)

// inspectInput is one platform's hardened build to inspect.
type inspectInput struct {
	hardened harden.Result
	loaded   *policysource.Loaded
	// buildArgs are the build arguments the user gave.
	buildArgs map[string]string
	// copies are the COPY and ADD instructions that read the main
	// context, in the stages the build runs.
	copies []dockerfilemodel.ContextCopy
	// scanner is the frontend's own image, nil when the frontend runs
	// in-process (no image to run the scanner from).
	scanner *llb.State
	noCache bool
	// dockerfile is the Dockerfile's name, where HK3054 findings point.
	dockerfile string
	// static are the static checks' findings, exceptions applied.
	static []rules.Finding
	// origins name the instruction that wrote an image path.
	origins dockerfilemodel.Origins
}

// inspection is what inspecting one platform found.
type inspection struct {
	// findings are image findings (File an image path or a config place)
	// and HK3054 findings (File the Dockerfile, at the COPY or ADD line),
	// exceptions applied.
	findings []rules.Finding
	// ranges locate HK3054 findings in the Dockerfile, by index in
	// findings.
	ranges map[int][]parser.Range
	// origins locate, by index in findings, the instruction that wrote
	// an image finding's path.
	origins map[int][]parser.Range
	// generatedKeys are, by index in findings, the private keys generated
	// during the build (HK3052 at the RUN that created them), whose fix
	// is written against the Dockerfile's text (generatedKeyFixes).
	generatedKeys map[int]string
	// unscanned are the files over controls.secrets.maxFileSize: image
	// paths, and context paths prefixed "context:".
	unscanned []string
	// scanner is scannerInBuild or scannerGateway.
	scanner string
	// secretScans count what the secret scan read, per place.
	secretScans []compliance.SecretScan
}

// inspectImage inspects the hardened filesystem and config, and the build
// context files the build copies in, and applies the exceptions. The
// filesystem checks run in the in-build scanner when the frontend runs
// from its image, else over the gateway; the checks of Env, labels,
// history and build arguments always run here, so that those values never
// become part of an LLB definition. A rule that could not run fails the
// build: inspection never passes what it did not look at.
func inspectImage(ctx context.Context, c client.Client, bc *dockerui.Client, in inspectInput) (inspection, error) {
	pol := in.loaded.Policy
	var buildContext *llb.State
	contextRule, _ := catalog.Lookup(ruleSecretInContext)
	if len(in.copies) > 0 && pol.Level(contextRule) != rules.LevelOff {
		var opts []llb.LocalOption
		if pats := dockerfilemodel.IncludePatterns(in.copies); pats != nil {
			opts = append(opts, llb.IncludePatterns(pats))
		}
		opts = append(opts, llb.WithCustomName("[hardenkit] build context files COPY and ADD bring in"))
		st, err := bc.MainContext(ctx, opts...)
		if err != nil {
			return inspection{}, fmt.Errorf("inspection: reading the build context: %w", err)
		}
		buildContext = st
	}

	var fsRes inspect.Result
	var ctxFindings []rules.Finding
	var ctxUnscanned []string
	var ctxStats *secrets.TreeStats
	out := inspection{scanner: scannerGateway}
	if in.scanner != nil {
		out.scanner = scannerInBuild
		var opts []llb.RunOption
		if in.noCache {
			opts = append(opts, llb.IgnoreCache)
		}
		resp, err := scanstep.Run(ctx, c, scanstep.Scan{Scanner: *in.scanner, Root: in.hardened.State, Context: buildContext, Image: in.hardened.Image, Policy: pol, Opts: opts})
		if err != nil {
			return inspection{}, fmt.Errorf("inspection: %w", err)
		}
		fsRes = resp.Image
		if resp.Context != nil {
			ctxFindings, ctxUnscanned, ctxStats = resp.Context.Findings, resp.Context.Unscanned, resp.Context.Stats
		}
	} else {
		var err error
		fsRes, err = inspect.Run(ctx, inspect.Input{Tree: in.hardened.Tree, Src: in.hardened.Src, Image: in.hardened.Image, Policy: pol, Scope: inspect.ScopeFilesystem})
		if err != nil && len(fsRes.Errors) == 0 {
			return inspection{}, fmt.Errorf("inspection: %w", err)
		}
		if buildContext != nil {
			if ctxFindings, ctxUnscanned, ctxStats, err = gatewayContextSecrets(ctx, c, *buildContext, pol, bc.CacheImports); err != nil {
				return inspection{}, err
			}
		}
	}
	cfgRes, err := inspect.Run(ctx, inspect.Input{Image: in.hardened.Image, Policy: pol, BuildArgs: in.buildArgs, Scope: inspect.ScopeConfigSecrets})
	if err != nil && len(cfgRes.Errors) == 0 {
		return inspection{}, fmt.Errorf("inspection: %w", err)
	}
	res := inspect.Merge(fsRes, cfgRes)
	if err := checkInspected(res, pol.Level); err != nil {
		return inspection{}, err
	}

	out.findings = followStatic(in.loaded.Exceptions.Apply(publicOrigins(res, pol, in.origins), exceptions.MatchContext{}), in.static)
	out.origins, out.generatedKeys = map[int][]parser.Range{}, map[int]string{}
	for i := range out.findings {
		f := &out.findings[i]
		if !strings.HasPrefix(f.File, "/") {
			continue // a config finding or a build context file
		}
		what, rs, generated := findingOrigin(in.origins, f)
		f.Message += " [" + what + "]"
		out.origins[i] = rs
		if generated {
			out.generatedKeys[i] = f.File
		}
	}
	out.unscanned = res.Unscanned
	out.secretScans = secretScans(res.SecretStats, ctxStats, in.hardened.Image, in.buildArgs)
	for _, u := range ctxUnscanned {
		out.unscanned = append(out.unscanned, secrets.WhereContext+u)
	}

	// HK3054: exceptions are scoped by the context path (and stage), then
	// each finding points at every instruction that copies the file.
	out.ranges = map[int][]parser.Range{}
	for _, f := range ctxFindings {
		rel := strings.TrimPrefix(f.File, secrets.WhereContext)
		for _, cc := range in.copies {
			if !cc.Brings(rel) {
				continue
			}
			g := f
			g.File, g.StageName = rel, cc.Stage
			g = in.loaded.Exceptions.Apply([]rules.Finding{g}, exceptions.MatchContext{})[0]
			g.File, g.Line = in.dockerfile, cc.Line()
			g.Message = fmt.Sprintf("%s (line %d, stage %s): %s", cc.Instruction, cc.Line(), cc.Stage, g.Message)
			out.ranges[len(out.findings)] = cc.Ranges
			out.findings = append(out.findings, g)
		}
	}
	return out, nil
}

// staticTwins are, per image rule, the static rules that report the same
// problem when the Dockerfile itself writes it: EXPOSE 22, USER root, a
// secret in ENV, LABEL or a RUN line, a secret build argument. The image
// rule exists for what the Dockerfile does not show (a base image's config,
// a value built at run time); where both see the same thing, one decision
// is taken, by the rule that saw it first.
var staticTwins = map[string][]string{
	"HK3040": {"HK1050"},
	"HK3041": {"HK1043"},
	"HK3050": {"HK1060", "HK1061"},
	"HK3051": {"HK1061"},
	"HK3053": {"HK1062"},
}

// followStatic gives each enforce or warn image finding the outcome of a
// static twin's finding on the same subject — for secrets, the same
// fingerprint — so that an approved exception for the Dockerfile line, or
// a policy that only warns about it, is not overruled by the same problem
// seen again in the image. The message says which finding decided.
func followStatic(image, static []rules.Finding) []rules.Finding {
	out := slices.Clone(image)
	for i := range out {
		f := &out[i]
		if f.Level != rules.LevelEnforce && f.Level != rules.LevelWarn {
			continue
		}
		for _, s := range static {
			if !slices.Contains(staticTwins[f.Rule], s.Rule) || !sameSecret(f.Fingerprint, s.Fingerprint) {
				continue
			}
			f.Level, f.Waiver = s.Level, s.Waiver
			f.Message = fmt.Sprintf("%s (decided by %s at %s:%d: %s)", f.Message, s.Rule, s.File, s.Line, s.Level)
			break
		}
	}
	return out
}

// sameSecret reports whether two findings are about the same secret, or
// both about none. The static rules print 12 hex digits of the SHA-256,
// the scanner 16: one is a prefix of the other for the same value.
func sameSecret(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}

// checkInspected fails when a rule the policy evaluates has no status or
// could not run.
func checkInspected(res inspect.Result, level func(rules.Rule) rules.Level) error {
	var errs []error
	for _, r := range slices.Concat(inspect.ScopeRules(inspect.ScopeFilesystem), inspect.ScopeRules(inspect.ScopeConfigSecrets)) {
		if level(r) == rules.LevelOff {
			continue
		}
		switch s, ok := res.Status[r.ID]; {
		case !ok:
			errs = append(errs, fmt.Errorf("%s %s was not evaluated", r.ID, r.Name))
		case s == inspect.StatusError:
			errs = append(errs, fmt.Errorf("%s %s could not run: %s", r.ID, r.Name, res.Errors[r.ID]))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("inspection of the hardened image failed, so the build fails:\n%w\nto fix: remove the cause named above from the final stage (a file the check cannot read or parse), or set the rule to off in the policy if it does not apply; a rule is never skipped silently", err)
	}
	return nil
}

// gatewayContextSecrets scans the build context files over the gateway.
func gatewayContextSecrets(ctx context.Context, c client.Client, st llb.State, p *policy.Policy, cacheImports []client.CacheOptionsEntry) ([]rules.Finding, []string, *secrets.TreeStats, error) {
	ref, err := solve.Ref(ctx, c, st, cacheImports)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("inspection: reading the build context: %w", err)
	}
	src := rootfs.ReferenceSource(ref)
	tree, err := rootfs.Load(ctx, src)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("inspection: listing the build context: %w", err)
	}
	return inspect.ContextSecrets(ctx, tree, src, p)
}

// reportInspection shows warnings, waivers and unscanned files in the
// client's progress, and fails on enforced findings with every one listed;
// HK3054 findings carry their COPY or ADD line as a source snippet.
//
// warn is the platform's: every platform finds the same warnings, and only
// the first platform's are shown.
func reportInspection(ctx context.Context, warn warnFunc, sm *llb.SourceMap, ins inspection) error {
	var violations, failed []string
	var ranges [][]parser.Range
	fixes := enforcedKeyFixes(sm, ins)
	for i, f := range ins.findings {
		r, _ := catalog.Lookup(f.Rule)
		where := f.Where()
		switch f.Level {
		case rules.LevelEnforce:
			violations = append(violations, fmt.Sprintf("%s %s: %s%s", f.Rule, where, f.Message, fixes[i]))
			failed = append(failed, f.Rule)
			if rs := ins.ranges[i]; len(rs) > 0 {
				ranges = append(ranges, rs)
			} else if rs := ins.origins[i]; len(rs) > 0 {
				ranges = append(ranges, rs)
			}
		case rules.LevelWarn, rules.LevelWaived:
			msg := f.Message
			if f.Level == rules.LevelWaived {
				msg = fmt.Sprintf("%s (waived by exception %s)", msg, f.Waiver)
			}
			if _, ok := ins.ranges[i]; !ok {
				msg = f.Where() + ": " + msg
			}
			warn(ctx, linter.LintFormatShort(r.ID+" "+r.Name, msg, f.Line), warnOpts(ins.ranges[i], [][]byte{[]byte(r.Title)}, r.HelpURI))
		}
	}
	if len(ins.unscanned) > 0 {
		warn(ctx, fmt.Sprintf("%s: %d files are larger than controls.secrets.maxFileSize and were not scanned for secrets: %s",
			ruleSecretInFile, len(ins.unscanned), strings.Join(ins.unscanned, ", ")), warnOpts(nil, nil, ""))
	}
	if len(violations) == 0 {
		return nil
	}
	err := fmt.Errorf("hardenkit: inspection of the hardened image found %d violations:\n  %s%s", len(violations), strings.Join(violations, "\n  "), remedies(failed))
	for _, rs := range ranges {
		err = WithSource(err, sm, rs)
	}
	return err
}

// enforcedKeyFixes are the fixes of the enforced findings of keys
// generated during the build, by finding index; none without the
// Dockerfile's text.
func enforcedKeyFixes(sm *llb.SourceMap, ins inspection) map[int]rules.Fix {
	keys := map[int]string{}
	for i, k := range ins.generatedKeys {
		if ins.findings[i].Level == rules.LevelEnforce {
			keys[i] = k
		}
	}
	if sm == nil || len(keys) == 0 {
		return nil
	}
	return generatedKeyFixes(sm.Data, keys, ins.origins)
}

// currentFrontend returns the frontend's own image when the gateway
// client can tell it (the frontend runs from an image), else nil.
func currentFrontend(c client.Client) (*llb.State, error) {
	cf, ok := c.(interface{ CurrentFrontend() (*llb.State, error) })
	if !ok {
		return nil, nil
	}
	st, err := cf.CurrentFrontend()
	if err != nil {
		return nil, fmt.Errorf("reading the frontend's own image for the in-build scanner: %w", err)
	}
	return st, nil
}
