package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"
)

// Stop timings: buildkitd shuts down gracefully on SIGTERM (finishing its
// bolt databases and unmounting snapshots), which can take a few seconds on
// a loaded machine; after that it is killed.
const (
	stopGrace   = 30 * time.Second
	killTimeout = 10 * time.Second
	pollEvery   = 100 * time.Millisecond
)

// lockFile takes an exclusive flock on path, waiting (bounded by ctx) while
// another hardenkit process holds it. The returned func releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s (another hardenkit is starting or stopping the daemon): %w", path, context.Cause(ctx))
		case <-time.After(pollEvery):
		}
	}
}

// readPID returns the pid recorded in the pid file, 0 if there is none.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s is corrupt: %q", path, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

// runningPID returns the pid of the daemon of this state directory if it is
// alive. A pid file whose process is gone, or whose pid now belongs to some
// other program, is treated as no daemon, so that a reused pid is never
// signalled by mistake.
func runningPID(l layout) (int, bool) {
	pid, err := readPID(l.pid)
	if err != nil || pid == 0 {
		return 0, false
	}
	if !processAlive(pid) || !isOurDaemon(pid, l) {
		return 0, false
	}
	return pid, true
}

// processAlive reports whether pid exists and is not a zombie; a zombie
// (e.g. a child we have not reaped yet) accepts signals but is dead.
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state field follows the parenthesised command name, which may
	// itself contain spaces or parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) == 0 {
		return false
	}
	switch fields[0] {
	case "Z", "X", "x":
		return false
	}
	return true
}

// isOurDaemon checks the command line of pid for this state directory's
// socket address, which only a buildkitd started for this layout has.
func isOurDaemon(pid int, l layout) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	want := l.addr()
	for _, arg := range strings.Split(string(b), "\x00") {
		if arg == want || arg == "--addr="+want {
			return true
		}
	}
	return false
}

// waitResponsive polls the daemon until ListWorkers returns at least one
// worker, ctx ends, or exited (if non-nil) is closed. A daemon without
// workers cannot build anything, so it does not count as ready.
func waitResponsive(ctx context.Context, addr string, exited <-chan struct{}) ([]*client.WorkerInfo, error) {
	var lastErr error
	for {
		ws, err := probe(ctx, addr)
		if err == nil && len(ws) > 0 {
			return ws, nil
		}
		if err == nil {
			err = errors.New("buildkitd has no workers")
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, lastErr
		case <-exited:
			return nil, lastErr
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// probe asks the daemon for its workers, with a short per-attempt timeout so
// that a socket that accepts but never answers does not stall the caller.
func probe(ctx context.Context, addr string) ([]*client.WorkerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ListWorkers(ctx)
}

// stopPID sends SIGTERM to pid, waits for it to exit, and escalates to
// SIGKILL after stopGrace. It then removes the pid file and sockets, which a
// killed daemon leaves behind.
func stopPID(ctx context.Context, l layout, pid int) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("sending SIGTERM to buildkitd (pid %d): %w", pid, err)
	}
	if !waitExit(ctx, pid, stopGrace) {
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for buildkitd (pid %d) to exit: %w", pid, context.Cause(ctx))
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("sending SIGKILL to buildkitd (pid %d): %w", pid, err)
		}
		if !waitExit(ctx, pid, killTimeout) {
			return fmt.Errorf("buildkitd (pid %d) is still running %s after SIGKILL", pid, killTimeout)
		}
	}
	return removeRuntimeFiles(l)
}

func removeRuntimeFiles(l layout) error {
	for _, p := range []string{l.pid, l.sock, l.otel} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", p, err)
		}
	}
	return nil
}

// waitExit reports whether pid exited within d (or before ctx ended).
func waitExit(ctx context.Context, pid int, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		if !processAlive(pid) {
			return true
		}
		select {
		case <-ctx.Done():
			return !processAlive(pid)
		case <-deadline.C:
			return !processAlive(pid)
		case <-time.After(pollEvery):
		}
	}
}
