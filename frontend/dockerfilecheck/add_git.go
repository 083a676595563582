package dockerfilecheck

// Control: git sources pinned to a commit — every stage.
//
//	HK1011 AddGitNotPinned  CIS 4.12

import (
	"fmt"

	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/util/gitutil"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleAddGitUnpinned = rules.Rule{
	ID:          "HK1011",
	Name:        "AddGitNotPinned",
	Title:       "ADD of a git repository is not pinned to a commit",
	Family:      rules.FamilySupplyChain,
	Severity:    rules.SeverityHigh,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.12"},
	Rationale:   "A branch or tag can be moved to other code at any time; only a full commit hash names exactly the source that was reviewed.",
	Remediation: "Reference the full commit: ADD https://host/org/repo.git#<40-hex commit> /src, or keep the tag and add --checksum=<commit> (BuildKit verifies the tag resolves to it).",
	HelpURI:     helpURI("HK1011"),
}

var addGitControl = control{
	rules: []rules.Rule{ruleAddGitUnpinned},
	check: checkAddGit,
}

func checkAddGit(f *file, r *reporter) {
	f.each(func(in *instr) {
		add, ok := in.cmd.(*instructions.AddCommand)
		if !ok {
			return
		}
		for _, src := range add.SourcePaths {
			ref, isGit, err := dfgitutil.ParseGitRef(src)
			if err != nil || !isGit || ref == nil || ref.IndistinguishableFromLocal {
				continue
			}
			if gitutil.IsCommitSHA(ref.Ref) || ref.Checksum != "" || add.Checksum != "" {
				continue
			}
			at := "its default branch"
			if ref.Ref != "" {
				at = fmt.Sprintf("%q", ref.Ref)
			}
			r.add(ruleAddGitUnpinned, in.at, in.stage, fmt.Sprintf("%sADD of git repository %s at %s is not pinned to a commit; use #<full commit hash> or --checksum=<commit>",
				onbuildPrefix(in), redactURL(ref.Remote), at))
		}
	})
}
