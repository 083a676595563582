package frontend

// The in-build smoke test.
//
//	HK2060 HardenedImageDoesNotRun (llb/smoke) — the hardened image's
//	       program and the plain final stage's are started the same way, as
//	       build steps of their own (offline, as the image's user, for a
//	       few seconds or until the health check passes), and the build
//	       fails when the hardened one does worse. CIS: none.
//
// The plain and hardened runs need nothing of each other and are solved
// side by side, beside verification and inspection; the result is waited
// for before evidence, so nothing is exported before it passes. The policy
// turns the test off by setting HK2060 off (precedence keeps a lower
// source from doing so), or waives a failure with an exception; the
// compliance statement records either.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/smoke"
	"github.com/hardenkit/hardenkit/llb/step"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// smokeOutcome is the smoke test's record for the statement and its
// finding (warn or waived), if any.
type smokeOutcome struct {
	record   *compliance.Smoke
	findings []rules.Finding
}

// pendingSmoke is a smoke test under way.
type pendingSmoke struct {
	done chan struct{}
	out  smokeOutcome
	err  error
}

// startSmoke starts the smoke test of the planned hardened build h.
func (p *platformBuild) startSmoke(ctx context.Context, cv converted, h harden.Result) *pendingSmoke {
	s := &pendingSmoke{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer p.times.start("smoke-test")()
		s.out, s.err = p.smokeTest(ctx, cv, h)
	}()
	return s
}

// wait returns the smoke test's outcome once it is known.
func (s *pendingSmoke) wait(ctx context.Context) (smokeOutcome, error) {
	select {
	case <-s.done:
		return s.out, s.err
	case <-ctx.Done():
		return smokeOutcome{}, context.Cause(ctx)
	}
}

// smokeTest runs the plain and hardened images' programs and judges the
// hardened one.
func (p *platformBuild) smokeTest(ctx context.Context, cv converted, h harden.Result) (smokeOutcome, error) {
	level := p.loaded.Policy.Level(smoke.Rule)
	if reason := p.smokeSkipped(level, cv.res.Image); reason != "" {
		return p.smokeNotRun(ctx, level, reason), nil
	}
	runner, reason, err := stepRunner(p.self, p.cfg.StepBinary, p.bc.BuildPlatforms[0], p.c.BuildOpts().SessionID)
	if err != nil {
		return smokeOutcome{}, err
	}
	if runner == nil {
		return p.smokeNotRun(ctx, level, reason), nil
	}
	plain, hardened, err := p.smokeRuns(ctx, *runner, cv.res.State, cv.res.Image, h)
	if err != nil {
		return smokeOutcome{}, fmt.Errorf("%s: %w", smoke.Rule.ID, err)
	}
	rec := &compliance.Smoke{WindowMillis: smoke.DefaultWindowMillis, Plain: smokeRun(plain), Hardened: smokeRun(hardened.Answer)}
	if !hardened.verdict.Worse {
		rec.Result = compliance.SmokePass
		return smokeOutcome{record: rec}, nil
	}
	msg := smokeMessage(hardened.verdict.Reason, hardened.Answer, removedPaths(h), cv)
	f := rules.Finding{Rule: smoke.Rule.ID, Level: level, Message: msg}
	f = p.loaded.Exceptions.Apply([]rules.Finding{f}, exceptions.MatchContext{})[0]
	rec.Reason = hardened.verdict.Reason
	switch f.Level {
	case rules.LevelEnforce:
		err := fmt.Errorf("hardenkit: %s: %s\n  to fix: %s", smoke.Rule.ID, msg, smoke.Rule.Remediation)
		return smokeOutcome{}, WithSource(err, p.df.src.SourceMap, smokeRanges(cv.shipped.Lines, hardened.Answer))
	case rules.LevelWaived:
		rec.Result = compliance.SmokeWaived
	default:
		rec.Result = compliance.SmokeWarn
		p.warn(ctx, smoke.Rule.ID+": "+msg, warnOpts(smokeRanges(cv.shipped.Lines, hardened.Answer), [][]byte{[]byte(smoke.Rule.Title)}, smoke.Rule.HelpURI))
	}
	return smokeOutcome{record: rec, findings: []rules.Finding{f}}, nil
}

