package harden

// Tooling removed from the shipped filesystem, by category.
//
//	HK2020 PackageManagerShipped  CIS 4.3 — apt, dpkg, apk, pip, npm, … and their caches
//	HK2021 NetworkToolShipped     CIS 4.3 — curl, wget, nc, ssh, …
//	HK2022 DebuggerShipped        CIS 4.3 — gdb, strace, tcpdump, …
//	HK2023 ShellShipped           CIS 4.3 — sh, bash, busybox and its applets
//	HK2024 ConfigNeedsRemovedTool — HEALTHCHECK/CMD/ENTRYPOINT calls a removed tool
//
// At enforce a category is removed; at warn it ships and each tool is
// reported; at off it is neither. Lists come from the policy
// (controls.tooling), or pkg/tooling's built-in lists when unset. Renamed
// and copied tools are found by content (pkg/tooling.Detect).

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hardenkit/hardenkit/pkg/elfdeps"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

func toolingRule(id, name, title string, cis []string, what string) rules.Rule {
	return rules.Rule{
		ID: id, Name: name, Title: title, Family: rules.FamilyTooling, Severity: rules.SeverityHigh,
		Stage: rules.StageLLB, CIS: cis,
		Rationale:   what + " in a running container help an attacker more than the application: they install, fetch, inspect or execute arbitrary code.",
		Remediation: "Nothing to change in the Dockerfile: hardenkit removes them. If the application really runs one, list its path in controls.tooling.keep with a justification.",
		HelpURI:     rules.HelpURI(id),
	}
}

var (
	rulePackageManager = toolingRule("HK2020", "PackageManagerShipped", "Package manager in the shipped image", []string{"4.3"}, "Package managers and their caches")
	ruleNetworkTool    = toolingRule("HK2021", "NetworkToolShipped", "Network utility in the shipped image", []string{"4.3"}, "Network utilities")
	ruleDebugger       = toolingRule("HK2022", "DebuggerShipped", "Debugging tool in the shipped image", []string{"4.3"}, "Debuggers and tracers")
	ruleShell          = toolingRule("HK2023", "ShellShipped", "Shell in the shipped image", []string{"4.3"}, "Shells")
	ruleConfigTool     = rules.Rule{
		ID: "HK2024", Name: "ConfigNeedsRemovedTool", Title: "HEALTHCHECK, CMD or ENTRYPOINT runs a tool hardenkit removes",
		Family: rules.FamilyTooling, Severity: rules.SeverityHigh, Stage: rules.StageLLB,
		Rationale:   "A health check or command that needs a removed shell or tool fails only at run time, when the container is already deployed.",
		Remediation: "Use exec form and a program the image ships. For a health check, copy hardenkit's static probe from the frontend image (COPY --from=<frontend image> /bin/hardenkit-probe /usr/local/bin/hardenkit-probe) and run it in exec form: HEALTHCHECK CMD [\"/usr/local/bin/hardenkit-probe\", \"http\", \"http://127.0.0.1:8080/healthz\"].",
		HelpURI:     rules.HelpURI("HK2024"),
	}
)

// categoryRules maps a tooling category to its rule.
var categoryRules = map[tooling.Category]rules.Rule{
	tooling.PackageManager: rulePackageManager,
	tooling.NetworkTool:    ruleNetworkTool,
	tooling.Debugger:       ruleDebugger,
	tooling.Shell:          ruleShell,
}

// toolingLists returns the lists of tools to remove: the categories whose
// rule is enforced.
func toolingLists(c Config) tooling.Lists { return listsAt(c, rules.LevelEnforce) }

