package rootfs

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// maxGatewayRead is the largest range ReferenceSource asks for in one call.
// BuildKit refuses reads above defaults.DefaultMaxSendMsgSize (16 MiB) and,
// without a range, any file larger than that, so whole files are fetched
// as a series of ranges comfortably below the limit.
const maxGatewayRead = 4 << 20

// RefReader is the part of a gateway client.Reference that ReferenceSource
// uses. Every gwclient.Reference satisfies it; tests substitute a fake.
type RefReader interface {
	// ReadFile reads a file, or a range of it, from the reference.
	ReadFile(ctx context.Context, req gwclient.ReadRequest) ([]byte, error)
	// ReadDir lists one directory of the reference.
	ReadDir(ctx context.Context, req gwclient.ReadDirRequest) ([]*fstypes.Stat, error)
}

var _ RefReader = gwclient.Reference(nil)

// ReferenceSource returns a Source reading a solved gateway reference.
//
// BuildKit's ReadDir (cache/util.ReadDir) walks the requested directory
// with fsutil and stops at each subdirectory, so it returns one level, and
// each Stat.Path is relative to the requested directory: the entry's base
// name. Hard links within that one listing come back as regular files
// whose Linkname names the earlier sibling and whose Size is 0; the source
// turns Linkname into an absolute path and restores the Size.
func ReferenceSource(ref RefReader) Source {
	return refSource{ref: ref}
}

type refSource struct {
	ref RefReader
}

func (r refSource) ReadDir(ctx context.Context, dir string) ([]Entry, error) {
	dir = Clean(dir)
	stats, err := r.ref.ReadDir(ctx, gwclient.ReadDirRequest{Path: dir})
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(stats))
	byName := make(map[string]int, len(stats))
	for _, st := range stats {
		if st == nil {
			continue
		}
		e, err := statToEntry(dir, st)
		if err != nil {
			return nil, err
		}
		byName[path.Base(e.Path)] = len(out)
		out = append(out, e)
	}
	for i := range out {
		e := &out[i]
		if !e.IsRegular() || e.Linkname == "" {
			continue
		}
		target, ok := byName[e.Linkname]
		if !ok {
			return nil, fmt.Errorf("listing %s: %s is a hard link to %q, which is not in the listing", dir, e.Path, e.Linkname)
		}
		e.Linkname = out[target].Path
		e.Size = out[target].Size
	}
	return out, nil
}

// statToEntry converts one fsutil Stat from a listing of dir.
func statToEntry(dir string, st *fstypes.Stat) (Entry, error) {
	name := strings.TrimPrefix(path.Clean("/"+st.Path), "/")
	if name == "" || strings.Contains(name, "/") {
		return Entry{}, fmt.Errorf("listing %s: entry path %q is not a base name", dir, st.Path)
	}
	var xattrs map[string][]byte
	if len(st.Xattrs) > 0 {
		xattrs = make(map[string][]byte, len(st.Xattrs))
		for k, v := range st.Xattrs {
			xattrs[k] = append([]byte(nil), v...)
		}
	}
	return Entry{
		Path:     path.Join(dir, name),
		Mode:     fs.FileMode(st.Mode),
		UID:      st.Uid,
		GID:      st.Gid,
		Size:     st.Size,
		ModTime:  st.ModTime,
		Linkname: st.Linkname,
		Xattrs:   xattrs,
	}, nil
}

func (r refSource) ReadFile(ctx context.Context, p string, offset, length int64) ([]byte, error) {
	if offset < 0 {
		return nil, fmt.Errorf("reading %s: negative offset %d", p, offset)
	}
	p = Clean(p)
	var out []byte
	for length <= 0 || int64(len(out)) < length {
		want := int64(maxGatewayRead)
		if length > 0 && length-int64(len(out)) < want {
			want = length - int64(len(out))
		}
		chunk, err := r.ref.ReadFile(ctx, gwclient.ReadRequest{
			Filename: p,
			Range:    &gwclient.FileRange{Offset: int(offset + int64(len(out))), Length: int(want)},
		})
		if err != nil {
			return nil, err
		}
		if out == nil && int64(len(chunk)) < want {
			return chunk, nil
		}
		out = append(out, chunk...)
		if int64(len(chunk)) < want {
			break
		}
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}
