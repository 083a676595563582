package inspect

// Exposed ports.
//
//	HK3041 ExposesSSH  (no CIS §4 item; CIS 5.6 forbids sshd in
//	                   containers; trivy DS004) — the config exposes TCP
//	                   port 22.
//
// The static rule HK1043 sees EXPOSE in the Dockerfile; this one sees the
// config, which also carries ports inherited from the base image.

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/docker/go-connections/nat"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleExposesSSH = imageRule(rules.Rule{
	ID: "HK3041", Name: "ImageExposesSSH", Title: "Image config exposes port 22 (SSH)",
	Family: rules.FamilyTooling, Severity: rules.SeverityMedium,
	Rationale:   "An SSH server in a container is an extra remote login surface with its own keys and users; CIS Docker Benchmark 5.6 says not to run sshd in containers. docker exec and kubectl exec cover debugging.",
	Remediation: "Remove EXPOSE 22 and the SSH server; a base image that exposes it is the wrong base.",
})

var configPortsCheck = check{rules: []rules.Rule{ruleExposesSSH}, run: checkConfigPorts}

func checkConfigPorts(_ context.Context, e *env) ([]rules.Finding, error) {
	var out []rules.Finding
	for _, spec := range slices.Sorted(maps.Keys(e.in.Image.Config.ExposedPorts)) {
		if exposesTCP(spec, 22) {
			out = append(out, finding(ruleExposesSSH, "", 0, "image config exposes %s (SSH)", spec))
		}
	}
	return out, nil
}

// exposesTCP reports whether a port spec ("22", "22/tcp",
// "20-25/tcp") covers TCP port port, parsed as Docker parses it.
func exposesTCP(spec string, port int) bool {
	p := nat.Port(spec)
	if !strings.EqualFold(p.Proto(), "tcp") {
		return false
	}
	start, end, err := nat.ParsePortRangeToInt(p.Port())
	return err == nil && start <= port && port <= end
}
