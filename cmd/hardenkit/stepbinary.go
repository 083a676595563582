package main

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	gofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/containerd/platforms"
	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"

	"github.com/hardenkit/hardenkit/frontend"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/llb/step"
)

// serveStepBinary adds the session local through which the in-process
// frontend reads this executable (exe) to run the smoke test inside the
// image under test, as the frontend image runs its own binary. The CLI
// dispatches the same steps (stepcmd) when started as one. An executable
// that cannot run inside an arbitrary image — not a static Linux program —
// is not served, and the returned StepBinary says why: the smoke test then
// fails the build rather than pass untested (the policy can set it off).
func serveStepBinary(mounts map[string]fsutil.FS, exe string) (frontend.StepBinary, error) {
	if _, taken := mounts[options.LocalStepBinary]; taken {
		return frontend.StepBinary{}, fmt.Errorf("the local name %s is reserved for hardenkit's own binary", options.LocalStepBinary)
	}
	if why := notStaticLinux(exe); why != "" {
		return frontend.StepBinary{Unavailable: why}, nil
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return frontend.StepBinary{}, fmt.Errorf("hardenkit's own executable: %w", err)
	}
	mounts[options.LocalStepBinary] = oneFileFS{src: exe, info: fi}
	return frontend.StepBinary{Local: options.LocalStepBinary, Platform: platforms.DefaultSpec()}, nil
}

// notStaticLinux says why exe cannot run inside an image whatever that
// image holds, "" when it can: it must be a Linux ELF program that needs
// no program interpreter (PT_INTERP, the dynamic loader) and no shared
// library, as a CGO_ENABLED=0 build is.
func notStaticLinux(exe string) string {
	if runtime.GOOS != "linux" {
		return fmt.Sprintf("hardenkit runs on %s, and its binary runs the test inside Linux images", runtime.GOOS)
	}
	f, err := elf.Open(exe)
	if err != nil {
		return fmt.Sprintf("hardenkit's executable %s cannot be read as an ELF program (%v)", exe, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		interp, err := io.ReadAll(io.LimitReader(p.Open(), 4096))
		if err != nil {
			return fmt.Sprintf("hardenkit's executable %s has an unreadable program interpreter (%v)", exe, err)
		}
		return fmt.Sprintf("hardenkit's executable %s is dynamically linked (it needs %s)", exe, strings.TrimRight(string(interp), "\x00"))
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		return fmt.Sprintf("hardenkit's executable %s needs shared libraries (%s)", exe, strings.Join(libs, ", "))
	}
	return ""
}

// oneFileFS is a session directory holding one file, src, at
// step.BinaryPath: the layout of the frontend image, which the steps
// expect. Serving the file where it is avoids copying a binary of a
// hundred megabytes for every build.
type oneFileFS struct {
	src  string
	info os.FileInfo
}

// entries are the directory and the file, parents first, as a walk
// visits them.
func (o oneFileFS) entries() []*types.Stat {
	mtime := o.info.ModTime().UnixNano()
	rel := strings.TrimPrefix(step.BinaryPath, "/")
	return []*types.Stat{
		{Path: path.Dir(rel), Mode: uint32(os.ModeDir | 0o755), ModTime: mtime},
		{Path: rel, Mode: 0o755, Size: o.info.Size(), ModTime: mtime},
	}
}

// Walk visits the entries at or under target.
func (o oneFileFS) Walk(ctx context.Context, target string, fn gofs.WalkDirFunc) error {
	target = strings.Trim(filepath.ToSlash(filepath.Clean(target)), "/.")
	skipped := ""
	for _, st := range o.entries() {
		if target != "" && st.Path != target && !strings.HasPrefix(st.Path, target+"/") {
			continue
		}
		if skipped != "" && strings.HasPrefix(st.Path, skipped+"/") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(filepath.FromSlash(st.Path), &fsutil.DirEntryInfo{Stat: st}, nil)
		if errors.Is(err, filepath.SkipDir) && st.IsDir() {
			skipped = st.Path
			continue
		}
		if err != nil && !errors.Is(err, filepath.SkipDir) {
			return err
		}
	}
	return nil
}

// Open opens the one file.
func (o oneFileFS) Open(p string) (io.ReadCloser, error) {
	if filepath.ToSlash(filepath.Clean(p)) != strings.TrimPrefix(step.BinaryPath, "/") {
		return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
	}
	return os.Open(o.src)
}

// serveOwnBinary is serveStepBinary for the running executable.
func serveOwnBinary(mounts map[string]fsutil.FS) (frontend.StepBinary, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return frontend.StepBinary{Unavailable: fmt.Sprintf("hardenkit cannot find its own executable (%v)", err)}, nil
	}
	return serveStepBinary(mounts, exe)
}
