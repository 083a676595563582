package dockerfilecheck

// Control: remote code executed without verification — every stage.
//
//	HK1020 RemoteScriptPipedToShell  CIS 4.12

import (
	"fmt"
	"regexp"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

var ruleCurlPipeShell = rules.Rule{
	ID:          "HK1020",
	Name:        "RemoteScriptPipedToShell",
	Title:       "Remote script piped into a shell",
	Family:      rules.FamilySupplyChain,
	Severity:    rules.SeverityHigh,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.12"},
	Rationale:   "`curl … | sh`, `wget -O- … | bash` and `bash <(curl …)` run whatever the server (or anyone on the path) returns at build time, unverified and unreproducible; a truncated download can even run half a script.",
	Remediation: "Download to a file, verify it (a pinned sha256sum -c, or a signature), then run it; or use ADD --checksum=sha256:<digest> and RUN the checked file.",
	HelpURI:     helpURI("HK1020"),
}

var curlPipeShellControl = control{
	rules: []rules.Rule{ruleCurlPipeShell},
	check: checkCurlPipeShell,
}

// downloaders fetch URLs to stdout (or a file handed to the interpreter).
var downloaders = map[string]bool{"curl": true, "wget": true, "fetch": true, "http": true, "https": true, "aria2c": true}

// interpreterName matches programs that execute code read from stdin or a
// file: shells and the common script runtimes.
var interpreterName = regexp.MustCompile(`^(sh|bash|ash|dash|zsh|ksh|mksh|fish|python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|php[0-9.]*|pwsh|source|\.|eval)$`)

func checkCurlPipeShell(f *file, r *reporter) {
	f.eachScript(func(in *instr, s *shellscript.Script) {
		for _, p := range s.Pipelines {
			if dl, sh := pipedToInterpreter(p); dl != "" {
				r.add(ruleCurlPipeShell, in.at, in.stage, fmt.Sprintf("%sRUN pipes %s output into %s; download to a file and verify its checksum or signature before running it", onbuildPrefix(in), dl, sh))
			}
		}
		for _, c := range s.Calls {
			argv, _ := shellscript.Unwrap(c.Args)
			if len(argv) == 0 || !interpreterName.MatchString(shellscript.CommandName(argv[0])) {
				continue
			}
			for _, sub := range c.Subs {
				if dl := firstDownloader(sub); dl != "" {
					r.add(ruleCurlPipeShell, in.at, in.stage, fmt.Sprintf("%sRUN runs %s output with %s; download to a file and verify its checksum or signature before running it", onbuildPrefix(in), dl, shellscript.CommandName(argv[0])))
				}
			}
		}
	})
}

// pipedToInterpreter finds a downloader followed, later in the same
// pipeline, by an interpreter.
func pipedToInterpreter(p []shellscript.Call) (downloader, interpreter string) {
	for i, c := range p {
		argv, _ := shellscript.Unwrap(c.Args)
		if len(argv) == 0 || !downloaders[shellscript.CommandName(argv[0])] {
			continue
		}
		for _, d := range p[i+1:] {
			dv, _ := shellscript.Unwrap(d.Args)
			if len(dv) > 0 && interpreterName.MatchString(shellscript.CommandName(dv[0])) {
				return shellscript.CommandName(argv[0]), shellscript.CommandName(dv[0])
			}
		}
	}
	return "", ""
}

// firstDownloader returns the first downloader among calls.
func firstDownloader(calls []shellscript.Call) string {
	for _, c := range calls {
		if argv, _ := shellscript.Unwrap(c.Args); len(argv) > 0 && downloaders[shellscript.CommandName(argv[0])] {
			return shellscript.CommandName(argv[0])
		}
	}
	return ""
}