// smokeNotRun is the record of a smoke test that did not run, and its
// warning unless the policy turned the test off.
func (p *platformBuild) smokeNotRun(ctx context.Context, level rules.Level, reason string) smokeOutcome {
	rec := &compliance.Smoke{WindowMillis: smoke.DefaultWindowMillis, Result: compliance.SmokeNotRun, Reason: reason}
	if level == rules.LevelOff {
		rec.Result = compliance.SmokeOff
	} else {
		p.warn(ctx, smoke.Rule.ID+": smoke test not run: "+reason, warnOpts(nil, nil, smoke.Rule.HelpURI))
	}
	return smokeOutcome{record: rec}
}

// smokeSkipped says why the smoke test does not run, "" when it does.
func (p *platformBuild) smokeSkipped(level rules.Level, plain *dockerspec.DockerOCIImage) string {
	build := p.bc.BuildPlatforms[0]
	switch {
	case level == rules.LevelOff:
		return fmt.Sprintf("policy %s sets %s off", p.loaded.Policy.Name, smoke.Rule.ID)
	case p.platform.OS != build.OS || p.platform.Architecture != build.Architecture || p.platform.Variant != build.Variant:
		return fmt.Sprintf("the image is for %s/%s and the build runs on %s/%s: its program is not started under emulation", p.platform.OS, p.platform.Architecture, build.OS, build.Architecture)
	case plain == nil || len(plain.Config.Entrypoint)+len(plain.Config.Cmd) == 0:
		return "the image has no ENTRYPOINT or CMD to start"
	}
	return ""
}

// StepBinary is how the client of an in-process frontend (`hardenkit
// build`) gives the build a hardenkit binary to run the smoke test with
// inside the image under test. The frontend image needs none: it runs its
// own. Only the smoke test uses it; in-process, hardening's analysis,
// inspection and the SBOM still run over the gateway.
type StepBinary struct {
	// Local names the session local that holds a static binary with the
	// in-build steps at step.BinaryPath; "" when the client serves none.
	Local string
	// Platform is what the binary runs on.
	Platform ocispecs.Platform
	// Unavailable says why the client serves none, e.g. its executable is
	// dynamically linked. A smoke test that would run then fails the
	// build, as any control that cannot run does.
	Unavailable string
}

// stepRunner is the image whose step.BinaryPath runs the smoke test on
// the build platform: the frontend's own image (self), else the client's
// binary, served as a local of session sessionID. A caller that serves
// none and says nothing of it (a program calling Build) gets nil and the
// reason the test does not run; a client whose binary cannot run on the
// build platform fails the build.
func stepRunner(self *llb.State, b StepBinary, build ocispecs.Platform, sessionID string) (*llb.State, string, error) {
	if self != nil {
		return self, "", nil
	}
	cannot := b.Unavailable
	if cannot == "" && b.Local != "" && !platforms.Only(build).Match(b.Platform) {
		cannot = fmt.Sprintf("hardenkit's binary is for %s and the build runs on %s", platforms.Format(b.Platform), platforms.Format(build))
	}
	if cannot != "" {
		return nil, "", fmt.Errorf("hardenkit: %s: the smoke test cannot run: %s, so it cannot start the program inside the image under test\n  to fix: run a static hardenkit built for the build platform (CGO_ENABLED=0, as `make build` and the releases are), build through `# syntax=` with hardenkit's frontend image, or set %s off in the policy (the compliance statement records it off)",
			smoke.Rule.ID, cannot, smoke.Rule.ID)
	}
	if b.Local == "" {
		return nil, "this in-process build was given no hardenkit binary to run it with (`hardenkit build` gives its own; `# syntax=` runs it from the frontend image)", nil
	}
	st := llb.Local(b.Local,
		llb.SessionID(sessionID),
		llb.IncludePatterns([]string{strings.TrimPrefix(step.BinaryPath, "/")}),
		// The same key every build, so BuildKit sends the binary again
		// only when it changed.
		llb.SharedKeyHint(b.Local),
		llb.WithCustomName("[hardenkit] hardenkit's binary for the smoke test (through the client session)"))
	return &st, "", nil
}

// hardenedRun is the hardened image's run and how it compares.
type hardenedRun struct {
	smoke.Answer
	verdict smoke.Verdict
}

