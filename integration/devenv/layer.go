package devenv

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fileEntry is one file system object of a layer that devenv assembles from
// scratch. Names are slash separated, relative to the root and carry no
// trailing slash.
type fileEntry struct {
	Name     string
	Type     byte // tar.TypeReg, tar.TypeDir or tar.TypeSymlink
	Mode     int64
	Linkname string
	Data     []byte
	UID, GID int
}

// dirEntry returns a root-owned directory entry.
func dirEntry(name string, mode int64) fileEntry {
	return fileEntry{Name: name, Type: tar.TypeDir, Mode: mode}
}

// fileData returns a root-owned regular file entry.
func fileData(name string, mode int64, data []byte) fileEntry {
	return fileEntry{Name: name, Type: tar.TypeReg, Mode: mode, Data: data}
}

// symlinkEntry returns a root-owned symbolic link entry.
func symlinkEntry(name, target string) fileEntry {
	return fileEntry{Name: name, Type: tar.TypeSymlink, Mode: 0o777, Linkname: target}
}

// cleanEntryName validates a layer path and returns its canonical form.
func cleanEntryName(name string) (string, error) {
	c := path.Clean(strings.TrimPrefix(name, "/"))
	if c == "." || c == "" || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("invalid layer path %q", name)
	}
	return c, nil
}

