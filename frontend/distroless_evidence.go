package frontend

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/pkg/keep"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// distrolessEvidence is the compliance statement's account of the
// distroless control: every tool removed by name or content, every
// executable the allowlist left out, every file left out that a kept
// program could load, every executable that ships and why, and the
// runtime closure's packages. The rest of what does not ship is
// summarised per package (with its version and file count) so that a
// Debian base's ten thousand files do not go into the attestation.
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
	for _, n := range r.NotAllowed {
		switch {
		case n.Loadable:
			d.Removed = append(d.Removed, compliance.Removal{Path: n.Path, Why: compliance.RemovedLoadable, Detail: n.Reason})
		case len(n.OutsideClosure) == 0:
			d.Removed = append(d.Removed, compliance.Removal{Path: n.Path, Why: compliance.RemovedByAllowlist, Detail: n.Reason})
		}
		// A file of a package outside the runtime closure is counted in
		// its package's summary (LeftOut) or listed as loadable.
	}
	d.Removed = append(d.Removed, leftOutSummaries(r.LeftOut, r.RuntimePackages)...)
	d.LoadableOmitted = r.LeftOut.LoadableOmitted
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

// leftOutSummaries are the evidence's entries for what does not ship and
// no kept program could load: one per package — "allowlist" for a package
// outside the runtime closure, "closure" for the documentation a runtime
// package leaves out — and one per directory for files no package owns.
func leftOutSummaries(l keep.LeftOut, runtime map[string]string) []compliance.Removal {
	var out []compliance.Removal
	for _, p := range l.Packages {
		if p.Package == "" {
			out = append(out, compliance.Removal{Path: "unpackaged:" + p.Dir, Why: compliance.RemovedNotInClosure, Files: p.Files,
				Detail: fmt.Sprintf("%d files below %s that no package owns; in no closure of what the image runs, and no kept program could load them", p.Files, p.Dir)})
			continue
		}
		rm := compliance.Removal{Path: "package:" + p.Package, Why: compliance.RemovedByAllowlist, Package: p.Package, Version: p.Version, Files: p.Files,
			Detail: fmt.Sprintf("%d files; not in the runtime closure of what the image runs, and no kept program could load them", p.Files)}
		if _, in := runtime[p.Package]; in {
			rm.Why = compliance.RemovedNotInClosure
			rm.Detail = fmt.Sprintf("%d files; the package is in the runtime closure, but these are documentation no kept program loads", p.Files)
		}
		out = append(out, rm)
	}
	return out
}
