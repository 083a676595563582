package keep

import (
	"sort"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// set is a set of tree paths with the first reason each was added for.
type set struct {
	t       *rootfs.Tree
	reasons map[string]string
}

func newSet(t *rootfs.Tree) *set {
	return &set{t: t, reasons: map[string]string{}}
}

// add keeps p if the tree has it. "/" is implicit and never added.
func (s *set) add(p, reason string) bool {
	if p == "/" {
		return false
	}
	if _, ok := s.t.Lookup(p); !ok {
		return false
	}
	if _, ok := s.reasons[p]; ok {
		return false
	}
	s.reasons[p] = reason
	return true
}

func (s *set) has(p string) bool {
	_, ok := s.reasons[p]
	return ok
}

func (s *set) remove(p string) {
	delete(s.reasons, p)
}

// sorted returns the kept paths in order.
func (s *set) sorted() []string {
	out := make([]string, 0, len(s.reasons))
	for p := range s.reasons {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
