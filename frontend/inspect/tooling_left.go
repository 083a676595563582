package inspect

// Tooling left in the final image, by category.
//
//	HK3001 PackageManagerInImage  CIS 4.3 — apt, dpkg, apk, pip, npm, … and
//	                              their caches
//	HK3002 NetworkToolInImage     CIS 4.3 — curl, wget, nc, ssh, …
//	HK3003 DebuggerInImage        CIS 4.3 — gdb, strace, tcpdump, …
//	HK3004 ShellInImage           CIS 4.3 — sh, bash, busybox and its applets
//
// Tools are found by name and by content (pkg/tooling.Detect): a BusyBox
// multi-call binary by its banner, its applets by link, renamed copies by
// hash. Lists are the policy's controls.tooling (hardenkit's built-in
// lists when unset); paths in controls.tooling.keep are not reported,
// since the policy chose to ship them.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

func toolingRule(id, name, title, what string) rules.Rule {
	return imageRule(rules.Rule{
		ID: id, Name: name, Title: title, Family: rules.FamilyTooling, Severity: rules.SeverityHigh, CIS: []string{"4.3"},
		Rationale:   what + " in a running container help an attacker more than the application: they install, fetch, inspect or execute arbitrary code (CIS Docker Benchmark 4.3).",
		Remediation: "Build with hardenkit's tooling control at enforce, which removes them, or use a distroless base. If the application really runs one, list its path in controls.tooling.keep with a justification.",
	})
}

var (
	rulePackageManager = toolingRule("HK3001", "PackageManagerInImage", "Package manager in the final image", "Package managers and their caches")
	ruleNetworkTool    = toolingRule("HK3002", "NetworkToolInImage", "Network utility in the final image", "Network utilities")
	ruleDebugger       = toolingRule("HK3003", "DebuggerInImage", "Debugging tool in the final image", "Debuggers and tracers")
	ruleShell          = toolingRule("HK3004", "ShellInImage", "Shell in the final image", "Shells")
)

var toolingCheck = check{rules: []rules.Rule{rulePackageManager, ruleNetworkTool, ruleDebugger, ruleShell}, run: checkTooling}

func checkTooling(ctx context.Context, e *env) ([]rules.Finding, error) {
	lists := tooling.DefaultLists()
	var keep []string
	if p := e.in.Policy; p != nil {
		t := p.Controls.Tooling
		keep = t.Keep
		pick(&lists.PackageManagers, t.PackageManagers)
		pick(&lists.NetworkTools, t.NetworkTools)
		pick(&lists.Debuggers, t.Debuggers)
		pick(&lists.Shells, t.Shells)
	}
	// A category whose rule is off is not looked for; package manager
	// data always is, because it decides what belongs to a package
	// manager (below), and Run drops findings of rules that are off.
	if !e.on(rulePackageManager) {
		lists.PackageManagers = nil
	}
	if !e.on(ruleNetworkTool) {
		lists.NetworkTools = nil
	}
	if !e.on(ruleDebugger) {
		lists.Debuggers = nil
	}
	if !e.on(ruleShell) {
		lists.Shells = nil
	}
	matches, err := tooling.Detect(ctx, e.in.Tree, e.in.Src, lists)
	if err != nil {
		return nil, fmt.Errorf("detecting tooling: %w", err)
	}
	byCategory := map[tooling.Category]rules.Rule{
		tooling.PackageManager: rulePackageManager,
		tooling.NetworkTool:    ruleNetworkTool,
		tooling.Debugger:       ruleDebugger,
		tooling.Shell:          ruleShell,
	}
	// Files inside a package manager's data directory are the package
	// manager's (apt's transport helpers are named ftp and ssh): the
	// directory's HK3001 finding covers them.
	var data []string
	for _, m := range matches {
		if m.Reason == tooling.ReasonPackageManagerData {
			data = append(data, m.Path)
		}
	}
	var out []rules.Finding
	for _, m := range matches {
		if kept(m.Path, keep) {
			continue
		}
		if m.Reason != tooling.ReasonPackageManagerData && slices.ContainsFunc(data, func(d string) bool { return rootfs.IsUnder(m.Path, d) }) {
			continue
		}
		r, ok := byCategory[m.Category]
		if !ok {
			return nil, fmt.Errorf("detecting tooling: unknown category %q", m.Category)
		}
		out = append(out, finding(r, m.Path, 0, "%s %s is in the image (%s)", m.Category, m.Tool, describeReason(m.Reason)))
	}
	return out, nil
}

// pick replaces a built-in list with the policy's when the policy sets
// one (nil means "built-in", empty means "none").
func pick(list *[]string, policyList []string) {
	if policyList != nil {
		*list = slices.Clone(policyList)
	}
}

// kept reports whether the policy keeps p: a controls.tooling.keep
// pattern matches it or a directory above it.
func kept(p string, patterns []string) bool {
	for _, k := range patterns {
		if rootfs.Match(k, p) || rootfs.IsUnder(p, strings.TrimSuffix(rootfs.Clean(k), "/**")) {
			return true
		}
	}
	return false
}

// describeReason turns a tooling.Match reason into words.
func describeReason(reason string) string {
	switch {
	case reason == tooling.ReasonName:
		return "by name"
	case reason == tooling.ReasonBusyboxBinary:
		return "a multi-call binary, by content"
	case reason == tooling.ReasonBusyboxApplet:
		return "an applet of a multi-call binary"
	case reason == tooling.ReasonPackageManagerData:
		return "package manager data"
	case strings.HasPrefix(reason, tooling.ReasonSameContentAs):
		return "same content as " + strings.TrimPrefix(reason, tooling.ReasonSameContentAs)
	case strings.HasPrefix(reason, tooling.ReasonLinkTargetOf):
		return "target of " + strings.TrimPrefix(reason, tooling.ReasonLinkTargetOf)
	case strings.HasPrefix(reason, tooling.ReasonSymlinkTo):
		return "symlink to " + strings.TrimPrefix(reason, tooling.ReasonSymlinkTo)
	}
	return reason
}
