package dockerfilecheck

// Control: the shipped image declares a HEALTHCHECK — shipped stage only
// (with the stages it is built FROM), and only when it is a service: it
// declares what to run (ENTRYPOINT, CMD) or a port (EXPOSE). A stage with
// none of them is an export stage (FROM scratch AS binary), a toolchain or
// a base image for others, where a health check means nothing. The policy
// baselines run this rule at `warn`: a HEALTHCHECK inherited from the base
// image is invisible to a static check, and some platforms (Kubernetes)
// probe health themselves.
//
//	HK1090 HealthcheckMissing  CIS 4.6

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleHealthcheck = rules.Rule{
	ID:          "HK1090",
	Name:        "HealthcheckMissing",
	Title:       "Shipped image has no HEALTHCHECK",
	Family:      rules.FamilyHardening,
	Severity:    rules.SeverityLow,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.6"},
	Rationale:   "Without a HEALTHCHECK the engine only knows whether the process exists, not whether it serves: a hung application keeps receiving traffic and is never restarted (CIS 4.6). Warn by default in the baselines, since orchestrators with their own probes may not need it. Only service images are checked: a shipped stage with no ENTRYPOINT, CMD or EXPOSE (an export stage, a toolchain or base image) is not reported.",
	Remediation: "Add HEALTHCHECK CMD [\"/app\", \"healthcheck\"] (exec form, so it works without a shell) to the shipped stage, or configure the orchestrator's probes and set this rule to off in the policy.",
	HelpURI:     helpURI("HK1090"),
}

var healthcheckControl = control{
	rules: []rules.Rule{ruleHealthcheck},
	check: checkHealthcheck,
}

func checkHealthcheck(f *file, r *reporter) {
	var last *instr
	service := false
	for _, s := range f.shippedChain() {
		for _, in := range s.instrs {
			if in.onbuild {
				continue
			}
			switch in.cmd.(type) {
			case *instructions.HealthCheckCommand:
				last = in
			case *instructions.CmdCommand, *instructions.EntrypointCommand, *instructions.ExposeCommand:
				service = true
			}
		}
	}
	if last == nil && !service {
		return
	}
	if last == nil {
		s := f.shipped
		r.add(ruleHealthcheck, s.from, s, fmt.Sprintf("the shipped stage %s has no HEALTHCHECK; add HEALTHCHECK CMD [...] in exec form", stageDescription(s)))
		return
	}
	hc := last.cmd.(*instructions.HealthCheckCommand)
	if hc.Health != nil && len(hc.Health.Test) > 0 && strings.EqualFold(hc.Health.Test[0], "NONE") {
		r.add(ruleHealthcheck, last.at, last.stage, "HEALTHCHECK NONE disables health checking for the shipped image; declare a HEALTHCHECK CMD instead")
	}
}

// stageDescription names a stage for messages: "final" or "#2".
func stageDescription(s *stage) string {
	if s.name != "" {
		return fmt.Sprintf("%q", s.name)
	}
	return fmt.Sprintf("#%d", s.index)
}
