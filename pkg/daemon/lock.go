package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
)

// LockFile takes an exclusive lock (flock(2), through gofrs/flock) on path,
// creating it, and waits while another process holds it, until ctx ends.
// holder says who that other process would be, for the error a caller
// sees when it gives up waiting. The returned func releases the lock.
func LockFile(ctx context.Context, path, holder string) (func(), error) {
	l := flock.New(path, flock.SetPermissions(0o600))
	ok, err := l.TryLockContext(ctx, pollEvery)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("waiting for lock %s (%s): %w", path, holder, context.Cause(ctx))
	}
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("waiting for lock %s (%s): %w", path, holder, context.Cause(ctx))
	}
	return func() { _ = l.Close() }, nil
}

// ReadPID returns the pid recorded in the pid file at path, 0 if there is
// none.
func ReadPID(path string) (int, error) {
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

// ProcessAlive reports whether pid exists and is not a zombie; a zombie
// (e.g. a child not reaped yet) accepts signals but is dead.
func ProcessAlive(pid int) bool {
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

// lockHolder names who else holds a state directory's lock.
const lockHolder = "another hardenkit is starting or stopping the daemon"