// buildTar writes entries as an uncompressed tar stream. Entries are sorted
// by name, missing parent directories are added with mode 0755, every entry
// gets mtime and duplicate names are rejected, so the same entries always
// yield the same bytes.
func buildTar(entries []fileEntry, mtime time.Time) ([]byte, error) {
	byName := make(map[string]fileEntry, len(entries))
	for _, e := range entries {
		name, err := cleanEntryName(e.Name)
		if err != nil {
			return nil, err
		}
		if _, dup := byName[name]; dup {
			return nil, fmt.Errorf("duplicate layer path %q", name)
		}
		e.Name = name
		byName[name] = e
	}
	for name := range byName {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			p, ok := byName[dir]
			if !ok {
				byName[dir] = dirEntry(dir, 0o755)
				continue
			}
			if p.Type != tar.TypeDir {
				return nil, fmt.Errorf("layer path %q has non-directory parent %q", name, dir)
			}
		}
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range names {
		e := byName[name]
		hdr := &tar.Header{
			Name:     name,
			Typeflag: e.Type,
			Mode:     e.Mode,
			Uid:      e.UID,
			Gid:      e.GID,
			ModTime:  mtime,
			Format:   tar.FormatPAX,
		}
		switch e.Type {
		case tar.TypeDir:
			hdr.Name += "/"
		case tar.TypeReg:
			hdr.Size = int64(len(e.Data))
		case tar.TypeSymlink:
			hdr.Linkname = e.Linkname
		default:
			return nil, fmt.Errorf("layer path %q: unsupported entry type %q", name, e.Type)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("writing tar header for %s: %w", name, err)
		}
		if e.Type == tar.TypeReg {
			if _, err := tw.Write(e.Data); err != nil {
				return nil, fmt.Errorf("writing tar data for %s: %w", name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing tar: %w", err)
	}
	return buf.Bytes(), nil
}

// layerFromTar wraps an uncompressed tar stream as a gzip compressed OCI
// layer. The gzip header carries no name or time, so the compressed digest
// only depends on the tar bytes (and the Go version's compressor).
func layerFromTar(opener tarball.Opener) (v1.Layer, error) {
	l, err := tarball.LayerFromOpener(opener, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("creating layer: %w", err)
	}
	return l, nil
}

// layerFromBytes is layerFromTar for an in-memory tar stream.
func layerFromBytes(b []byte) (v1.Layer, error) {
	return layerFromTar(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}

// tarMember is one entry of a rootfs tarball together with where its data
// lives in the source file.
type tarMember struct {
	hdr    *tar.Header
	offset int64
}

// normalizedRootfs is the index of a rootfs tarball (as written by
// mmdebstrap) that can be re-emitted as a canonical layer stream.
type normalizedRootfs struct {
	path    string
	members []tarMember
	// MaxMtime is the newest modification time of all kept entries.
	MaxMtime time.Time
}

// indexRootfsTar reads the headers of the rootfs tarball at p and prepares
// a canonical form of it: leading "./" removed, the root entry and everything
// below dev/ dropped (the runtime mounts its own /dev), entries sorted by
// name, user and group names and access/change times cleared, and hard link
// groups rewritten so that the first entry in sort order carries the data.
func indexRootfsTar(p string) (*normalizedRootfs, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("opening rootfs tarball: %w", err)
	}
	defer f.Close()

	n := &normalizedRootfs{path: p}
	byName := map[string]int{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("locating data of %s in %s: %w", hdr.Name, p, err)
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		default:
			return nil, fmt.Errorf("%s: entry %s has unsupported type %q", p, hdr.Name, hdr.Typeflag)
		}
		if _, sparse := hdr.PAXRecords["GNU.sparse.major"]; sparse {
			return nil, fmt.Errorf("%s: sparse entry %s is not supported", p, hdr.Name)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(path.Clean("/"+hdr.Name), "/"), "/")
		if name == "" || strings.HasPrefix(name, "dev/") {
			continue
		}
		if hdr.Typeflag == tar.TypeChar || hdr.Typeflag == tar.TypeBlock || hdr.Typeflag == tar.TypeFifo {
			return nil, fmt.Errorf("%s: unexpected device or fifo %s outside /dev", p, hdr.Name)
		}
		h := &tar.Header{
			Typeflag:   hdr.Typeflag,
			Name:       name,
			Linkname:   hdr.Linkname,
			Size:       hdr.Size,
			Mode:       hdr.Mode,
			Uid:        hdr.Uid,
			Gid:        hdr.Gid,
			ModTime:    hdr.ModTime,
			PAXRecords: xattrRecords(hdr.PAXRecords),
			Format:     tar.FormatPAX,
		}
		if h.Typeflag == tar.TypeLink {
			h.Linkname = strings.TrimPrefix(path.Clean("/"+hdr.Linkname), "/")
			h.Size = 0
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if h.ModTime.After(n.MaxMtime) {
			n.MaxMtime = h.ModTime
		}
		if i, dup := byName[name]; dup {
			// A later entry replaces an earlier one, as on extraction.
			n.members[i] = tarMember{hdr: h, offset: off}
			continue
		}
		byName[name] = len(n.members)
		n.members = append(n.members, tarMember{hdr: h, offset: off})
	}
	if len(n.members) == 0 {
		return nil, fmt.Errorf("%s: tarball holds no files", p)
	}
	if err := n.fixHardlinks(byName); err != nil {
		return nil, err
	}
	sort.Slice(n.members, func(i, j int) bool { return n.members[i].hdr.Name < n.members[j].hdr.Name })
	return n, nil
}

// xattrRecords keeps only the extended attribute records of a PAX header;
// times and names in other records are dropped for canonical output.
func xattrRecords(recs map[string]string) map[string]string {
	var out map[string]string
	for k, v := range recs {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// fixHardlinks makes, for every group of hard-linked entries, the entry
// that sorts first the one holding the data and turns the others into links
// to it, so that a sorted stream never links forward.
func (n *normalizedRootfs) fixHardlinks(byName map[string]int) error {
	groups := map[string][]string{}
	for _, m := range n.members {
		if m.hdr.Typeflag != tar.TypeLink {
			continue
		}
		ti, ok := byName[m.hdr.Linkname]
		if !ok {
			return fmt.Errorf("%s: hard link %s points to missing %s", n.path, m.hdr.Name, m.hdr.Linkname)
		}
		if n.members[ti].hdr.Typeflag != tar.TypeReg {
			return fmt.Errorf("%s: hard link %s points to non-regular %s", n.path, m.hdr.Name, m.hdr.Linkname)
		}
		groups[m.hdr.Linkname] = append(groups[m.hdr.Linkname], m.hdr.Name)
	}
	for target, links := range groups {
		first := target
		for _, l := range links {
			if l < first {
				first = l
			}
		}
		if first == target {
			continue
		}
		src := n.members[byName[target]]
		for _, name := range append([]string{target}, links...) {
			i := byName[name]
			if name == first {
				h := *src.hdr
				h.Name = first
				n.members[i] = tarMember{hdr: &h, offset: src.offset}
				continue
			}
			h := *n.members[i].hdr
			if name == target {
				h = *src.hdr
				h.Typeflag = tar.TypeLink
				h.Size = 0
			}
			h.Linkname = first
			n.members[i] = tarMember{hdr: &h}
		}
	}
	return nil
}

// WriteTo streams the canonical tar to w.
func (n *normalizedRootfs) WriteTo(w io.Writer) (int64, error) {
	f, err := os.Open(n.path)
	if err != nil {
		return 0, fmt.Errorf("opening rootfs tarball: %w", err)
	}
	defer f.Close()
	cw := &countingWriter{w: w}
	tw := tar.NewWriter(cw)
	for _, m := range n.members {
		h := *m.hdr
		if err := tw.WriteHeader(&h); err != nil {
			return cw.n, fmt.Errorf("writing tar header for %s: %w", h.Name, err)
		}
		if h.Typeflag == tar.TypeReg && h.Size > 0 {
			if _, err := io.Copy(tw, io.NewSectionReader(f, m.offset, h.Size)); err != nil {
				return cw.n, fmt.Errorf("copying %s: %w", h.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return cw.n, fmt.Errorf("closing tar: %w", err)
	}
	return cw.n, nil
}

// Opener returns a tarball.Opener that streams the canonical tar.
func (n *normalizedRootfs) Opener() tarball.Opener {
	return func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			_, err := n.WriteTo(pw)
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
