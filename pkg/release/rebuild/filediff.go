package rebuild

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// fileDiffs lists the files that differ, at most maxFileDifferences, each
// with the attributes that changed and the instruction that wrote it.
func fileDiffs(plat string, a, b map[string]Entry, explain Explain) []Difference {
	paths := slices.Sorted(maps.Keys(a))
	for p := range b {
		if _, ok := a[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []Difference
	omitted := 0
	for _, p := range paths {
		wa, inA := a[p]
		gb, inB := b[p]
		d := Difference{Level: LevelFile, Platform: plat, What: p}
		switch {
		case !inB:
			d.Change, d.Want = "removed", describe(wa)
		case !inA:
			d.Change, d.Got = "added", describe(gb)
		default:
			changed := changedAttrs(wa, gb)
			if len(changed) == 0 {
				continue
			}
			d.Change, d.Want, d.Got = strings.Join(changed, ", "), describe(wa), describe(gb)
		}
		if len(out) >= maxFileDifferences {
			omitted++
			continue
		}
		if explain != nil {
			d.Instruction = explain(plat, p)
		}
		out = append(out, d)
	}
	if omitted > 0 {
		out = append(out, Difference{Level: LevelFile, Platform: plat, What: fmt.Sprintf("%d more files", omitted), Change: "omitted"})
	}
	return out
}

// changedAttrs names the attributes of a file that differ.
func changedAttrs(a, b Entry) []string {
	var out []string
	add := func(differs bool, name string) {
		if differs {
			out = append(out, name)
		}
	}
	add(a.Kind != b.Kind, "type")
	add(a.Digest != b.Digest, "content")
	add(a.Size != b.Size, "size")
	add(a.Mode != b.Mode, "mode")
	add(a.UID != b.UID || a.GID != b.GID, "owner")
	add(a.ModTime != b.ModTime, "mtime")
	add(a.Xattrs != b.Xattrs, "xattrs")
	add(a.Linkname != b.Linkname, "link target")
	return out
}

// describe is a one-line account of an entry.
func describe(e Entry) string {
	s := fmt.Sprintf("%s %04o %d:%d size %d mtime %d", e.Kind, e.Mode, e.UID, e.GID, e.Size, e.ModTime)
	if e.Digest != "" {
		s += " " + e.Digest
	}
	if e.Linkname != "" {
		s += " -> " + e.Linkname
	}
	if e.Xattrs != "" {
		s += " xattrs " + e.Xattrs
	}
	return s
}
