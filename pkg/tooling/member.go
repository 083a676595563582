package tooling

// Files held in memory: a member of an archive the image ships (pkg/keep's
// archives.go) is judged by what it is, as a file of the tree is — its
// content (multi-call markers, the shell signature) and its similarity
// with the build's tools — whatever its name: `bin/helper` in a tarball
// the application unpacks and runs is BusyBox if it is BusyBox. Names are
// not judged inside archives: a Node.js tarball holds bin/npm, a wheel a
// console script, and neither runs unless unpacked and run by the image.

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// memberPath is the path a member has in its one-file source.
const memberPath = "/member"

// memSource is a rootfs.Source holding one file, data, at memberPath.
type memSource struct{ data []byte }

func (m memSource) ReadDir(context.Context, string) ([]rootfs.Entry, error) { return nil, nil }

func (m memSource) ReadFile(_ context.Context, p string, offset, length int64) ([]byte, error) {
	if p != memberPath {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	if offset >= int64(len(m.data)) {
		return nil, nil
	}
	end := int64(len(m.data))
	if length > 0 {
		end = min(end, offset+length)
	}
	return m.data[offset:end], nil
}

// InspectData reports whether data (a file's content, or its first bytes
// when the rest was not read) is a tool by content (ByContent) or the same
// program as one of refs (Compare, the Known tools of the categories l
// looks for). The Match's Path is name; its Reason says how it was found.
func InspectData(ctx context.Context, name string, data []byte, l Lists, refs []Known) (Match, bool, error) {
	src := memSource{data: data}
	e := rootfs.Entry{Path: memberPath, Mode: 0o755, Size: int64(len(data))}
	m, ok, err := ByContent(ctx, src, e, l)
	if err != nil || ok {
		m.Path = name
		return m, ok, err
	}
	if len(refs) == 0 || len(data) <= 64 {
		return Match{}, false, nil
	}
	fp, err := FingerprintFile(ctx, src, e)
	if err != nil {
		return Match{}, false, err
	}
	k, how, score, ok := BestKnown(fp, refs, func(k Known) bool { return k.Category != "" && l.Enabled(k.Category) })
	if !ok {
		return Match{}, false, nil
	}
	reason := ReasonSimilarTo + k.Origin
	if how != "identical" {
		reason += fmt.Sprintf(" (%s, %.0f%%)", how, score*100)
	}
	return Match{Path: name, Category: k.Category, Tool: k.Tool, Reason: reason}, true, nil
}

// KnownOf fingerprints the regular files among ms (a Detect result for t)
// as Known tools, origin naming where they are ("the image"), so that a
// copy of one elsewhere — inside an archive — is recognised.
func KnownOf(ctx context.Context, t *rootfs.Tree, src rootfs.Source, ms []Match, origin string) ([]Known, error) {
	var out []Known
	for _, m := range ms {
		e, ok := t.Lookup(m.Path)
		if !ok || !e.IsRegular() || e.IsHardlink() || e.Size <= 64 || m.Reason == ReasonPackageManagerData || m.Category == "" {
			continue
		}
		fp, err := FingerprintFile(ctx, src, e)
		if err != nil {
			return nil, fmt.Errorf("fingerprinting %s: %w", m.Path, err)
		}
		out = append(out, Known{Tool: m.Tool, Category: m.Category, Origin: origin + " " + m.Path, Print: fp})
	}
	return out, nil
}
