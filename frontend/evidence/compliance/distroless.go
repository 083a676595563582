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
)

// Distroless is what the distroless control left out of the image and
// why, and which executables ship and why each was allowed, so that a
// reviewer can audit the allowlist.
type Distroless struct {
	// Removed are the paths left out, sorted by path. Files of a package
	// outside the runtime closure are summarised as one entry per package
	// ("package:NAME").
	Removed []Removal `json:"removed"`
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
	// Path is the image path, or "package:NAME" for a package's files.
	Path string `json:"path"`
	// Category is the tooling category (package-manager, network-tool,
	// debugger, shell) for a tool; empty for an allowlist removal.
	Category string `json:"category,omitempty"`
	// Why is name, content or allowlist.
	Why string `json:"why"`
	// Detail says more: the matched tool and how it was found, or why the
	// allowlist did not admit it.
	Detail string `json:"detail"`
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
	return &Distroless{
		Removed: sorted(d.Removed, func(a, b Removal) int {
			return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Why, b.Why), cmp.Compare(a.Detail, b.Detail))
		}),
		Executables:     sorted(d.Executables, func(a, b ShippedExecutable) int { return cmp.Compare(a.Path, b.Path) }),
		RuntimePackages: sorted(d.RuntimePackages, func(a, b RuntimePackage) int { return cmp.Compare(a.Name, b.Name) }),
		OwnedByUser:     sorted(d.OwnedByUser, cmp.Compare[string]),
		HandedOver: sorted(d.HandedOver, func(a, b HandedOver) int {
			return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Why, b.Why))
		}),
		StickyBitAdded: sorted(d.StickyBitAdded, cmp.Compare[string]),
	}
}
