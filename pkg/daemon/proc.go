package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
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

// runningPID returns the pid of the daemon of this state directory if it is
// alive. A pid file whose process is gone, or whose pid now belongs to some
// other program, is treated as no daemon, so that a reused pid is never
// signalled by mistake.
func runningPID(l layout) (int, bool) {
	pid, err := ReadPID(l.pid)
	if err != nil || pid == 0 {
		return 0, false
	}
	if !ProcessAlive(pid) || !isOurDaemon(pid, l) {
		return 0, false
	}
	return pid, true
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
		if !ProcessAlive(pid) {
			return true
		}
		select {
		case <-ctx.Done():
			return !ProcessAlive(pid)
		case <-deadline.C:
			return !ProcessAlive(pid)
		case <-time.After(pollEvery):
		}
	}
}
