// Package pin rewrites a Dockerfile so that hardenkit's pinning rules pass:
// base images get the digest the registry serves now (HK1001), package
// installs get the versions a build of the stage actually installed
// (HK1030), and ADD of a URL gets the --checksum of what the URL serves
// now (HK1010).
//
// The rewrite edits bytes inside the source ranges BuildKit's parser gives
// each instruction (and, inside RUN, the positions of the shell parser), so
// comments, continuations, heredocs and formatting stay as written; the
// Dockerfile is never printed from an AST. Whatever cannot be resolved is
// refused with the reason, and then nothing is rewritten.
//
// Resolution goes through a Resolver; the BuildKit one (NewGatewayResolver)
// uses the gateway of an in-process build, so buildkitd's registry mirrors
// and credentials apply exactly as in `hardenkit build`.
package pin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Resolver looks up what the pins are made of.
type Resolver interface {
	// ImageDigest returns the digest a registry serves for ref (a
	// normalized name with a tag): the index digest for a multi-platform
	// image.
	ImageDigest(ctx context.Context, ref string) (digest.Digest, error)
	// URLDigest returns the sha256 digest of what url serves.
	URLDigest(ctx context.Context, url string) (digest.Digest, error)
	// Installed builds the stage named stage of dockerfile and returns
	// the installed versions of the wanted packages, by manager ("apt",
	// "apk", "pip", "npm", "gem"), name to version. A package that is not
	// installed is left out.
	Installed(ctx context.Context, dockerfile []byte, stage string, wants map[string][]string) (map[string]map[string]string, error)
}

// Options are the inputs besides the Dockerfile text.
type Options struct {
	// Filename names the Dockerfile in messages.
	Filename string
	// BuildArgs are the --build-arg values; they decide ARG expansion as
	// in the build.
	BuildArgs map[string]string
	// Target is the --target stage.
	Target string
	// NamedContexts are the names of the --build-context values (as
	// buildflags.ParseBuildContexts normalizes them): a FROM of one of
	// them builds on the context, not on the registry's image.
	NamedContexts []string
}

// Change is one pin made.
type Change struct {
	// Line is the 1-based line edited.
	Line int
	// Rule is the rule the pin satisfies.
	Rule string
	// Subject is what was pinned (image, package or URL) and Pin what it
	// was pinned to.
	Subject, Pin string
}

// Result is a rewritten Dockerfile.
type Result struct {
	// Data is the new Dockerfile; equal to the input when nothing needed
	// pinning.
	Data []byte
	// Changes lists the pins, in file order.
	Changes []Change
}

// RefusedError lists what could not be pinned, each with its reason.
type RefusedError struct {
	// Filename is the Dockerfile's name.
	Filename string
	// Reasons are "line N: why" lines.
	Reasons []string
}

// Error lists every reason, one a line, so a user fixes them in one go.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s was not changed: %d pin(s) could not be resolved:\n  %s",
		e.Filename, len(e.Reasons), strings.Join(e.Reasons, "\n  "))
}

// pinRules are the rules a pinned Dockerfile must pass.
var pinRules = []string{"HK1001", "HK1010", "HK1030"}

// supported are the package managers whose installed versions Installed
// reads, and the separator of their pin syntax.
var supported = map[string]string{"apt": "=", "apk": "=", "pip": "==", "npm": "@", "gem": ":"}

