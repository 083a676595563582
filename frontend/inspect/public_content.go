package inspect

// Public content in HK3052: a secret finding in a file that a package
// manager installed and still vouches for (frontend/secrets PublicContent
// says what vouching takes) is the package's, not the user's: it is
// reported as "public content of PACKAGE@VERSION", a warning at most —
// whatever the policy's level for HK3052 — and without "rotate it". The
// finding stays in the result and the evidence, with its fingerprint.
//
// The in-build scan sees only the final filesystem; which instruction
// wrote the file and its package database is known to the frontend, which
// calls PublicOrigins with the Dockerfile's origins: a file or database
// that a COPY or ADD wrote, or that a RUN names, vouches for nothing, and
// the finding goes back to the policy's level as an ordinary secret.

import (
	"context"
	"fmt"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// publicPrefix starts the message of a public content finding, so that
// the frontend and a reader of the evidence tell it from a secret.
const publicPrefix = "public content of "

// filePublicContent returns the packages that vouch for the files of the
// scanner's file findings, by the findings' Where.
func filePublicContent(ctx context.Context, e *env, fs []secrets.Finding) (map[string]secrets.Public, error) {
	var paths []string
	for _, f := range fs {
		if p, ok := strings.CutPrefix(f.Where, secrets.WhereFile); ok {
			paths = append(paths, p)
		}
	}
	byPath, err := secrets.PublicContent(ctx, e.in.Tree, e.in.Src, paths)
	if err != nil {
		return nil, fmt.Errorf("checking which secret findings are package content: %w", err)
	}
	out := map[string]secrets.Public{}
	for p, pub := range byPath {
		out[secrets.WhereFile+p] = pub
		if e.public == nil {
			e.public = map[string]secrets.Public{}
		}
		e.public[p] = pub
	}
	return out, nil
}

// publicFinding is the finding of r for a secret in a file pub vouches
// for: at warn (Run keeps a check's warn below an enforcing policy), with
// what the user can do about it.
func publicFinding(r rules.Rule, f secrets.Finding, pub secrets.Public) rules.Finding {
	file := strings.TrimPrefix(f.Where, secrets.WhereFile)
	return rules.Finding{
		Rule: r.ID, File: file, Line: f.Line, Fingerprint: f.Fingerprint, Level: rules.LevelWarn,
		Message: fmt.Sprintf("%s%s: file %s holds a key or token (detector %s, sha256 fingerprint %s) and its bytes are what the package installed (vouched for by %s); every copy of the package has it, so it is not a secret of this build and there is nothing to revoke; make sure the application does not use it as its own key",
			publicPrefix, pub, file, f.Rule, f.Fingerprint, strings.Join(pub.Databases, ", ")),
	}
}

// IsPublicContent reports whether f is a secret finding in a file its
// package vouches for.
func IsPublicContent(f rules.Finding) bool {
	return strings.HasPrefix(f.Message, publicPrefix)
}

// PublicOrigins checks where the public content findings of res came from:
// writtenBy says, for an image path, the instruction that wrote it or
// names it ("" when none does — it came from the base image or from a RUN
// that does not name it, such as the package manager's). A finding whose
// file, database file or database directory an instruction wrote is the
// user's secret again, at level (the policy's for its rule), with the
// instruction named. It returns the findings, changed in place.
func PublicOrigins(fs []rules.Finding, public map[string]secrets.Public, level func(rule string) rules.Level, writtenBy func(p string) string) []rules.Finding {
	for i := range fs {
		f := &fs[i]
		pub, ok := public[f.File]
		if !ok || !IsPublicContent(*f) || f.Level != rules.LevelWarn {
			continue
		}
		for _, p := range originPaths(f.File, pub) {
			by := writtenBy(p)
			if by == "" {
				continue
			}
			if l := level(f.Rule); l == rules.LevelEnforce || l == rules.LevelWarn {
				f.Level = l
			}
			f.Message = fmt.Sprintf("file %s holds a secret (sha256 fingerprint %s): its package database claims it for %s, but %s is %s, and a database the Dockerfile writes vouches for nothing; remove it from the image and rotate it",
				f.File, f.Fingerprint, pub, p, by)
			break
		}
	}
	return fs
}

// originPaths are the paths whose writer decides whether pub vouches for
// the file p: the file, the database files and their directories.
func originPaths(p string, pub secrets.Public) []string {
	out := []string{p}
	seen := map[string]bool{p: true}
	for _, d := range pub.Databases {
		for _, q := range []string{d, rootfs.Clean(d[:strings.LastIndex(d, "/")+1])} {
			if !seen[q] {
				seen[q] = true
				out = append(out, q)
			}
		}
	}
	return out
}
