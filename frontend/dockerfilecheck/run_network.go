package dockerfilecheck

// Control: build steps stay in BuildKit's network sandbox — every stage.
//
//	HK1040 RunNetworkHost  (no CIS item; hardening)

import (
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleRunNetworkHost = rules.Rule{
	ID:          "HK1040",
	Name:        "RunNetworkHost",
	Title:       "RUN --network=host",
	Family:      rules.FamilyHardening,
	Severity:    rules.SeverityHigh,
	Stage:       rules.StageStatic,
	Rationale:   "--network=host gives the build step the builder host's network namespace: it can reach services bound to the host's loopback and internal networks, and its downloads bypass any egress controls on the build sandbox.",
	Remediation: "Drop --network=host; fetch what the step needs with the default network, or with --network=none plus ADD --checksum for full isolation.",
	HelpURI:     helpURI("HK1040"),
}

var runNetworkControl = control{
	rules: []rules.Rule{ruleRunNetworkHost},
	check: checkRunNetwork,
}

func checkRunNetwork(f *file, r *reporter) {
	f.each(func(in *instr) {
		if run, ok := in.cmd.(*instructions.RunCommand); ok && instructions.GetNetwork(run) == instructions.NetworkHost {
			r.add(ruleRunNetworkHost, in.at, in.stage, onbuildPrefix(in)+"RUN --network=host runs the step in the builder host's network namespace; use the default network")
		}
	})
}
