package rootfs

// Unique returns paths without repeats, each at its first place: search
// paths are ordered, so a later duplicate is dropped, never the first.
func Unique(paths []string) []string {
	seen := make(map[string]bool, len(paths))
	var out []string
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
