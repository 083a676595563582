package harden

// Verification after hardening.
//
//	HK2050 HardeningNotVerified — the hardened filesystem is read back; the
//	                              build fails if a removed tool category is
//	                              still present, the user resolves to root,
//	                              a setuid/setgid bit survived, or a file's
//	                              time is not the epoch.

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/tooling"
	"github.com/hardenkit/hardenkit/pkg/users"
)

var ruleVerify = rules.Rule{
	ID: "HK2050", Name: "HardeningNotVerified", Title: "Hardened image does not hold what the controls promised",
	Family: rules.FamilyHardening, Severity: rules.SeverityCritical, Stage: rules.StageLLB,
	Rationale:   "Controls are checked on the bytes that ship, not on the intent: an image that fails the check is never exported.",
	Remediation: "Report a bug with the Dockerfile: the hardening did not produce what it should have.",
	HelpURI:     rules.HelpURI("HK2050"),
}

// userProblem begins the problems about the image's USER, which the error
// points at the USER instruction for.
const userProblem = "user "

// maxVerifyProblems bounds how many problems one error lists.
const maxVerifyProblems = 20

// verify checks the hardened filesystem tree (read through src) for a
// config whose USER is user: it returns the controls that did not hold,
// the image paths they are about (in order, each once, bounded) and what it
// reports without failing (world-writable paths at warn).
func verify(ctx context.Context, in Input, tree *rootfs.Tree, src rootfs.Source, user string, tl tooling.Lists) (problems, paths []string, reported []rules.Finding, err error) {
	about := func(p string) {
		if len(paths) < maxVerifyProblems && (len(paths) == 0 || paths[len(paths)-1] != p) {
			paths = append(paths, p)
		}
	}
	reported = worldWritable(tree, in.Config.level(ruleWorldWritable))
	matches, err := tooling.Detect(ctx, tree, src, tl)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("verifying tooling removal: %w", err)
	}
	for _, m := range matches {
		if !keptByPolicy(m.Path, in.Config.Tooling.Keep) {
			problems = append(problems, fmt.Sprintf("%s %s is still present (%s)", m.Category, m.Path, m.Reason))
			about(m.Path)
		}
	}
	epoch := in.Epoch.UnixNano()
	for _, e := range tree.Entries() {
		if isSpecial(e) && in.Config.level(ruleSpecialFile) != rules.LevelOff {
			problems = append(problems, fmt.Sprintf("%s is a %s", e.Path, specialKind(e.Mode)))
			about(e.Path)
		}
		if e.Mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 && !e.Mode.IsDir() {
			problems = append(problems, fmt.Sprintf("%s keeps its setuid/setgid bit", e.Path))
			about(e.Path)
		}
		// The root directory is not an entry of the layer.
		if e.ModTime != epoch && e.Mode&fs.ModeSymlink == 0 && e.Path != "/" {
			problems = append(problems, fmt.Sprintf("%s has mtime %d, not SOURCE_DATE_EPOCH %d", e.Path, e.ModTime, in.Epoch.Unix()))
			about(e.Path)
		}
	}
	var passwd, group []byte
	if _, ok := tree.Lookup(passwdPath); ok {
		if passwd, err = src.ReadFile(ctx, passwdPath, 0, 0); err != nil {
			return nil, nil, nil, fmt.Errorf("verifying user: %w", err)
		}
	}
	if _, ok := tree.Lookup(groupPath); ok {
		if group, err = src.ReadFile(ctx, groupPath, 0, 0); err != nil {
			return nil, nil, nil, fmt.Errorf("verifying user: %w", err)
		}
	}
	if in.Config.level(ruleRunsAsRoot) == rules.LevelEnforce {
		uid, gid, err := users.Resolve(user, passwd, group)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf(userProblem+"%q does not resolve in the hardened image: %v", user, err))
		case users.IsRoot(uid, gid):
			problems = append(problems, fmt.Sprintf(userProblem+"%q resolves to root (%d:%d)", user, uid, gid))
		}
	}
	if in.Config.level(ruleWorldWritable) == rules.LevelEnforce {
		for _, f := range reported {
			problems = append(problems, f.Message)
			about(f.File)
		}
		reported = nil
	}
	if len(problems) > 0 {
		return problems, paths, nil, nil
	}
	return nil, nil, reported, nil
}

// boundPaths returns at most maxVerifyProblems of paths: a Violation names
// the instructions of the paths its message lists, not of thousands.
func boundPaths(paths []string) []string {
	if len(paths) > maxVerifyProblems {
		return paths[:maxVerifyProblems]
	}
	return paths
}

// verifyMessage is HK2050's message: the first problem on the first line —
// clients that show one line of an error still show the reason — the rest
// below it, bounded, and what to do.
func verifyMessage(problems []string) string {
	n := len(problems)
	if n == 0 {
		// verify returns no violation without a problem; a message that
		// ends in a colon must never be shown.
		problems, n = []string{"no problem was recorded (a bug in hardenkit)"}, 1
	}
	msg := "the hardened image failed verification: " + problems[0]
	rest := problems[1:]
	if len(rest) > maxVerifyProblems-1 {
		rest = append(rest[:maxVerifyProblems-1], fmt.Sprintf("… and %d more", n-maxVerifyProblems))
	}
	if len(rest) > 0 {
		msg += fmt.Sprintf(" (and %d more)\n    %s", n-1, strings.Join(rest, "\n    "))
	}
	return msg + "\n  to fix: " + verifyRemedy
}

// verifyRemedy says what to do about an HK2050 failure.
const verifyRemedy = "a tool that is still present is kept by controls.tooling.keep or shipped under a name hardenkit does not recognise — remove it from the final stage (or list it in controls.tooling.keep if the application needs it); a USER that does not resolve needs its entry in /etc/passwd and /etc/group of the final stage, or a numeric uid:gid; world-writable paths need chmod o-w in the instruction that creates them; anything else (a setuid bit or a timestamp that survived) is a bug in hardenkit — report it with the Dockerfile"

// Rules returns the rules of the LLB hardening controls.
func Rules() []rules.Rule {
	return []rules.Rule{
		ruleReproducible, ruleBaseNotAllowed, ruleRebase,
		rulePackageManager, ruleNetworkTool, ruleDebugger, ruleShell, ruleConfigTool,
		ruleRunsAsRoot, ruleSetuid, ruleWorldWritable, ruleSpecialFile, ruleVerify,
	}
}
