package keep

// Tools inside archives the image ships (HK2011, CIS 4.3: the image holds
// only what the application needs).
//
// A tool packed into an archive is still a tool: an application that
// unpacks /app/vendor.tar.gz into a directory it owns and runs bin/helper
// from there has a shell if bin/helper is BusyBox, although the image
// itself holds no executable shell. Every regular file that ships is
// therefore opened when it is, or holds, an archive or compressed stream
// (pkg/archive: tar, gzip, bzip2, xz, zstd, zip — jars, wheels, zipapps —
// nested, or appended to an ELF program or a "#!" script), and each ELF
// member is judged as a file of the image is, by what it is and never by
// its name: multi-call markers and the shell signature, and similarity
// with the build's tools (the lineage's and the image's own). A member
// that is a tool fails the build naming the archive and the member; an
// archive that cannot be read within the budget fails it too, as not
// evaluated — an unread member is unknown, never clean. A path
// controls.tooling.keep lists ships deliberately and is not opened.
//
// Names inside archives are not judged: a Node.js tarball holds bin/npm and
// a wheel its console scripts, neither of which runs unless unpacked and
// run — and then by what it is.

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/archive"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// ArchiveToolError says an archive the image ships holds a tool, or could
// not be read within the budget (NotEvaluated).
type ArchiveToolError struct {
	// Archive is the image path; Member the names inside it, outermost
	// first, joined by "!" ("" for a compressed stream's content).
	Archive, Member string
	// Match is what the member is (its Path is Member).
	Match tooling.Match
	// NotEvaluated says the budget ran out (Cause says which limit).
	NotEvaluated bool
	Cause        error
}

// Error names the archive, the member and what it is, and the way out.
func (e *ArchiveToolError) Error() string {
	if e.NotEvaluated {
		return fmt.Sprintf("archive %s could not be inspected for tools within the budget (%v): not evaluated, "+
			"so it does not ship; unpack what the application needs at build time, or list %s in "+
			"controls.tooling.keep to ship it deliberately", e.Archive, e.Cause, e.Archive)
	}
	return fmt.Sprintf("archive %s holds %s, a %s (%s, %s): a tool packed into an archive the image ships is "+
		"a tool the application can unpack and run; remove it from the archive, or list %s in "+
		"controls.tooling.keep to ship it deliberately", e.Archive, e.Member, e.Match.Category, e.Match.Tool,
		e.Match.Reason, e.Archive)
}

// archiveInspection is one Rebase's look into the archives it ships.
type archiveInspection struct {
	in     RebaseInput
	tools  []tooling.Match // the image's own tools (Detect)
	refs   []tooling.Known
	refsOK bool
	walker *archive.Walker
}

// checkArchives opens every regular file that ships and is or holds an
// archive, and fails on the first tool inside one (see above).
func (r *rebaser) checkArchives(ctx context.Context, tools []tooling.Match) error {
	ai := &archiveInspection{in: r.in, tools: tools,
		walker: &archive.Walker{Want: func(head []byte) bool { return bytes.HasPrefix(head, []byte(elf.ELFMAG)) }}}
	for _, p := range r.kept.sorted() {
		e, _ := r.t.Lookup(p)
		if !e.IsRegular() || e.IsHardlink() || e.Size <= 64 || r.policy[p] {
			continue
		}
		if err := ai.inspect(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// inspect opens e if it is or holds an archive.
func (ai *archiveInspection) inspect(ctx context.Context, e rootfs.Entry) error {
	var found *ArchiveToolError
	visit := func(m archive.Member) error {
		refs, err := ai.references(ctx)
		if err != nil {
			return err
		}
		name := strings.Join(m.Names, "!")
		if name == "" {
			name = "its decompressed content"
		}
		match, ok, err := tooling.InspectData(ctx, name, m.Data, ai.in.Tooling, refs)
		if err != nil || !ok {
			return err
		}
		found = &ArchiveToolError{Archive: e.Path, Member: name, Match: match}
		return errStopWalk
	}
	_, err := ai.walker.Walk(ctx, rootfs.ReaderAt(ctx, ai.in.Src, e.Path, e.Size), e.Size, visit)
	switch {
	case found != nil:
		return found
	case errors.Is(err, archive.ErrBudget):
		return &ArchiveToolError{Archive: e.Path, NotEvaluated: true, Cause: err}
	case err != nil:
		return fmt.Errorf("rebase: opening %s: %w", e.Path, err)
	}
	return nil
}

// errStopWalk ends a walk at the first tool found.
var errStopWalk = errors.New("stop")

// references are the tools a member is compared with: the lineage's and
// the image's own, fingerprinted once, when the first ELF member is met.
func (ai *archiveInspection) references(ctx context.Context) ([]tooling.Known, error) {
	if ai.refsOK {
		return ai.refs, nil
	}
	own, err := tooling.KnownOf(ctx, ai.in.Final, ai.in.Src, ai.tools, "the image's")
	if err != nil {
		return nil, fmt.Errorf("rebase: fingerprinting the image's tools: %w", err)
	}
	ai.refs = append(append([]tooling.Known(nil), ai.in.Tooling.Known...), own...)
	ai.refsOK = true
	return ai.refs, nil
}
