package devenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const (
	// debianSuite is the Debian release of the debian base image.
	debianSuite = "bookworm"
	// debianMirror is the apt mirror mmdebstrap installs from.
	debianMirror = "http://deb.debian.org/debian"
	// debianTarName is the file name of the cached mmdebstrap output.
	debianTarName = "debian-" + debianSuite + "-minbase.tar"
)

// debianTarPath is where the cached Debian rootfs tarball lives.
func debianTarPath(cacheDir string) string {
	return filepath.Join(cacheDir, debianTarName)
}

// ensureDebianTar returns the path of the cached Debian minbase rootfs
// tarball, creating it with mmdebstrap first when it is missing. The
// tarball is written under a temporary name and renamed when complete, so
// an interrupted run leaves no half-written cache behind.
func ensureDebianTar(ctx context.Context, cacheDir string, log io.Writer) (string, error) {
	dst := debianTarPath(cacheDir)
	if fi, err := os.Stat(dst); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		return dst, nil
	}
	mmdebstrap, err := exec.LookPath("mmdebstrap")
	if err != nil {
		return "", fmt.Errorf("%s is missing and mmdebstrap is not installed to build it: apt-get install -y mmdebstrap", dst)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("creating cache dir: %w", err)
	}
	// mmdebstrap picks the output format from the name, hence the suffix.
	tmp := filepath.Join(cacheDir, fmt.Sprintf(".%s.%d.tmp.tar", debianTarName, os.Getpid()))
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("removing stale %s: %w", tmp, err)
	}
	defer os.Remove(tmp)

	fmt.Fprintf(log, "devenv: building Debian %s minbase rootfs with mmdebstrap (takes a few minutes, cached in %s)\n", debianSuite, dst)
	start := time.Now()
	cmd := exec.CommandContext(ctx, mmdebstrap,
		"--variant=minbase", "--mode=root", "--format=tar",
		debianSuite, tmp, debianMirror)
	cmd.Stdout = log
	cmd.Stderr = log
	// Let mmdebstrap clean up its temporary chroot when cancelled.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("mmdebstrap %s %s: %w (see output above)", debianSuite, debianMirror, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("moving Debian rootfs into the cache: %w", err)
	}
	fmt.Fprintf(log, "devenv: Debian rootfs built in %s\n", time.Since(start).Round(time.Second))
	return dst, nil
}

// fileSHA256 returns the hex SHA-256 of the file at p.
func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// debianImage assembles the debian base image from the rootfs tarball at
// tarPath: one layer holding the canonicalised tarball, created at the
// newest mtime found in it.
func debianImage(tarPath string) (v1.Image, error) {
	rootfs, err := indexRootfsTar(tarPath)
	if err != nil {
		return nil, err
	}
	layer, err := layerFromTar(rootfs.Opener())
	if err != nil {
		return nil, fmt.Errorf("debian layer: %w", err)
	}
	return assembleImage(imageSpec{
		Layer:   layer,
		Created: rootfs.MaxMtime.Truncate(time.Second),
		Config: v1.Config{
			Cmd: []string{"bash"},
			Env: []string{defaultPath},
		},
	})
}

// localDebianImage returns the debian base image, building the rootfs
// tarball and the image only when they are not cached in cacheDir.
func localDebianImage(ctx context.Context, cacheDir string, log io.Writer) (v1.Image, error) {
	tarPath, err := ensureDebianTar(ctx, cacheDir, log)
	if err != nil {
		return nil, err
	}
	sum, err := fileSHA256(tarPath)
	if err != nil {
		return nil, err
	}
	key := "sha256:" + hexSHA256(assemblyVersion+"\ndebian\n"+sum)
	return cachedImage(filepath.Join(cacheDir, "images", "debian-"+debianSuite), key, "library/debian:"+debianSuite, func() (v1.Image, error) {
		fmt.Fprintf(log, "devenv: assembling debian:%s image from %s\n", debianSuite, tarPath)
		return debianImage(tarPath)
	})
}

// hexSHA256 returns the hex SHA-256 of s.
func hexSHA256(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
