package daemon

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
)

// statusTimeout bounds the RPCs Status makes, so that "daemon status" on a
// hung daemon reports it instead of hanging too.
const statusTimeout = 5 * time.Second

// StatusInfo describes the private buildkitd of a state directory.
type StatusInfo struct {
	// StateDir is the absolute state directory that was inspected.
	StateDir string `json:"stateDir"`
	// Addr is the address the daemon listens (or would listen) on.
	Addr string `json:"addr"`
	// LogFile is where the daemon writes its output.
	LogFile string `json:"logFile"`
	// Running reports whether the daemon process is alive.
	Running bool `json:"running"`
	// PID is the daemon process id when Running.
	PID int `json:"pid,omitempty"`
	// Responding reports whether the daemon answered the API calls below.
	Responding bool `json:"responding"`
	// Error is why a running daemon did not respond, or why the pid file
	// could not be used.
	Error string `json:"error,omitempty"`
	// Version is the buildkitd version the daemon reports.
	Version string `json:"version,omitempty"`
	// Workers are the daemon's workers and the platforms they build for.
	Workers []WorkerStatus `json:"workers,omitempty"`
}

// WorkerStatus is one buildkitd worker.
type WorkerStatus struct {
	// ID is the worker id.
	ID string `json:"id"`
	// Platforms are the platforms the worker can build, most preferred first.
	Platforms []string `json:"platforms"`
}

// Status inspects the private buildkitd of stateDir ("" means
// DefaultStateDir()). A daemon that is not running is not an error; the
// error is reserved for not being able to inspect the state at all.
func Status(ctx context.Context, stateDir string) (*StatusInfo, error) {
	dir, err := resolveStateDir(stateDir)
	if err != nil {
		return nil, err
	}
	l := newLayout(dir)
	info := &StatusInfo{StateDir: dir, Addr: l.addr(), LogFile: l.log}
	pid, ok := runningPID(l)
	if !ok {
		// A corrupt pid file means no usable daemon, as it does for Ensure,
		// but is worth showing.
		if _, err := ReadPID(l.pid); err != nil {
			info.Error = err.Error()
		}
		return info, nil
	}
	info.Running = true
	info.PID = pid

	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	c, err := client.New(ctx, l.addr())
	if err != nil {
		info.Error = err.Error()
		return info, nil
	}
	defer c.Close()
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		info.Error = fmt.Sprintf("listing workers: %v", err)
		return info, nil
	}
	bi, err := c.Info(ctx)
	if err != nil {
		info.Error = fmt.Sprintf("getting daemon info: %v", err)
		return info, nil
	}
	info.Responding = true
	info.Version = bi.BuildkitVersion.Version
	for _, w := range ws {
		ps := make([]string, 0, len(w.Platforms))
		for _, p := range w.Platforms {
			ps = append(ps, platforms.Format(p))
		}
		info.Workers = append(info.Workers, WorkerStatus{ID: w.ID, Platforms: ps})
	}
	return info, nil
}

// Stop ends the private buildkitd of stateDir ("" means DefaultStateDir()):
// SIGTERM, then SIGKILL if it has not exited after a grace period. Stopping
// a daemon that is not running succeeds and cleans up stale files.
func Stop(ctx context.Context, stateDir string) error {
	dir, err := resolveStateDir(stateDir)
	if err != nil {
		return err
	}
	l := newLayout(dir)
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil
	}
	unlock, err := LockFile(ctx, l.lock, lockHolder)
	if err != nil {
		return err
	}
	defer unlock()
	pid, ok := runningPID(l)
	if !ok {
		return removeRuntimeFiles(l)
	}
	return stopPID(ctx, l, pid)
}
