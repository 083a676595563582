package ocilayout

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// walkArchive calls fn with the slash-separated name and content of each
// regular file of an OCI layout tarball, and with a nil body for each
// directory. Names are cleaned; an entry that would leave the layout is an
// error, so an archive cannot write outside the directory it is unpacked
// into. Other entries (links, devices) are not part of a layout and are
// skipped.
func walkArchive(r io.Reader, fn func(name string, body io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeDir {
			continue
		}
		rel := filepath.Clean(strings.TrimPrefix(h.Name, "./"))
		if rel == "." {
			continue
		}
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("entry %q leaves the layout", h.Name)
		}
		var body io.Reader
		if h.Typeflag == tar.TypeReg {
			body = tr
		}
		if err := fn(filepath.ToSlash(rel), body); err != nil {
			return err
		}
	}
}

// Extract unpacks an OCI layout tarball into dir, which then opens with
// Open.
func Extract(r io.Reader, dir string) error {
	return walkArchive(r, func(name string, body io.Reader) error {
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if body == nil {
			return os.MkdirAll(dst, 0o755)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// WriteArchive writes the layout directory dir as a tarball, entries in
// lexical order.
func WriteArchive(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
