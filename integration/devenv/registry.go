package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/hardenkit/hardenkit/pkg/daemon"
)

// ServeRegistry serves an OCI distribution registry on addr until ctx is
// done. Blobs are stored below dir and survive restarts; manifests are held
// in memory only. Request logs go to logw.
func ServeRegistry(ctx context.Context, addr, dir string, logw io.Writer) error {
	blobDir := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(blobDir, 0o755); err != nil {
		return fmt.Errorf("creating registry blob dir: %w", err)
	}
	handler := registry.New(
		registry.WithBlobHandler(registry.NewDiskBlobHandler(blobDir)),
		registry.Logger(log.New(logw, "registry: ", log.LstdFlags)),
	)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(logw, "registry: serving %s, blobs in %s\n", ln.Addr(), blobDir)
	select {
	case err := <-errc:
		return fmt.Errorf("serving registry: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down registry: %w", err)
	}
	fmt.Fprintf(logw, "registry: stopped\n")
	return nil
}

// maxRegistryLog is the size past which the registry log is rotated when
// the registry is (re)started.
const maxRegistryLog = 10 << 20

// registryFiles are the files of the registry process in the state dir.
type registryFiles struct {
	dir, pid, addr, log string
}

func newRegistryFiles(stateDir string) registryFiles {
	return registryFiles{
		dir:  filepath.Join(stateDir, "registry"),
		pid:  filepath.Join(stateDir, "registry.pid"),
		addr: filepath.Join(stateDir, "registry.addr"),
		log:  filepath.Join(stateDir, "registry.log"),
	}
}

// pingRegistry checks that a registry answers on addr.
func pingRegistry(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
	if err != nil {
		return fmt.Errorf("creating registry request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("registry at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("registry at %s: GET /v2/ answered %s", addr, resp.Status)
	}
	return nil
}

// isRegistryProcess reports whether pid is a live "devenv registry serve"
// process, which guards against acting on a recycled process id.
func isRegistryProcess(pid int) bool {
	if pid <= 0 {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	return len(args) >= 3 && string(args[1]) == "registry" && string(args[2]) == "serve"
}

// runningRegistry returns the pid of the registry recorded in the state dir
// if it is alive and serving addr, or 0 if none is.
func runningRegistry(ctx context.Context, files registryFiles, addr string) (int, error) {
	pid, err := daemon.ReadPID(files.pid)
	if err != nil || pid == 0 || !isRegistryProcess(pid) {
		return 0, err
	}
	recorded, err := os.ReadFile(files.addr)
	if err != nil || strings.TrimSpace(string(recorded)) != addr {
		return 0, nil
	}
	if err := pingRegistry(ctx, addr); err != nil {
		return 0, nil
	}
	return pid, nil
}

// ensureRegistry reuses the registry of the state dir if it serves addr, or
// starts "devenv registry serve" from the devenv binary devenvBin as a
// detached process in its own session. It reports whether it started one.
func ensureRegistry(ctx context.Context, stateDir, addr string, devenvBin func(context.Context) (string, error), logw io.Writer) (bool, error) {
	files := newRegistryFiles(stateDir)
	pid, err := runningRegistry(ctx, files, addr)
	if err != nil {
		return false, err
	}
	if pid != 0 {
		fmt.Fprintf(logw, "devenv: reusing registry on %s (pid %d)\n", addr, pid)
		return false, nil
	}
	// A registry of this state dir on another address is replaced.
	if err := stopRegistry(ctx, stateDir); err != nil {
		return false, err
	}
	if err := pingRegistry(ctx, addr); err == nil {
		return false, fmt.Errorf("something else already serves a registry on %s; stop it or pick another port", addr)
	}
	bin, err := devenvBin(ctx)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(files.dir, 0o755); err != nil {
		return false, fmt.Errorf("creating registry dir: %w", err)
	}
	// Every request is logged, so the log is rotated when it grew large.
	if fi, err := os.Stat(files.log); err == nil && fi.Size() > maxRegistryLog {
		if err := os.Rename(files.log, files.log+".1"); err != nil {
			return false, fmt.Errorf("rotating registry log: %w", err)
		}
	}
	logf, err := os.OpenFile(files.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return false, fmt.Errorf("opening registry log: %w", err)
	}
	defer logf.Close()
	// The process must outlive the caller, so it is not tied to ctx.
	cmd := exec.Command(bin, "registry", "serve", "--addr", addr, "--dir", files.dir)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("starting registry: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := os.WriteFile(files.pid, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return false, fmt.Errorf("writing registry pid file: %w", err)
	}
	if err := os.WriteFile(files.addr, []byte(addr+"\n"), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return false, fmt.Errorf("writing registry address file: %w", err)
	}
	fmt.Fprintf(logw, "devenv: started registry on %s (pid %d, log %s)\n", addr, cmd.Process.Pid, files.log)

	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(15 * time.Second)
	for {
		if err := pingRegistry(ctx, addr); err == nil {
			return true, nil
		}
		select {
		case err := <-exited:
			return false, fmt.Errorf("registry exited during start-up (%v); see %s:\n%s", err, files.log, tailFile(files.log, 2048))
		case <-deadline:
			_ = cmd.Process.Kill()
			return false, fmt.Errorf("registry did not answer on %s within 15s; see %s", addr, files.log)
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return false, fmt.Errorf("waiting for registry: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// stopRegistry stops the registry process recorded in the state dir, if
// any: SIGTERM, then SIGKILL after 10 seconds.
func stopRegistry(ctx context.Context, stateDir string) error {
	files := newRegistryFiles(stateDir)
	pid, err := daemon.ReadPID(files.pid)
	if err != nil {
		return err
	}
	if pid != 0 && isRegistryProcess(pid) {
		if err := terminate(ctx, pid, 10*time.Second); err != nil {
			return fmt.Errorf("stopping registry (pid %d): %w", pid, err)
		}
	}
	for _, p := range []string{files.pid, files.addr} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", p, err)
		}
	}
	return nil
}

// terminate sends SIGTERM to pid and waits for it to exit, sending SIGKILL
// when it is still alive after grace.
func terminate(ctx context.Context, pid int, grace time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("sending SIGTERM: %w", err)
	}
	killAt := time.Now().Add(grace)
	killed := false
	for {
		if !daemon.ProcessAlive(pid) {
			return nil
		}
		if !killed && time.Now().After(killAt) {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("sending SIGKILL: %w", err)
			}
			killed = true
			killAt = time.Now().Add(grace)
		} else if killed && time.Now().After(killAt) {
			return fmt.Errorf("process still alive after SIGKILL")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tailFile returns up to the last n bytes of the file at p.
func tailFile(p string, n int64) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := fi.Size() - n
	if off < 0 {
		off = 0
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