// listsAt returns the tooling lists (the policy's, or the built-in ones) of
// the categories whose rule has the given level; the others are empty.
func listsAt(cfg Config, level rules.Level) tooling.Lists {
	def := tooling.DefaultLists()
	c := cfg.Tooling
	pick := func(policyList, builtin []string, r rules.Rule) []string {
		if cfg.level(r) != level {
			return nil
		}
		if policyList != nil {
			return slices.Clone(policyList)
		}
		return builtin
	}
	l := tooling.Lists{
		PackageManagers: pick(c.PackageManagers, def.PackageManagers, rulePackageManager),
		NetworkTools:    pick(c.NetworkTools, def.NetworkTools, ruleNetworkTool),
		Debuggers:       pick(c.Debuggers, def.Debuggers, ruleDebugger),
		Shells:          pick(c.Shells, def.Shells, ruleShell),
	}
	if cfg.level(rulePackageManager) == level {
		l.PackageManagerData = def.PackageManagerData
	}
	return l
}

// warnedTooling reports the tools of categories the policy only warns
// about: they ship, and the build output and evidence say so.
func warnedTooling(ctx context.Context, c Config, t *rootfs.Tree, src rootfs.Source) ([]rules.Finding, error) {
	l := listsAt(c, rules.LevelWarn)
	if len(l.PackageManagers)+len(l.NetworkTools)+len(l.Debuggers)+len(l.Shells)+len(l.PackageManagerData) == 0 {
		return nil, nil
	}
	ms, err := tooling.Detect(ctx, t, src, l)
	if err != nil {
		return nil, fmt.Errorf("detecting tooling the policy warns about: %w", err)
	}
	out := make([]rules.Finding, 0, len(ms))
	for _, m := range ms {
		if keptByPolicy(m.Path, c.Tooling.Keep) {
			continue
		}
		out = append(out, rules.Finding{Rule: categoryRules[m.Category].ID, Level: rules.LevelWarn, File: m.Path,
			Message: fmt.Sprintf("%s %s ships (%s); the policy warns about it instead of removing it", m.Category, m.Path, m.Reason)})
	}
	return out, nil
}

// checkConfigCommands fails when the health check or the program the image
// runs is a tool that was removed, or needs the shell that was removed.
func checkConfigCommands(in Input, final *rootfs.Tree, shipped map[string]bool, shellsRemoved bool) []*Violation {
	if in.Config.level(ruleConfigTool) == rules.LevelOff {
		return nil
	}
	cfg := in.Image.Config
	var out []*Violation
	if hc := cfg.Healthcheck; hc != nil && len(hc.Test) > 1 {
		switch hc.Test[0] {
		case "CMD-SHELL":
			if shellsRemoved {
				out = append(out, &Violation{Rule: ruleConfigTool.ID, Ranges: in.Lines.Healthcheck,
					Message: fmt.Sprintf("HEALTHCHECK CMD %s runs in a shell, which hardenkit removes", hc.Test[1]) + probeRemedy(in, hc.Test[1])})
			}
		case "CMD":
			if v := missingProgram(in, final, shipped, hc.Test[1], "HEALTHCHECK", in.Lines.Healthcheck); v != nil {
				v.Message += probeRemedy(in, strings.Join(hc.Test[1:], " "))
				out = append(out, v)
			}
		}
	}
	args := append(slices.Clone(cfg.Entrypoint), cfg.Cmd...)
	if len(args) > 0 {
		if v := missingProgram(in, final, shipped, args[0], "the image's command", entrypointRanges(in.Lines)); v != nil {
			out = append(out, v)
		}
	}
	return out
}

func missingProgram(in Input, final *rootfs.Tree, shipped map[string]bool, prog, what string, ranges []parser.Range) *Violation {
	p, ok := elfdeps.LookPath(final, prog, envValue(in.Image.Config.Env, "PATH"))
	if !ok {
		return nil
	}
	if shipped[p] {
		return nil
	}
	return &Violation{Rule: ruleConfigTool.ID, Ranges: ranges,
		Message: fmt.Sprintf("%s runs %s, which is not in the hardened image (hardenkit removes it as tooling)", what, prog)}
}
