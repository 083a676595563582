package sbom

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkSBOMDebianRootfs catalogs the Debian bookworm minbase rootfs
// (the devenv's cached tar, or HARDENKIT_DEBIAN_ROOTFS_TAR) in process.
// When HARDENKIT_SYFT_CLI names a syft binary (bench.sh builds v1.57.1), a
// second sub-benchmark runs that CLI over the same directory with the same
// cataloger selection and both output formats, for comparison.
func BenchmarkSBOMDebianRootfs(b *testing.B) {
	tarPath := os.Getenv("HARDENKIT_DEBIAN_ROOTFS_TAR")
	if tarPath == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			b.Skip("no home directory for the devenv cache")
		}
		tarPath = filepath.Join(home, ".cache", "hardenkit", "devenv", "debian-bookworm-minbase.tar")
	}
	if _, err := os.Stat(tarPath); err != nil {
		b.Skipf("Debian rootfs tar not available (run `make devenv` or set HARDENKIT_DEBIAN_ROOTFS_TAR): %v", err)
	}
	root := filepath.Join(b.TempDir(), "rootfs")
	if err := extractTar(tarPath, root); err != nil {
		b.Fatalf("extracting %s: %v", tarPath, err)
	}

	b.Run("library", func(b *testing.B) {
		var res *Result
		for b.Loop() {
			var err error
			res, err = Generate(b.Context(), root, Options{Epoch: time.Unix(0, 0), Name: "debian:bookworm"})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(res.Packages)), "packages")
		b.ReportMetric(float64(len(res.SPDX)), "spdx-bytes")
	})

	cli := os.Getenv("HARDENKIT_SYFT_CLI")
	if cli == "" {
		return
	}
	b.Run("syft-cli", func(b *testing.B) {
		out := b.TempDir()
		for b.Loop() {
			cmd := exec.CommandContext(b.Context(), cli, "scan", "dir:"+root,
				"--base-path", root,
				"--override-default-catalogers", "image,file",
				"--source-name", "debian:bookworm",
				"-q",
				"-o", "spdx-json="+filepath.Join(out, "sbom.spdx.json"),
				"-o", "cyclonedx-json="+filepath.Join(out, "sbom.cdx.json"))
			// The CLI checks for a newer release over the network by
			// default; the library never does.
			cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
			if msg, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%s: %v\n%s", cli, err, msg)
			}
		}
	})
}

// extractTar unpacks a rootfs tar into dir: regular files, directories,
// symlinks (left as they are: they resolve inside the rootfs when
// cataloged) and hard links. Device nodes and FIFOs are skipped, and
// entries that would land outside dir are an error.
func extractTar(tarPath, dir string) error {
	f, err := os.Open(tarPath)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	target := func(name string) (string, error) {
		clean := filepath.Clean("/" + name)
		p := filepath.Join(dir, clean)
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) && p != dir {
			return "", fmt.Errorf("entry %q escapes the rootfs", name)
		}
		return p, nil
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p, err := target(h.Name)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(h.Mode) & os.ModePerm
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, mode|0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			w, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(w, tr)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			_ = os.Remove(p)
			if err := os.Symlink(h.Linkname, p); err != nil {
				return err
			}
		case tar.TypeLink:
			old, err := target(h.Linkname)
			if err != nil {
				return err
			}
			_ = os.Remove(p)
			if err := os.Link(old, p); err != nil {
				return err
			}
		}
	}
}
