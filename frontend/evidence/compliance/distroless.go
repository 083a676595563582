package compliance

import "cmp"

// How a path came to be left out of the image (Removal.Why).
const (
	// RemovedByName: a tooling list names it (pkg/tooling).
	RemovedByName = "name"
	// RemovedByContent: its content is a tool (BusyBox marker, shell
	// signature, a copy or link of a named tool).
	RemovedByContent = "content"
	// RemovedByAllowlist: nothing the image runs needs it — an executable
	// the allowlist does not admit, or a file of a package outside the
	// runtime closure.
	RemovedByAllowlist = "allowlist"
	// RemovedLoadable: it is in no closure of what the image runs, but a
	// kept program could load it (a shared object, a module of a kept
	// interpreter, a JVM archive, data the kept C library reads); Detail
	// says how. Listed one by one so that a program failing to load it
	// points at the evidence.
	RemovedLoadable = "loadable"
	// RemovedNotInClosure: a summary of files in no closure of what the
	// image runs that no kept program could load and that no package
	// outside the runtime closure accounts for: files no package owns
	// ("unpackaged:DIR") and a runtime package's documentation
	// ("package:NAME"). A package outside the runtime closure is
	// summarised as RemovedByAllowlist.
	RemovedNotInClosure = "closure"
)

// Distroless is what the distroless control left out of the image and
// why, and which executables ship and why each was allowed, so that a
// reviewer can audit the allowlist.
type Distroless struct {
	// Removed are the paths left out, sorted by path: every tool, every
	// allowlist drop and every file a kept program could load are listed;
	// the rest is summarised as one entry per package ("package:NAME") or,
	// for files no package owns, per directory ("unpackaged:DIR").
	Removed []Removal `json:"removed"`
	// LoadableOmitted counts the loadable files left out beyond the bound
	// of the list (keep.MaxLoadableListed); they are counted in their
	// package's summary.
	LoadableOmitted int `json:"loadableOmitted,omitempty"`
	// Executables are the executable files that ship, sorted by path.
	Executables []ShippedExecutable `json:"executables"`
	// RuntimePackages are the packages in the runtime closure, sorted,
	// each with why it is in it.
	RuntimePackages []RuntimePackage `json:"runtimePackages"`
	// OwnedByUser are the directories (with their subtrees) handed to the
	// non-root user the image runs as: /run and the runtime closure's
	// state directories. Empty when the image runs as root.
	OwnedByUser []string `json:"ownedByUser,omitempty"`
	// HandedOver are the paths given to that user, each with why: its
	// WORKDIR and VOLUMEs, what the shipped stage created outside system
	// directories, package state directories, its home. Empty when the
	// image runs as root.
	HandedOver []HandedOver `json:"handedOver,omitempty"`
	// StickyBitAdded are the world-writable directories hardening gave
	// the sticky bit (HK2041): anyone may still create files there, only
	// their owners remove them.
	StickyBitAdded []string `json:"stickyBitAdded,omitempty"`
}

// HandedOver is a path given to the image's non-root user.
type HandedOver struct {
	// Path is the directory (with its subtree, except a home).
	Path string `json:"path"`
	// Why says which rule handed it over.
	Why string `json:"why"`
}

// Removal is one path (or package) left out.
type Removal struct {
	// Path is the image path, or for a summary "package:NAME" (a
	// package's files) or "unpackaged:DIR" (files no package owns below
	// DIR).
	Path string `json:"path"`
	// Category is the tooling category (package-manager, network-tool,
	// debugger, shell) for a tool; empty for an allowlist removal.
	Category string `json:"category,omitempty"`
	// Why is name, content, allowlist, loadable or closure.
	Why string `json:"why"`
	// Detail says more: the matched tool and how it was found, why the
	// allowlist did not admit it, or how a kept program could load it.
	Detail string `json:"detail"`
	// Package and Version name a summary's package; Files counts the
	// files a summary stands for.
	Package string `json:"package,omitempty"`
	Version string `json:"version,omitempty"`
	Files   int    `json:"files,omitempty"`
}

// ShippedExecutable is an executable that ships.
type ShippedExecutable struct {
	// Path is the image path.
	Path string `json:"path"`
	// Reason is the allowlist entry that admits it.
	Reason string `json:"reason"`
}

// RuntimePackage is a package in the runtime closure.
type RuntimePackage struct {
	// Name is the package name.
	Name string `json:"name"`
	// Reason is why it is in the closure.
	Reason string `json:"reason"`
}

// normalized returns a copy of d with its lists sorted and non-nil.
func (d *Distroless) normalized() *Distroless {
	if d == nil {
		return nil
	}
	out := *d
	out.Removed = sorted(d.Removed, func(a, b Removal) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Why, b.Why), cmp.Compare(a.Detail, b.Detail))
	})
	out.Executables = sorted(d.Executables, func(a, b ShippedExecutable) int { return cmp.Compare(a.Path, b.Path) })
	out.RuntimePackages = sorted(d.RuntimePackages, func(a, b RuntimePackage) int { return cmp.Compare(a.Name, b.Name) })
	out.OwnedByUser = sorted(d.OwnedByUser, cmp.Compare[string])
	out.HandedOver = sorted(d.HandedOver, func(a, b HandedOver) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Why, b.Why))
	})
	out.StickyBitAdded = sorted(d.StickyBitAdded, cmp.Compare[string])
	return &out
}
