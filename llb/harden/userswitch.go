package harden

// User switches in entrypoint scripts (HK2011, CIS 4.1 and 4.3).
//
// The official images' entrypoints start as root, prepare the data
// directory (chown -R app /data) and drop to the application's user with
// a switching program: `exec gosu app "$@"`. A hardened image has neither
// the shell nor root to do that, so the advice for such a script must say
// who the program runs as: USER <that user>, which hardenkit then gives
// the stage's WORKDIR, VOLUMEs and the directories it created
// (statedirs.go). Leaving it out gives an image that runs as the injected
// 65532 and cannot write the data the script would have chowned.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// userSwitch is a command that runs another as a given user.
type userSwitch struct {
	// program is the switching program's name (gosu).
	program string
	// user is the user[:group] it switches to, as written.
	user string
	// rest is the command it runs.
	rest []string
}

// switchers are the programs that run a command as another user, with
// how each names the user: as its first operand (gosu, su-exec,
// s6-setuidgid) or as the value of an option.
var switchers = map[string]struct {
	// long and short name the option that takes the user; neither means
	// the first operand.
	long  string
	short byte
	spec  shellscript.OptSpec
}{
	"gosu":         {},
	"su-exec":      {},
	"s6-setuidgid": {},
	"chpst":        {short: 'u', spec: shellscript.OptSpec{Short: "ugUbenlLmdofcpr"}},
	"runuser":      {long: "user", short: 'u', spec: shellscript.OptSpec{Short: "ugG", Long: []string{"user", "group", "supp-group"}}},
	"setpriv":      {long: "reuid", spec: shellscript.OptSpec{Long: []string{"reuid", "regid", "ruid", "euid", "rgid", "egid", "groups", "inh-caps", "ambient-caps", "bounding-set", "securebits", "pdeathsig", "selinux-label", "apparmor-profile", "landlock-access", "landlock-rule"}}},
}

// switchOf recognises a user switch at the front of a command.
func switchOf(words []string) (userSwitch, bool) {
	if len(words) == 0 {
		return userSwitch{}, false
	}
	name := shellscript.CommandName(words[0])
	sw, ok := switchers[name]
	if !ok {
		return userSwitch{}, false
	}
	args := words[1:]
	if sw.long == "" && sw.short == 0 {
		if len(args) == 0 {
			return userSwitch{}, false
		}
		return userSwitch{program: name, user: args[0], rest: args[1:]}, true
	}
	user, ok := sw.spec.OptionValue(args, sw.long, sw.short)
	if !ok || user == "" {
		return userSwitch{}, false
	}
	rest := args[sw.spec.FirstOperand(args):]
	if len(rest) > 0 && rest[0] == "--" {
		rest = rest[1:]
	}
	return userSwitch{program: name, user: user, rest: rest}, true
}

// userWord is a literal user[:group]: a name or number, no expansion.
var userWord = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$`)

// advice says how to run as that user without the switching program.
func (s userSwitch) advice() string {
	user := "<the user it switches to>"
	if userWord.MatchString(s.user) {
		user = s.user
	}
	return fmt.Sprintf(". It runs the program as another user with %s, which needs root: add USER %s at the end of the stage instead"+
		" (hardenkit gives that user the stage's WORKDIR, VOLUMEs and the directories the stage created, which such a script usually chowns)",
		s.program, user)
}

// addTo writes the advice as an edit: USER at the end of the stage.
func (s userSwitch) addTo(fx *stageFix) {
	if userWord.MatchString(s.user) {
		fx.appendLine("USER " + s.user)
		return
	}
	fx.manual("the user " + s.program + " switches to is computed at run time: add USER with that user yourself")
}

// checkSwitchingEntrypoint fails a build whose ENTRYPOINT or CMD is itself
// a user switch (`ENTRYPOINT ["gosu", "app", "server"]`): the hardened
// image runs as a non-root user, which cannot switch users, so the image
// would fail at its first instruction. The error says how to start the
// program as that user instead.
func checkSwitchingEntrypoint(in Input) error {
	cfg := in.Image.Config
	if in.Config.Distroless.Mode != DistrolessRebase || in.Config.level(ruleRebase) == rules.LevelOff || runsAsRoot(in) {
		return nil
	}
	argv := append(slices.Clone(cfg.Entrypoint), cfg.Cmd...)
	sw, ok := switchOf(argv)
	if !ok {
		return nil
	}
	instr := "CMD"
	if len(cfg.Entrypoint) > 0 {
		instr = "ENTRYPOINT"
	}
	msg := fmt.Sprintf("%s starts with %s, which switches users and needs root, but the hardened image runs as a non-root user", instr, sw.program)
	fx := &stageFix{lines: in.Lines}
	if len(sw.rest) > 0 && !slices.ContainsFunc(sw.rest, isExpansion) {
		msg += fmt.Sprintf("; write ENTRYPOINT %s here and remove the CMD", execForm(sw.rest))
		fx.set(entrypointRanges(in.Lines), "ENTRYPOINT "+execForm(sw.rest))
		if len(in.Lines.Entrypoint) > 0 {
			fx.remove(in.Lines.Cmd)
		}
	} else {
		fx.manual("the command " + sw.program + " runs is computed at run time: write it as the ENTRYPOINT in exec form")
	}
	sw.addTo(fx)
	return &Violation{Rule: ruleRebase.ID, Ranges: entrypointRanges(in.Lines), Message: msg + sw.advice() + fx.String()}
}

// runsAsRoot reports whether the image's USER names root, which hardening
// keeps only when the policy lets it (HK2030 at warn or off).
func runsAsRoot(in Input) bool {
	u, _, _ := strings.Cut(in.Image.Config.User, ":")
	if u == "" {
		return !in.Config.User.Inject
	}
	return u == "root" || u == "0"
}
