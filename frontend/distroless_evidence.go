package frontend

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// distrolessEvidence is the compliance statement's account of the
// distroless control: every tool removed by name or content, every
// executable and package the allowlist left out, every executable that
// ships and why, and the runtime closure's packages. Package files are
// summarised per package so that an `apt-get install` of a large package
// does not put thousands of paths into the attestation.
func distrolessEvidence(r harden.Result) *compliance.Distroless {
	if !r.Rebased {
		return nil
	}
	d := &compliance.Distroless{}
	// A tool's package (its metadata says so) is one entry, as the
	// allowlist's packages are.
	toolPkgs := map[string]int{}
	toolPkgWhy := map[string]tooling.Match{}
	for _, m := range r.Removed {
		if strings.HasPrefix(m.Reason, tooling.ReasonPackage) {
			toolPkgs[m.Tool]++
			toolPkgWhy[m.Tool] = m
			continue
		}
		why := compliance.RemovedByContent
		if m.Reason == tooling.ReasonName || m.Reason == tooling.ReasonPackageManagerData {
			why = compliance.RemovedByName
		}
		d.Removed = append(d.Removed, compliance.Removal{Path: m.Path, Category: string(m.Category), Why: why,
			Detail: fmt.Sprintf("%s (%s)", m.Tool, m.Reason)})
	}
	for _, name := range slices.Sorted(maps.Keys(toolPkgs)) {
		m := toolPkgWhy[name]
		d.Removed = append(d.Removed, compliance.Removal{Path: "package:" + name, Category: string(m.Category), Why: compliance.RemovedByAllowlist,
			Detail: fmt.Sprintf("%d paths; a %s by its package metadata (%s)", toolPkgs[name], m.Category, strings.TrimPrefix(m.Reason, tooling.ReasonPackage+name+" "))})
	}
	perPackage := map[string]int{}
	for _, n := range r.NotAllowed {
		if len(n.OutsideClosure) > 0 {
			perPackage[strings.Join(n.OutsideClosure, ",")]++
			continue
		}
		d.Removed = append(d.Removed, compliance.Removal{Path: n.Path, Why: compliance.RemovedByAllowlist, Detail: n.Reason})
	}
	for pkgs, n := range perPackage {
		d.Removed = append(d.Removed, compliance.Removal{Path: "package:" + pkgs, Why: compliance.RemovedByAllowlist,
			Detail: fmt.Sprintf("%d files; not in the runtime closure of what the image runs", n)})
	}
	for _, e := range r.Executables {
		d.Executables = append(d.Executables, compliance.ShippedExecutable{Path: e.Path, Reason: e.Reason})
	}
	d.OwnedByUser = r.OwnedByUser
	d.StickyBitAdded = r.StickyBitAdded
	for _, h := range r.HandedOver {
		d.HandedOver = append(d.HandedOver, compliance.HandedOver{Path: h.Path, Why: h.Why})
	}
	for name, why := range r.RuntimePackages {
		d.RuntimePackages = append(d.RuntimePackages, compliance.RuntimePackage{Name: name, Reason: why})
	}
	return d
}
