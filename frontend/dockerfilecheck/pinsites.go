package dockerfilecheck

// Pin sites: what the pinning rules (HK1001, HK1010, HK1030) would report,
// as data, so `hardenkit pin` fixes exactly what the checks flag and nothing
// else. The rules stay the one owner of "what is unpinned".

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// PinSites are the places of a Dockerfile the pinning rules flag.
type PinSites struct {
	// Stages lists every stage in order, so a caller can build one.
	Stages []StageSite
	// Bases are FROM lines whose image is not pinned by digest (HK1001).
	Bases []BaseSite
	// Packages are package-manager installs without versions (HK1030).
	Packages []PackageSite
	// Downloads are ADD instructions of URLs without --checksum (HK1010).
	Downloads []DownloadSite
}

// StageSite is one stage's FROM.
type StageSite struct {
	// Name is the stage's name; "" when unnamed.
	Name string
	// Line and EndLine are the FROM instruction's 1-based lines.
	Line, EndLine int
}

// BaseSite is one FROM whose image has no digest.
type BaseSite struct {
	// Stage is the stage's index.
	Stage int
	// Line and EndLine are the FROM instruction's 1-based lines.
	Line, EndLine int
	// Raw is the image as written after FROM; Image is it expanded with
	// the global ARGs (what BuildKit pulls).
	Raw, Image string
	// Arg is set when Raw is exactly one global ARG reference ($X, ${X}):
	// the digest then belongs in that ARG's default.
	Arg *ArgSite
}

// ArgSite is the global ARG a FROM takes its image from.
type ArgSite struct {
	// Name is the ARG's name.
	Name string
	// Line and EndLine are the ARG instruction's lines; zero when no
	// global ARG of that name exists.
	Line, EndLine int
	// FromBuildArg is true when a --build-arg overrides the default, so
	// the Dockerfile does not decide the image.
	FromBuildArg bool
}

// PackageSite is one package-manager invocation installing packages
// without a version.
type PackageSite struct {
	// Stage is the stage's index.
	Stage int
	// Line and EndLine are the RUN instruction's lines.
	Line, EndLine int
	// Manager is apt, apk, pip, npm, gem, rpm or zypper; Tool the
	// command as invoked (apt-get, pip3, …).
	Manager, Tool string
	// Packages are the unpinned operands, as the check saw them (after
	// variable expansion).
	Packages []string
	// Onbuild marks an ONBUILD trigger: it runs in a downstream build.
	Onbuild bool
	// ExecForm marks a RUN in JSON (exec) form.
	ExecForm bool
}

// DownloadSite is one ADD of http(s) URLs without --checksum.
type DownloadSite struct {
	// Stage is the stage's index.
	Stage int
	// Line and EndLine are the ADD instruction's lines.
	Line, EndLine int
	// URLs are the downloaded sources, expanded.
	URLs []string
	// Sources counts every source of the ADD, URLs or not: BuildKit
	// takes --checksum only for a single source.
	Sources int
	// Onbuild marks an ONBUILD trigger.
	Onbuild bool
}

// argRef matches a word that is exactly one variable reference.
var argRef = regexp.MustCompile(`^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$`)

// Unpinned analyses dt as Check does and returns what the pinning rules
// flag, whatever level the policy gives them.
func Unpinned(dt []byte, opt Options) (*PinSites, error) {
	if opt.Filename == "" {
		opt.Filename = DefaultFilename
	}
	m, err := Parse(dt, opt.Filename)
	if err != nil {
		return nil, err
	}
	f, err := analyse(m, opt)
	if err != nil {
		return nil, err
	}
	out := &PinSites{}
	for _, s := range f.stages {
		out.Stages = append(out.Stages, StageSite{Name: s.name, Line: s.from.start, EndLine: s.from.end})
		ref, ok := s.imageRef()
		if !ok {
			continue
		}
		if _, digested := ref.(reference.Canonical); digested {
			continue
		}
		b := BaseSite{Stage: s.index, Line: s.from.start, EndLine: s.from.end, Raw: s.baseRaw, Image: s.base}
		if m := argRef.FindStringSubmatch(s.baseRaw); m != nil {
			b.Arg = f.globalArg(m[1] + m[2])
		}
		out.Bases = append(out.Bases, b)
	}
	f.eachCall(func(in *instr, argv []string, _ shellscript.Call) {
		op, ok := pkgOpOf(argv)
		if !ok {
			return
		}
		if pkgs := op.unpinned(); len(pkgs) > 0 {
			run, _ := in.cmd.(*instructions.RunCommand)
			out.Packages = append(out.Packages, PackageSite{
				Stage: in.stage.index, Line: in.at.start, EndLine: in.at.end,
				Manager: op.manager, Tool: op.tool, Packages: pkgs, Onbuild: in.onbuild,
				ExecForm: run != nil && !run.PrependShell,
			})
		}
	})
	f.each(func(in *instr) {
		add, ok := in.cmd.(*instructions.AddCommand)
		if !ok || add.Checksum != "" {
			return
		}
		d := DownloadSite{Line: in.at.start, EndLine: in.at.end, Onbuild: in.onbuild}
		if in.stage != nil {
			d.Stage = in.stage.index
		}
		d.Sources = len(add.SourcePaths)
		for _, src := range add.SourcePaths {
			if isHTTPSource(src) {
				d.URLs = append(d.URLs, src)
			}
		}
		if len(d.URLs) > 0 {
			out.Downloads = append(out.Downloads, d)
		}
	})
	return out, nil
}

// globalArg finds the global ARG named name (the last one wins, as in
// dockerfile2llb).
func (f *file) globalArg(name string) *ArgSite {
	a := &ArgSite{Name: name}
	for _, in := range f.metaArgs {
		c, ok := in.cmd.(*instructions.ArgCommand)
		if !ok {
			continue
		}
		for _, kv := range c.Args {
			if kv.Key == name {
				a.Line, a.EndLine = in.at.start, in.at.end
			}
		}
	}
	_, a.FromBuildArg = f.opt.BuildArgs[name]
	return a
}

// RedactURL quotes a URL for a message without credentials or query
// strings, as the findings do.
func RedactURL(s string) string { return redactURL(s) }

// String describes a package site for messages.
func (p PackageSite) String() string {
	return fmt.Sprintf("line %d: %s %s", p.Line, p.Tool, strings.Join(p.Packages, " "))
}
