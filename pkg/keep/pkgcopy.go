package keep

// Copies of package programs (HK2011's allowlist, CIS 4.3).
//
// An executable no package owns ships as "added by the final stage" — the
// application's own build output. A copy of a package's program is not
// one: `COPY --from=debian:bookworm /usr/bin/perl /app/bin/worker`, or
// `cp /usr/bin/perl /app/bin/worker` in the shipped stage, is perl-base's
// perl under another name, and is judged as that package's executable is
// when apt installs it: it ships when the image runs it, and is left out
// (listed, with the package it came from) when it does not. Where a file
// came from is found by what it is: the same program (tooling.Compare: the
// same bytes, or a copy with bytes appended or patched) as a command of
// the image's own packages, or of a package of another source of the build
// (lineage: Known without a Category).

import (
	"context"
	"fmt"
	"path"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// packageCopy returns, for the executable e that no package owns, the
// package program it is a copy of, described for the evidence.
func (r *rebaser) packageCopy(ctx context.Context, e rootfs.Entry) (string, bool, error) {
	if e.IsHardlink() || e.Size <= 64 {
		return "", false, nil
	}
	fp, err := tooling.FingerprintFile(ctx, r.in.Src, e)
	if err != nil {
		return "", false, fmt.Errorf("rebase: fingerprinting %s: %w", e.Path, err)
	}
	orig, how, score, ok, err := r.packagePrograms().Similar(ctx, fp)
	if err != nil {
		return "", false, fmt.Errorf("rebase: comparing %s with the image's programs: %w", e.Path, err)
	}
	if ok {
		pkg := r.db.pkgs[r.db.owned(orig.Path)[0]]
		what := orig.Path + " of " + describe(r.db.owned(orig.Path))
		if pkg != nil && pkg.section != "" {
			what += ", section " + pkg.section
		}
		return what + similarity(how, score), true, nil
	}
	k, how, score, ok := tooling.BestKnown(fp, r.in.Tooling.Known, func(k tooling.Known) bool { return k.Category == "" })
	if ok {
		return k.Origin + similarity(how, score), true, nil
	}
	return "", false, nil
}

// similarity says how a copy differs, when it does.
func similarity(how string, score float64) string {
	if how == "identical" {
		return ""
	}
	return fmt.Sprintf(" (same %s, %.0f%%)", how, score*100)
}

// packagePrograms are the commands the image's packages install in a bin
// or sbin directory, read once.
func (r *rebaser) packagePrograms() *tooling.Programs {
	if r.programSet != nil {
		return r.programSet
	}
	var files []rootfs.Entry
	for _, name := range sortedKeys(r.db.pkgs) {
		for _, f := range r.db.pkgs[name].files {
			switch path.Base(path.Dir(f)) {
			case "bin", "sbin":
			default:
				continue
			}
			if e, ok := r.t.Lookup(f); ok && e.IsRegular() && !e.IsHardlink() && e.Size > 64 {
				files = append(files, e)
			}
		}
	}
	r.programSet = tooling.NewPrograms(r.in.Src, files)
	return r.programSet
}