// Dockerfile pins dt. It returns a *RefusedError, and no result, when
// anything the pinning rules flag cannot be pinned.
func Dockerfile(ctx context.Context, dt []byte, opt Options, r Resolver) (*Result, error) {
	if opt.Filename == "" {
		opt.Filename = dockerfilecheck.DefaultFilename
	}
	sites, err := dockerfilecheck.Unpinned(dt, dockerfilecheck.Options{Filename: opt.Filename, BuildArgs: opt.BuildArgs, Target: opt.Target})
	if err != nil {
		return nil, err
	}
	src := newSource(dt)
	p := &planner{src: src, refused: &RefusedError{Filename: opt.Filename}, contexts: opt.NamedContexts}

	// Bases and downloads first: the stages are then built on the pinned
	// bases, so the versions read are those of the image the pin names.
	for _, b := range sites.Bases {
		p.base(ctx, r, b)
	}
	for _, d := range sites.Downloads {
		p.download(ctx, r, d)
	}
	if len(sites.Packages) > 0 {
		p.packages(ctx, r, sites)
	}
	if len(p.refusals) > 0 {
		slices.SortStableFunc(p.refusals, func(a, b refusal) int { return a.line - b.line })
		for _, r := range p.refusals {
			p.refused.Reasons = append(p.refused.Reasons, r.text)
		}
		return nil, p.refused
	}
	out, err := src.apply(p.edits)
	if err != nil {
		return nil, err
	}
	if err := verify(out, opt); err != nil {
		return nil, err
	}
	slices.SortStableFunc(p.changes, func(a, b Change) int { return a.Line - b.Line })
	return &Result{Data: out, Changes: p.changes}, nil
}

// verify re-runs the pinning rules on the result: pin fails closed when
// its own output would still fail them.
func verify(dt []byte, opt Options) error {
	findings, err := dockerfilecheck.Check(dt, dockerfilecheck.Options{Filename: opt.Filename, BuildArgs: opt.BuildArgs, Target: opt.Target})
	if err != nil {
		return fmt.Errorf("checking the pinned %s: %w", opt.Filename, err)
	}
	var left []string
	for _, f := range findings {
		if slices.Contains(pinRules, f.Rule) && f.Level != rules.LevelOff {
			left = append(left, fmt.Sprintf("line %d: %s %s", f.Line, f.Rule, f.Message))
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("internal error: the pinned %s would still fail:\n  %s", opt.Filename, strings.Join(left, "\n  "))
	}
	return nil
}

// planner collects the edits and refusals of one run.
type planner struct {
	src      *source
	edits    []edit
	changes  []Change
	refused  *RefusedError
	refusals []refusal
	contexts []string
}

// refusal is one reason not to pin, at its line.
type refusal struct {
	line int
	text string
}

func (p *planner) refuse(line int, format string, args ...any) {
	p.refusals = append(p.refusals, refusal{line, fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, args...)})
}

func (p *planner) add(e edit, c Change) {
	for _, old := range p.edits {
		if old.at == e.at && old.text == e.text {
			return // two FROMs share one ARG: one edit
		}
	}
	p.edits = append(p.edits, e)
	p.changes = append(p.changes, c)
}

// base pins one FROM, or the global ARG it names.
func (p *planner) base(ctx context.Context, r Resolver, b dockerfilecheck.BaseSite) {
	ref, err := normalize(b.Image)
	if err != nil {
		p.refuse(b.Line, "base image %q: %v", b.Image, err)
		return
	}
	if named, err := reference.ParseNormalizedNamed(b.Image); err == nil && slices.Contains(p.contexts, strings.TrimSuffix(reference.FamiliarString(named), ":latest")) {
		p.refuse(b.Line, "FROM %s builds on the --build-context of that name, not on the registry's image: pin the context instead", b.Image)
		return
	}
	var at, line int
	switch {
	case b.Arg != nil:
		if b.Arg.FromBuildArg {
			p.refuse(b.Line, "the base image comes from --build-arg %s=%s: pin it there (%s@sha256:…), not in the Dockerfile", b.Arg.Name, b.Image, b.Image)
			return
		}
		if b.Arg.Line == 0 {
			p.refuse(b.Line, "the base image comes from $%s, which no global ARG sets", b.Arg.Name)
			return
		}
		at, err = p.src.argValueEnd(b.Arg.Line, b.Arg.EndLine, b.Arg.Name, b.Image)
		line = b.Arg.Line
	case strings.Contains(b.Raw, "$"):
		p.refuse(b.Line, "the base image %q is built from ARGs: make the whole image one ARG, or write it out, so the digest can be pinned with it", b.Raw)
		return
	default:
		at, err = p.src.fromImageEnd(b.Line, b.EndLine, b.Raw)
		line = b.Line
	}
	if err != nil {
		p.refuse(b.Line, "%v", err)
		return
	}
	dgst, err := r.ImageDigest(ctx, ref)
	if err != nil {
		p.refuse(b.Line, "resolving base image %s: %v", ref, err)
		return
	}
	if err := dgst.Validate(); err != nil {
		p.refuse(b.Line, "resolving base image %s: invalid digest %q: %v", ref, dgst, err)
		return
	}
	p.add(edit{at: at, text: "@" + dgst.String()}, Change{Line: line, Rule: "HK1001", Subject: b.Image, Pin: dgst.String()})
}

