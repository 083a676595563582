package dockerfilecheck

// Control: say, before the build, what the non-root image user will own —
// shipped stage only.
//
//	HK1051 StateHandedToUser  CIS 4.1 (a note: reported at warn at most,
//	                          never failing a build)
//
// Hardening runs the image as a non-root user (the stage's USER, or the
// injected 65532) and gives that user the application's state: the
// WORKDIR, each VOLUME, and the directories the shipped stage creates
// outside system directories (llb/harden/statedirs.go has the rule). This
// control names them at their instructions, so that a reader of `hardenkit
// check` knows which paths will be writable by the application and why,
// before anything is built. System directories (users.IsSystemPath) are
// never named: they stay root's.

import (
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
	"github.com/hardenkit/hardenkit/pkg/users"
)

var ruleStateHandedToUser = rules.Rule{
	ID:          "HK1051",
	Name:        "StateHandedToUser",
	Title:       "Application state will belong to the image's non-root user",
	Family:      rules.FamilyNonRoot,
	Severity:    rules.SeverityLow,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.1"},
	Rationale:   "An image that ran as root could write everywhere; run as a non-root user it can write only what that user owns. Hardening gives the user the application's WORKDIR, VOLUMEs and the directories the shipped stage creates outside system directories, with their subtrees (executables keep their owner), so that a database created at build time or a data directory stays writable. This note names each path before the build; it is never a failure.",
	Remediation: "Nothing to change if the paths are the application's state. To keep a directory root-owned, create it in a builder stage and COPY it in, or move it below a system directory (/usr/share/<app>).",
	HelpURI:     helpURI("HK1051"),
}

var stateOwnerControl = control{
	rules: []rules.Rule{ruleStateHandedToUser},
	check: checkStateOwner,
}

// mkdirSpec are mkdir's options that take a value.
var mkdirSpec = shellscript.OptSpec{Short: "m", Long: []string{"mode", "context"}}

func checkStateOwner(f *file, r *reporter) {
	who, ok := imageUser(f)
	if !ok || f.shipped == nil {
		return
	}
	noted := map[string]bool{}
	note := func(in *instr, p, why string) {
		p = path.Clean(p)
		if !path.IsAbs(p) || strings.Contains(p, "$") || users.IsSystemPath(p) || noted[p] {
			return
		}
		noted[p] = true
		r.addNote(ruleStateHandedToUser, in, fmt.Sprintf("%s (%s) will belong to %s, with what is below it, so that the application can write there as it did as root; executables keep their owner", p, why, who))
	}
	workdir := "/"
	for _, s := range f.shippedChain() {
		for _, in := range s.instrs {
			if in.onbuild {
				continue
			}
			switch c := in.cmd.(type) {
			case *instructions.WorkdirCommand:
				workdir = under(workdir, c.Path)
				if s == f.shipped {
					note(in, workdir, "WORKDIR")
				}
			case *instructions.VolumeCommand:
				for _, v := range c.Volumes {
					note(in, under(workdir, v), "VOLUME")
				}
			case *instructions.CopyCommand:
				if s == f.shipped {
					note(in, copyDestDir(workdir, c.SourcesAndDest), "created by COPY")
				}
			case *instructions.AddCommand:
				if s == f.shipped {
					note(in, copyDestDir(workdir, c.SourcesAndDest), "created by ADD")
				}
			}
		}
	}
	f.eachCall(func(in *instr, argv []string, _ shellscript.Call) {
		if in.stage != f.shipped || in.onbuild || shellscript.CommandName(argv[0]) != "mkdir" {
			return
		}
		for _, d := range mkdirSpec.Operands(argv[1:]) {
			note(in, d, "created by RUN mkdir")
		}
	})
}

// copyDestDir is the directory a COPY or ADD creates: its destination when
// that is a directory (a trailing slash, several sources, a directory
// source), else the destination's parent.
func copyDestDir(workdir string, sd instructions.SourcesAndDest) string {
	dest := under(workdir, sd.DestPath)
	dir := strings.HasSuffix(sd.DestPath, "/") || len(sd.SourcePaths) > 1
	for _, s := range sd.SourcePaths {
		dir = dir || s == "." || strings.HasSuffix(s, "/")
	}
	if dir {
		return dest
	}
	return path.Dir(dest)
}

// under resolves p against the directory dir, as WORKDIR does.
func under(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

// imageUser describes who the shipped image will run as when that is not
// root: the last USER of the shipped stage's chain, or the policy's
// injected user when there is none.
func imageUser(f *file) (string, bool) {
	last := ""
	for _, s := range f.shippedChain() {
		for _, in := range s.instrs {
			if u, ok := in.cmd.(*instructions.UserCommand); ok && !in.onbuild {
				last = u.User
			}
		}
	}
	if last != "" {
		return "USER " + last, !isRootUser(last) && !strings.Contains(last, "$")
	}
	u := f.opt.Policy.Controls.User
	if !u.Inject {
		return "", false
	}
	return fmt.Sprintf("the injected user %d:%d", u.UID, u.GID), true
}

// addNote reports a note: at the policy's level, but never above warn,
// since it describes what hardening does rather than a defect.
func (r *reporter) addNote(rule rules.Rule, in *instr, msg string) {
	if r.f.opt.Policy.Level(rule) == rules.LevelOff {
		return
	}
	n := len(r.findings)
	r.add(rule, in.at, in.stage, msg)
	for i := n; i < len(r.findings); i++ {
		r.findings[i].Level = rules.LevelWarn
	}
}
