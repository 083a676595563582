package rebuild

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
)

// InputDiffs compares what the original and the rebuilt statements
// recorded about their inputs, so a rebuild that ran with another
// SOURCE_DATE_EPOCH, another base image digest or another context is
// reported as exactly that, before any byte of output.
func InputDiffs(orig, rebuilt *Image) []Difference {
	var out []Difference
	for _, p := range orig.Platforms {
		q := rebuilt.platform(p.Platform)
		if p.Compliance == nil || q == nil || q.Compliance == nil {
			continue
		}
		out = append(out, inputDiffs(p.Platform, p.Compliance, q.Compliance)...)
	}
	return dedupe(out)
}

func inputDiffs(plat string, a, b *compliance.Predicate) []Difference {
	var out []Difference
	add := func(what, want, got string) {
		if want != got {
			out = append(out, Difference{Level: LevelInput, Platform: plat, What: what, Want: want, Got: got})
		}
	}
	add("SOURCE_DATE_EPOCH", strconv.FormatInt(a.SourceDateEpoch, 10), strconv.FormatInt(b.SourceDateEpoch, 10))
	add("hardenkit version", a.Hardenkit.Version, b.Hardenkit.Version)
	add("frontend image", a.Hardenkit.FrontendImage, b.Hardenkit.FrontendImage)
	add("policy digest", a.Policy.Digest, b.Policy.Digest)
	ra, rb := a.Rebuild, b.Rebuild
	if ra == nil || rb == nil {
		return out
	}
	add("target", ra.Target, rb.Target)
	if ra.Context != nil && rb.Context != nil {
		add("build context digest", ra.Context.Digest, rb.Context.Digest)
	}
	for _, k := range union(ra.BuildArgs, rb.BuildArgs) {
		if k != "SOURCE_DATE_EPOCH" {
			add("build arg "+k, ra.BuildArgs[k], rb.BuildArgs[k])
		}
	}
	images := func(r *compliance.Rebuild) map[string]string {
		m := map[string]string{}
		for _, img := range r.Images {
			m[img.Ref] = img.Digest
		}
		return m
	}
	ia, ib := images(ra), images(rb)
	for _, ref := range union(ia, ib) {
		add("image "+ref, ia[ref], ib[ref])
	}
	return out
}

// union is the sorted keys of both maps.
func union(a, b map[string]string) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// dedupe folds an input difference every platform shares into one
// without a platform.
func dedupe(ds []Difference) []Difference {
	type key struct{ what, want, got string }
	platforms := map[key][]string{}
	var order []key
	for _, d := range ds {
		k := key{d.What, d.Want, d.Got}
		if _, seen := platforms[k]; !seen {
			order = append(order, k)
		}
		platforms[k] = append(platforms[k], d.Platform)
	}
	out := make([]Difference, 0, len(order))
	for _, k := range order {
		d := Difference{Level: LevelInput, What: k.what, Want: k.want, Got: k.got}
		if ps := platforms[k]; len(ps) == 1 {
			d.Platform = ps[0]
		}
		out = append(out, d)
	}
	return out
}

// Cause says in one line why the rebuild differs: its inputs, or the
// build's own non-determinism.
func Cause(ds []Difference) string {
	var inputs []string
	for _, d := range ds {
		if d.Level == LevelInput {
			inputs = append(inputs, fmt.Sprintf("%s (recorded %s, rebuilt with %s)", d.What, orEmpty(d.Want), orEmpty(d.Got)))
		}
	}
	if len(inputs) > 0 {
		return "the rebuild ran with other inputs: " + joinAnd(inputs)
	}
	return "same recorded inputs, other bytes: the build is not reproducible (see the files below and the instructions that wrote them)"
}

func orEmpty(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := ""
	for i, x := range s {
		switch {
		case i == 0:
			out = x
		case i == len(s)-1:
			out += " and " + x
		default:
			out += ", " + x
		}
	}
	return out
}