// download gives one ADD of a URL its --checksum.
func (p *planner) download(ctx context.Context, r Resolver, d dockerfilecheck.DownloadSite) {
	switch {
	case d.Onbuild:
		p.refuse(d.Line, "ONBUILD ADD runs in the builds that use this image: add --checksum by hand")
		return
	case d.Sources != 1:
		p.refuse(d.Line, "ADD has %d sources; --checksum applies to a single URL: split it into one ADD per URL", d.Sources)
		return
	case strings.Contains(d.URLs[0], "$") || p.src.hasVariable(d.Line, d.EndLine):
		p.refuse(d.Line, "the ADD uses variables: its URL may change between builds, write it out to pin it")
		return
	}
	at, err := p.src.afterKeyword(d.Line, "ADD")
	if err != nil {
		p.refuse(d.Line, "%v", err)
		return
	}
	dgst, err := r.URLDigest(ctx, d.URLs[0])
	if err != nil {
		p.refuse(d.Line, "downloading %s: %v", dockerfilecheck.RedactURL(d.URLs[0]), err)
		return
	}
	if dgst.Algorithm() != digest.SHA256 || dgst.Validate() != nil {
		p.refuse(d.Line, "downloading %s: no sha256 digest (%q)", dockerfilecheck.RedactURL(d.URLs[0]), dgst)
		return
	}
	p.add(edit{at: at, text: "--checksum=" + dgst.String() + " "}, Change{Line: d.Line, Rule: "HK1010", Subject: dockerfilecheck.RedactURL(d.URLs[0]), Pin: dgst.String()})
}

