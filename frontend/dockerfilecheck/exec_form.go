package dockerfilecheck

// Control: the container's main process is exec'd directly — shipped
// stage only (the effective CMD and ENTRYPOINT, inherited ones included).
//
//	HK1080 ShellFormCmdOrEntrypoint  (no CIS item; hardening)

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

var ruleShellForm = rules.Rule{
	ID:          "HK1080",
	Name:        "ShellFormCmdOrEntrypoint",
	Title:       "Shipped image's CMD, ENTRYPOINT or HEALTHCHECK is in shell form",
	Family:      rules.FamilyHardening,
	Severity:    rules.SeverityLow,
	Stage:       rules.StageStatic,
	Rationale:   "Shell form runs the process as a child of /bin/sh -c: PID 1 is the shell, which does not forward SIGTERM, so the application is killed instead of shutting down cleanly; the image also needs a shell, which minimal and distroless images leave out. A shell-form ENTRYPOINT also ignores CMD and `docker run` arguments, and a shell-form HEALTHCHECK CMD fails in an image without a shell (reported as a warning at most).",
	Remediation: "Use exec (JSON) form: CMD [\"/app\", \"--flag\"]. When the command needs shell features (variables, pipes), put it in a script that ends with `exec`, and run the script in exec form.",
	HelpURI:     helpURI("HK1080"),
}

var execFormControl = control{
	rules: []rules.Rule{ruleShellForm},
	check: checkExecForm,
}

func checkExecForm(f *file, r *reporter) {
	var lastCmd, lastEntrypoint, lastHealth *instr
	for _, s := range f.shippedChain() {
		for _, in := range s.instrs {
			switch c := in.cmd.(type) {
			case *instructions.HealthCheckCommand:
				if !in.onbuild {
					lastHealth = in
				}
			case *instructions.CmdCommand:
				if in.onbuild {
					reportShellForm(r, in, "CMD", c.ShellDependantCmdLine)
					continue
				}
				lastCmd = in
			case *instructions.EntrypointCommand:
				if in.onbuild {
					reportShellForm(r, in, "ENTRYPOINT", c.ShellDependantCmdLine)
					continue
				}
				lastEntrypoint = in
			}
		}
	}
	if lastEntrypoint != nil {
		reportShellForm(r, lastEntrypoint, "ENTRYPOINT", lastEntrypoint.cmd.(*instructions.EntrypointCommand).ShellDependantCmdLine)
	}
	if lastCmd != nil {
		reportShellForm(r, lastCmd, "CMD", lastCmd.cmd.(*instructions.CmdCommand).ShellDependantCmdLine)
	}
	if lastHealth != nil {
		reportShellHealthcheck(r, lastHealth)
	}
}

// reportShellHealthcheck notes a HEALTHCHECK CMD in shell form: the engine
// runs it with /bin/sh -c inside the container, which a minimal image lacks.
func reportShellHealthcheck(r *reporter, in *instr) {
	hc := in.cmd.(*instructions.HealthCheckCommand)
	if hc.Health == nil || len(hc.Health.Test) < 2 || hc.Health.Test[0] != "CMD-SHELL" {
		return
	}
	// A note, not a failure: the health check still runs where the image
	// keeps a shell, and the LLB controls (HK2024) judge what it needs.
	r.addNote(ruleShellForm, in, fmt.Sprintf("HEALTHCHECK CMD is in shell form: it runs through /bin/sh -c, which a minimal image lacks; %s", execFormAdvice(r.f, "HEALTHCHECK CMD", strings.Join(hc.Health.Test[1:], " "))))
}

// reportShellForm reports a shell-form CMD/ENTRYPOINT with the exec form
// to write instead.
func reportShellForm(r *reporter, in *instr, kind string, cl instructions.ShellDependantCmdLine) {
	if !cl.PrependShell || len(cl.CmdLine) == 0 {
		return
	}
	src := strings.Join(cl.CmdLine, " ")
	r.add(ruleShellForm, in.at, in.stage, fmt.Sprintf("%s%s is in shell form, so /bin/sh is PID 1 and signals do not reach the process; %s", onbuildPrefix(in), kind, execFormAdvice(r.f, kind, src)))
}

// execFormAdvice shows the exec form of a simple command, or says to use
// a script when the command needs the shell. A command holding a secret
// is not repeated.
func execFormAdvice(f *file, kind, src string) string {
	const scripted = "move the shell logic into a script ending in exec and use its exec form"
	if f.hasSecret(src) {
		return "use exec (JSON) form"
	}
	file, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil || len(file.Stmts) != 1 {
		return scripted
	}
	st := file.Stmts[0]
	ce, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(st.Redirs) > 0 || len(ce.Assigns) > 0 || st.Background || st.Negated {
		return scripted
	}
	var argv []string
	for _, w := range ce.Args {
		for _, p := range w.Parts {
			switch p := p.(type) {
			case *syntax.Lit, *syntax.SglQuoted:
			case *syntax.DblQuoted:
				if !literalDblQuoted(p) {
					return scripted
				}
			default:
				return scripted
			}
		}
		argv = append(argv, shellscript.WordString(w))
	}
	if len(argv) > 0 && argv[0] == "exec" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return scripted
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(argv); err != nil {
		return scripted
	}
	return fmt.Sprintf("write %s %s", kind, strings.TrimSpace(b.String()))
}

// literalDblQuoted reports whether a "…" word has no expansions.
func literalDblQuoted(q *syntax.DblQuoted) bool {
	for _, p := range q.Parts {
		if _, ok := p.(*syntax.Lit); !ok {
			return false
		}
	}
	return true
}
