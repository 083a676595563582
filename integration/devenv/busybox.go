package devenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// busyboxBinary is where Debian's busybox-static package installs busybox.
const busyboxBinary = "/bin/busybox"

const (
	busyboxPasswd = "root:x:0:0:root:/root:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	busyboxGroup = "root:x:0:\n" +
		"nobody:x:65534:\n"
)

// checkStaticBinary fails unless p is a statically linked ELF executable.
func checkStaticBinary(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return fmt.Errorf("%s is not an ELF executable (apt-get install -y busybox-static): %w", p, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked and cannot run in a scratch image: apt-get install -y busybox-static", p)
		}
	}
	return nil
}

// busyboxApplets runs bin --list-full and returns the applet paths it
// prints (relative to the root, e.g. "bin/sh"), sorted.
func busyboxApplets(ctx context.Context, bin string) ([]string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--list-full")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing busybox applets (%s --list-full): %w: %s", bin, err, strings.TrimSpace(stderr.String()))
	}
	return parseAppletList(out)
}

// parseAppletList parses the output of busybox --list-full.
func parseAppletList(out []byte) ([]string, error) {
	var applets []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		p, err := cleanEntryName(line)
		if err != nil {
			return nil, fmt.Errorf("busybox applet list: %w", err)
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		applets = append(applets, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading busybox applet list: %w", err)
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("busybox lists no applets")
	}
	sort.Strings(applets)
	return applets, nil
}

// busyboxRootfs returns the file system of the busybox base image: the
// binary at /bin/busybox, a symbolic link to it for every applet, the
// usual top-level directories, /tmp with mode 1777 and an /etc/passwd and
// /etc/group that know root and nobody.
func busyboxRootfs(binary []byte, applets []string) ([]fileEntry, error) {
	if len(binary) == 0 {
		return nil, fmt.Errorf("busybox binary is empty")
	}
	self := strings.TrimPrefix(busyboxBinary, "/")
	entries := []fileEntry{
		dirEntry("bin", 0o755),
		dirEntry("dev", 0o755),
		dirEntry("etc", 0o755),
		dirEntry("home", 0o755),
		dirEntry("proc", 0o555),
		dirEntry("root", 0o700),
		dirEntry("sbin", 0o755),
		dirEntry("sys", 0o555),
		dirEntry("tmp", 0o1777),
		dirEntry("usr", 0o755),
		dirEntry("usr/bin", 0o755),
		dirEntry("usr/sbin", 0o755),
		dirEntry("var", 0o755),
		fileData(self, 0o755, binary),
		fileData("etc/passwd", 0o644, []byte(busyboxPasswd)),
		fileData("etc/group", 0o644, []byte(busyboxGroup)),
	}
	taken := map[string]bool{}
	for _, e := range entries {
		taken[e.Name] = true
	}
	for _, a := range applets {
		p, err := cleanEntryName(a)
		if err != nil {
			return nil, fmt.Errorf("busybox applet: %w", err)
		}
		if p == self {
			continue
		}
		if taken[p] {
			return nil, fmt.Errorf("busybox applet %s clashes with a file of the image", p)
		}
		taken[p] = true
		entries = append(entries, symlinkEntry(p, busyboxBinary))
	}
	return entries, nil
}

// busyboxInputKey is the cache key of the busybox image built from binary
// and applets.
func busyboxInputKey(binary []byte, applets []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\nbusybox\n", assemblyVersion)
	bh := sha256.Sum256(binary)
	fmt.Fprintf(h, "%x\n%s\n", bh, strings.Join(applets, "\n"))
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// busyboxImage assembles the busybox base image.
func busyboxImage(binary []byte, applets []string) (v1.Image, error) {
	entries, err := busyboxRootfs(binary, applets)
	if err != nil {
		return nil, err
	}
	tb, err := buildTar(entries, epoch)
	if err != nil {
		return nil, fmt.Errorf("building busybox rootfs: %w", err)
	}
	layer, err := layerFromBytes(tb)
	if err != nil {
		return nil, fmt.Errorf("busybox layer: %w", err)
	}
	return assembleImage(imageSpec{
		Layer:   layer,
		Created: epoch,
		Config: v1.Config{
			Cmd: []string{"sh"},
			Env: []string{defaultPath},
		},
	})
}

// localBusyboxImage returns the busybox image built from the host's
// busybox-static, from the image cache at cacheDir when it is current.
func localBusyboxImage(ctx context.Context, cacheDir string) (v1.Image, error) {
	if err := checkStaticBinary(busyboxBinary); err != nil {
		return nil, err
	}
	binary, err := os.ReadFile(busyboxBinary)
	if err != nil {
		return nil, fmt.Errorf("reading busybox: %w", err)
	}
	applets, err := busyboxApplets(ctx, busyboxBinary)
	if err != nil {
		return nil, err
	}
	key := busyboxInputKey(binary, applets)
	return cachedImage(filepath.Join(cacheDir, "images", "busybox"), key, "library/busybox:latest", func() (v1.Image, error) {
		return busyboxImage(binary, applets)
	})
}
