package dockerfilecheck

// Control: remote ADD integrity — every stage.
//
//	HK1010 AddURLWithoutChecksum  CIS 4.9, 4.12

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleAddURLChecksum = rules.Rule{
	ID:          "HK1010",
	Name:        "AddURLWithoutChecksum",
	Title:       "ADD downloads a URL without --checksum",
	Family:      rules.FamilySupplyChain,
	Severity:    rules.SeverityHigh,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.9", "4.12"},
	Rationale:   "ADD <url> puts whatever the server returns into the image. Without --checksum a compromised or changed download goes unnoticed and the build is not reproducible.",
	Remediation: "Run `hardenkit pin CONTEXT`: it downloads the URL through buildkitd and writes ADD --checksum=sha256:<digest> (BuildKit verifies it before use). Or download in a RUN and verify a checksum or signature there.",
	HelpURI:     helpURI("HK1010"),
}

var addChecksumControl = control{
	rules: []rules.Rule{ruleAddURLChecksum},
	check: checkAddChecksum,
}

func checkAddChecksum(f *file, r *reporter) {
	f.each(func(in *instr) {
		add, ok := in.cmd.(*instructions.AddCommand)
		if !ok || add.Checksum != "" {
			return
		}
		for _, src := range add.SourcePaths {
			if isHTTPSource(src) {
				r.add(ruleAddURLChecksum, in.at, in.stage, fmt.Sprintf("%sADD downloads %s without --checksum; add --checksum=sha256:<digest> (`hardenkit pin` writes it)", onbuildPrefix(in), redactURL(src)))
			}
		}
	})
}

// isHTTPSource mirrors dockerfile2llb: an http(s) URL that is not a git
// repository.
func isHTTPSource(src string) bool {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		return false
	}
	return !isGitSource(src)
}

// isGitSource mirrors dockerfile2llb's isGitSource.
func isGitSource(src string) bool {
	ref, isGit, err := dfgitutil.ParseGitRef(src)
	return err == nil && isGit && ref != nil && !ref.IndistinguishableFromLocal
}

// redactURL quotes a URL for a message without credentials or query
// strings, which often carry tokens (signed URLs).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Sprintf("%q", s)
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return fmt.Sprintf("%q", u.String())
}

// onbuildPrefix marks messages about ONBUILD triggers, which run in the
// builds that use this image as their base.
func onbuildPrefix(in *instr) string {
	if in.onbuild {
		return "ONBUILD "
	}
	return ""
}