// smokeRuns runs the plain image and the hardened one side by side and,
// when the hardened program still runs but has not opened the plain one's
// ports yet, looks at it once more, longer, waiting for them.
func (p *platformBuild) smokeRuns(ctx context.Context, runner, plainState llb.State, plainImg *dockerspec.DockerOCIImage, h harden.Result) (smoke.Answer, hardenedRun, error) {
	type answer struct {
		a   smoke.Answer
		err error
	}
	plainDone := make(chan answer, 1)
	go func() {
		a, err := smoke.Run(ctx, p.c, p.smokeExec(runner, plainState, plainImg, "plain image", nil))
		plainDone <- answer{a, err}
	}()
	hard, herr := smoke.Run(ctx, p.c, p.smokeExec(runner, h.State, h.Image, "hardened image", nil))
	pr := <-plainDone
	if pr.err != nil {
		return smoke.Answer{}, hardenedRun{}, pr.err
	}
	if herr != nil {
		return smoke.Answer{}, hardenedRun{}, herr
	}
	v := smoke.Compare(pr.a, hard)
	if v.Worse || len(v.MissingPorts) == 0 {
		return pr.a, hardenedRun{hard, v}, nil
	}
	second, err := smoke.Run(ctx, p.c, p.smokeExec(runner, h.State, h.Image, "hardened image, waiting for the plain image's ports", v.MissingPorts))
	if err != nil {
		return smoke.Answer{}, hardenedRun{}, err
	}
	return pr.a, hardenedRun{second, smoke.ComparePorts(pr.a, second, v.MissingPorts)}, nil
}

// smokeExec is one run of img's program in st, by runner's binary.
func (p *platformBuild) smokeExec(runner, st llb.State, img *dockerspec.DockerOCIImage, what string, expect []int) smoke.Exec {
	cfg := img.Config
	req := smoke.Request{
		Args:         slices.Concat(cfg.Entrypoint, cfg.Cmd),
		Env:          cfg.Env,
		WorkDir:      cfg.WorkingDir,
		User:         cfg.User,
		Probe:        healthProbe(cfg.Healthcheck),
		WindowMillis: smoke.DefaultWindowMillis,
		LimitMillis:  smoke.DefaultLimitMillis,
		ExpectPorts:  expect,
	}
	e := smoke.Exec{Image: st, Frontend: runner, Request: req, Name: "[hardenkit] smoke test: " + what}
	if noCacheAll(p.bc) {
		e.Opts = []llb.RunOption{llb.IgnoreCache}
	}
	return e
}

// healthProbe is the command a HEALTHCHECK runs, nil for none.
func healthProbe(hc *dockerspec.HealthcheckConfig) []string {
	if hc == nil || len(hc.Test) < 2 {
		return nil
	}
	switch hc.Test[0] {
	case "CMD":
		return slices.Clone(hc.Test[1:])
	case "CMD-SHELL":
		return []string{"/bin/sh", "-c", strings.Join(hc.Test[1:], " ")}
	}
	return nil
}

// smokeRun is what the statement records of a run.
func smokeRun(a smoke.Answer) *compliance.SmokeRun {
	return &compliance.SmokeRun{Started: a.Started, Running: a.Running, ExitCode: a.ExitCode, Signal: a.Signal, Health: a.Health, Ports: slices.Clone(a.Ports)}
}

// removedPaths are what hardening left out of the image.
func removedPaths(h harden.Result) []string {
	var out []string
	for _, m := range h.Removed {
		out = append(out, m.Path)
	}
	for _, d := range h.NotAllowed {
		out = append(out, d.Path)
	}
	return out
}

// smokeMessage says how the hardened program did worse, its last output
// and the removed paths that output names, each with the instruction that
// wrote it.
func smokeMessage(reason string, a smoke.Answer, removed []string, cv converted) string {
	var b strings.Builder
	b.WriteString("the hardened image does not run as the unhardened one does: " + reason)
	out := a.Output
	if a.Health == smoke.Unhealthy && len(a.ProbeOutput) > 0 {
		out = append(slices.Clone(out), a.ProbeOutput...)
	}
	if len(out) > 0 {
		b.WriteString("\n  its last output:")
		for _, l := range out {
			b.WriteString("\n    | " + l)
		}
	}
	named := smoke.NamedPaths(append(slices.Clone(out), a.StartError), removed)
	if len(named) > 0 {
		b.WriteString("\n  removed by hardening and named in that output:")
		for _, p := range named {
			what, _ := cv.origins.Of(p)
			fmt.Fprintf(&b, "\n    %s [%s]", p, what)
		}
	}
	return b.String()
}

// smokeRanges are the instructions a failure points at: HEALTHCHECK for
// a probe that never passed, else ENTRYPOINT and CMD, else FROM.
func smokeRanges(l dockerfilemodel.Lines, a smoke.Answer) []parser.Range {
	if a.Health == smoke.Unhealthy && len(l.Healthcheck) > 0 {
		return l.Healthcheck
	}
	if rs := slices.Concat(l.Entrypoint, l.Cmd); len(rs) > 0 {
		return rs
	}
	return l.From
}
