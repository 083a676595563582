package dockerfilecheck

// Control: remote code executed without verification — every stage.
//
//	HK1020 RemoteScriptPipedToShell  CIS 4.12

import (
	"fmt"
	"regexp"

	"github.com/hardenkit/hardenkit/pkg/rules"
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
	f.eachScript(func(in *instr, s *script) {
		for _, p := range s.pipelines {
			if dl, sh := pipedToInterpreter(p); dl != "" {
				r.add(ruleCurlPipeShell, in.at, in.stage, fmt.Sprintf("%sRUN pipes %s output into %s; download to a file and verify its checksum or signature before running it", onbuildPrefix(in), dl, sh))
			}
		}
		for _, c := range s.calls {
			argv, _ := unwrap(c.args)
			if len(argv) == 0 || !interpreterName.MatchString(baseName(argv[0])) {
				continue
			}
			for _, sub := range c.subs {
				if dl := firstDownloader(sub); dl != "" {
					r.add(ruleCurlPipeShell, in.at, in.stage, fmt.Sprintf("%sRUN runs %s output with %s; download to a file and verify its checksum or signature before running it", onbuildPrefix(in), dl, baseName(argv[0])))
				}
			}
		}
	})
}

// pipedToInterpreter finds a downloader followed, later in the same
// pipeline, by an interpreter.
func pipedToInterpreter(p []call) (downloader, interpreter string) {
	for i, c := range p {
		argv, _ := unwrap(c.args)
		if len(argv) == 0 || !downloaders[baseName(argv[0])] {
			continue
		}
		for _, d := range p[i+1:] {
			dv, _ := unwrap(d.args)
			if len(dv) > 0 && interpreterName.MatchString(baseName(dv[0])) {
				return baseName(argv[0]), baseName(dv[0])
			}
		}
	}
	return "", ""
}

// firstDownloader returns the first downloader among calls.
func firstDownloader(calls []call) string {
	for _, c := range calls {
		if argv, _ := unwrap(c.args); len(argv) > 0 && downloaders[baseName(argv[0])] {
			return baseName(argv[0])
		}
	}
	return ""
}
