package dockerfilecheck

// Control: no SSH server in the image — the shipped image only.
//
//	HK1043 ExposeSSH  (no CIS §4 item; CIS 5.6 forbids sshd in containers)

import (
	"fmt"
	"strings"

	"github.com/docker/go-connections/nat"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleExposeSSH = rules.Rule{
	ID:          "HK1043",
	Name:        "ExposeSSH",
	Title:       "Shipped image exposes port 22 (SSH)",
	Family:      rules.FamilyTooling,
	Severity:    rules.SeverityMedium,
	Stage:       rules.StageStatic,
	Rationale:   "An SSH server in a container is an extra remote login surface with its own keys and users to manage; CIS Docker Benchmark 5.6 says not to run sshd in containers. `docker exec` or `kubectl exec` covers debugging.",
	Remediation: "Remove EXPOSE 22 and the SSH server; use docker exec / kubectl exec or an ephemeral debug container.",
	HelpURI:     helpURI("HK1043"),
}

var exposeSSHControl = control{
	rules: []rules.Rule{ruleExposeSSH},
	check: checkExposeSSH,
}

func checkExposeSSH(f *file, r *reporter) {
	for _, s := range f.shippedChain() {
		for _, in := range s.instrs {
			ex, ok := in.cmd.(*instructions.ExposeCommand)
			if !ok {
				continue
			}
			for _, p := range ex.Ports {
				if exposesPort(p, 22) {
					r.add(ruleExposeSSH, in.at, s, fmt.Sprintf("%sEXPOSE %s in the shipped image publishes SSH; remove it", onbuildPrefix(in), p))
				}
			}
		}
	}
}

// exposesPort reports whether an EXPOSE spec (80, 80/tcp, 8000-8100/tcp)
// covers a TCP port, parsed as Docker parses it.
func exposesPort(spec string, port int) bool {
	p := nat.Port(spec)
	if !strings.EqualFold(p.Proto(), "tcp") {
		return false
	}
	start, end, err := nat.ParsePortRangeToInt(p.Port())
	return err == nil && start <= port && port <= end
}