// packages builds every stage with unpinned installs (on the pinned bases)
// and pins each package to the version its package database lists.
func (p *planner) packages(ctx context.Context, r Resolver, sites *dockerfilecheck.PinSites) {
	type want struct {
		site  dockerfilecheck.PackageSite
		words []word
		names []string // what each word is looked up as
	}
	byStage := map[int][]want{}
	var order []int
	for _, s := range sites.Packages {
		switch {
		case s.Onbuild:
			p.refuse(s.Line, "ONBUILD RUN %s runs in the builds that use this image: pin %s by hand", s.Tool, strings.Join(s.Packages, ", "))
			continue
		case s.ExecForm:
			p.refuse(s.Line, "RUN in exec form: write the versions into the JSON array by hand (%s)", strings.Join(s.Packages, ", "))
			continue
		}
		if _, ok := supported[s.Manager]; !ok {
			p.refuse(s.Line, "%s installs %s: hardenkit pin reads the versions of apt, apk, pip, npm and gem packages only; pin %s packages in their own syntax or install from a lockfile",
				s.Tool, strings.Join(s.Packages, ", "), s.Manager)
			continue
		}
		if bad := unpinnable(s); bad != "" {
			p.refuse(s.Line, "%s", bad)
			continue
		}
		words, err := p.src.packageWords(s)
		if err != nil {
			p.refuse(s.Line, "%v", err)
			continue
		}
		names, ok := p.lookupNames(s, words)
		if !ok {
			continue
		}
		if _, ok := byStage[s.Stage]; !ok {
			order = append(order, s.Stage)
		}
		byStage[s.Stage] = append(byStage[s.Stage], want{site: s, words: words, names: names})
	}
	if len(order) == 0 {
		return
	}
	// The stages are built from the Dockerfile with the pins made so far,
	// unnamed stages given a name so they can be the build target.
	base, err := p.src.apply(p.edits)
	if err != nil {
		p.refuse(0, "%v", err)
		return
	}
	named, names, err := nameStages(base, sites.Stages)
	if err != nil {
		p.refuse(0, "%v", err)
		return
	}
	// The stages build concurrently: the daemon shares their common
	// ancestors, and a Dockerfile with a builder and a runtime stage
	// waits for one build, not two.
	type built struct {
		db  map[string]map[string]string
		err error
	}
	results := make([]built, len(order))
	var wg sync.WaitGroup
	for i, st := range order {
		asked := map[string][]string{}
		for _, w := range byStage[st] {
			asked[w.site.Manager] = append(asked[w.site.Manager], w.names...)
		}
		wg.Go(func() {
			db, err := r.Installed(ctx, named, names[st], asked)
			results[i] = built{db, err}
		})
	}
	wg.Wait()
	for i, st := range order {
		wants := byStage[st]
		installed, err := results[i].db, results[i].err
		if err != nil {
			p.refuse(wants[0].site.Line, "building stage %s to read its installed packages: %v", stageLabel(sites.Stages, st), err)
			continue
		}
		for _, w := range wants {
			db := installed[w.site.Manager]
			for j, wd := range w.words {
				name := w.names[j]
				v, ok := db[name]
				if !ok {
					p.refuse(w.site.Line, "%s %s: no package %q is installed in stage %s after the build (a virtual package, a pattern, or purged later in the RUN?): name the real package, or pin it by hand",
						w.site.Tool, wd.text, name, stageLabel(sites.Stages, st))
					continue
				}
				pinText := supported[w.site.Manager] + v
				p.add(edit{at: wd.end, text: pinText}, Change{Line: p.src.lineOf(wd.end), Rule: "HK1030", Subject: w.site.Manager + " " + wd.text, Pin: v})
			}
		}
	}
}

// unpinnable explains why an operand cannot take a version pin: apt's
// release selection (name/release) and patterns name no single package.
func unpinnable(s dockerfilecheck.PackageSite) string {
	for _, pkg := range s.Packages {
		if s.Manager == "apt" && strings.Contains(pkg, "/") {
			return fmt.Sprintf("%s %s selects a release, and apt takes a release or a version, not both: replace /release with the version", s.Tool, pkg)
		}
		if strings.ContainsAny(pkg, "*?[]^$") {
			return fmt.Sprintf("%s %s is a pattern, not a package: name the packages", s.Tool, pkg)
		}
	}
	return ""
}

// lookupNames returns the names the site's operands are installed under
// (apt's name:arch is listed as name, pip's name[extra] as name), or
// refuses the site when a version cannot be appended to an operand.
func (p *planner) lookupNames(s dockerfilecheck.PackageSite, words []word) ([]string, bool) {
	names := make([]string, len(words))
	for i, w := range words {
		switch s.Manager {
		case "apt":
			names[i], _, _ = strings.Cut(w.text, ":")
		case "apk":
			names[i] = w.text
		default:
			n, bad := languageLookupName(s.Manager, w.text)
			if bad != "" {
				p.refuse(s.Line, "%s", bad)
				return nil, false
			}
			names[i] = n
		}
	}
	return names, true
}

// stageLabel names a stage for messages, as BuildKit does.
func stageLabel(stages []dockerfilecheck.StageSite, i int) string {
	if i < len(stages) && stages[i].Name != "" {
		return stages[i].Name
	}
	return fmt.Sprintf("%d", i)
}

// errNotFound marks a text that is not where the parser said.
var errNotFound = errors.New("not found in the source text")

// normalize turns an image as written into the reference BuildKit
// resolves: docker.io/library/debian:bookworm, :latest when no tag.
func normalize(image string) (string, error) {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", err
	}
	return reference.TagNameOnly(ref).String(), nil
}
