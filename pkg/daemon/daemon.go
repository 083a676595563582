// Package daemon runs a private buildkitd for hardenkit.
//
// The daemon lives in a state directory (by default under the user cache
// dir) that holds everything it needs: its root, its gRPC and OTEL sockets,
// the generated buildkitd.toml, a pid file and a log file. Keeping all of it
// in one directory is what lets two instances coexist on one machine and lets
// later hardenkit invocations find and reuse a daemon started earlier.
package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	bkconfig "github.com/moby/buildkit/cmd/buildkitd/config"
)

// startTimeout bounds how long Ensure waits for a freshly started buildkitd
// to answer; a healthy one answers within a few seconds, so a minute means
// something is wrong and the log tail will say what.
const startTimeout = 60 * time.Second

// reuseProbeTimeout bounds how long Ensure waits for an already running
// daemon to answer before declaring it hung and replacing it. It is generous
// because a daemon under heavy load can answer slowly.
const reuseProbeTimeout = 10 * time.Second

// maxSocketPath is the longest path a unix socket can have on Linux
// (sun_path is 108 bytes including the terminating NUL).
const maxSocketPath = 107

// maxLogSize is the size past which the log is rotated on the next start so
// that a long-lived state directory does not grow without bound.
const maxLogSize = 10 << 20

// Config describes the private buildkitd to run.
type Config struct {
	// StateDir holds the buildkitd root, socket, pid file, log and config
	// toml. "" means DefaultStateDir().
	StateDir string
	// Binary is the buildkitd executable. "" means a buildkitd next to
	// os.Executable(), then "buildkitd" on $PATH.
	Binary string
	// ExtraConfig is TOML text appended to the generated buildkitd.toml,
	// e.g. registry mirrors or http registries. It must not redefine
	// [worker.oci], which hardenkit generates.
	ExtraConfig string
	// MaxUsedSpace bounds the daemon's build cache (BuildKit's
	// maxUsedSpace, e.g. "30GB"). "" keeps BuildKit's default, 60 % of the
	// file system's size, which on a machine with a quota or a shared
	// disk can be more than there is to use.
	MaxUsedSpace string
	// Debug starts buildkitd with --debug.
	Debug bool
}

// Daemon identifies a running private buildkitd.
type Daemon struct {
	// Addr is the buildkit client address, unix://<state>/buildkitd.sock.
	Addr string
	// PID is the buildkitd process id.
	PID int
	// StateDir is the absolute state directory of the daemon.
	StateDir string
}

// layout is the set of files a state directory contains. Every path is
// derived from the state directory so that distinct state directories never
// share a socket, root or lock.
type layout struct {
	state  string
	root   string
	sock   string
	otel   string
	config string
	pid    string
	log    string
	lock   string
}

func newLayout(stateDir string) layout {
	return layout{
		state:  stateDir,
		root:   filepath.Join(stateDir, "root"),
		sock:   filepath.Join(stateDir, "buildkitd.sock"),
		otel:   filepath.Join(stateDir, "otel.sock"),
		config: filepath.Join(stateDir, "buildkitd.toml"),
		pid:    filepath.Join(stateDir, "buildkitd.pid"),
		log:    filepath.Join(stateDir, "buildkitd.log"),
		lock:   filepath.Join(stateDir, "hardenkit.lock"),
	}
}

func (l layout) addr() string { return "unix://" + l.sock }

// args is the buildkitd command line for this layout.
func (l layout) args(debug bool) []string {
	a := []string{
		"--root", l.root,
		"--addr", l.addr(),
		"--otel-socket-path", l.otel,
		"--config", l.config,
		"--oci-worker=true",
		"--containerd-worker=false",
	}
	if debug {
		a = append(a, "--debug")
	}
	return a
}

// checkSocketPaths fails early with a readable message instead of letting
// buildkitd die with "bind: invalid argument" on an over-long path.
func (l layout) checkSocketPaths() error {
	for _, p := range []string{l.sock, l.otel} {
		if len(p) > maxSocketPath {
			return fmt.Errorf("socket path %s is %d bytes, longer than the %d allowed for unix sockets: use a shorter state directory", p, len(p), maxSocketPath)
		}
	}
	return nil
}

// DefaultStateDir returns os.UserCacheDir()/hardenkit/buildkitd.
func DefaultStateDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locating the user cache directory for the buildkitd state: %w", err)
	}
	return filepath.Join(dir, "hardenkit", "buildkitd"), nil
}

// resolveStateDir turns "" into the default and makes the path absolute,
// because buildkitd needs an absolute root and the path ends up in the
// socket address that later invocations compare against.
func resolveStateDir(stateDir string) (string, error) {
	if stateDir == "" {
		d, err := DefaultStateDir()
		if err != nil {
			return "", err
		}
		stateDir = d
	}
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		return "", fmt.Errorf("resolving state directory %s: %w", stateDir, err)
	}
	return abs, nil
}

// renderConfig returns the buildkitd.toml text for cfg and checks that
// buildkitd will be able to parse it, so that a typo in ExtraConfig is
// reported here rather than as a daemon that exits on start.
func renderConfig(extra, maxUsedSpace string) (string, error) {
	var b strings.Builder
	b.WriteString("# Generated by hardenkit; rewritten on every daemon start.\n")
	b.WriteString("[worker.oci]\n  enabled = true\n  snapshotter = \"overlayfs\"\n")
	if maxUsedSpace != "" {
		fmt.Fprintf(&b, "  gc = true\n  maxUsedSpace = %q\n", maxUsedSpace)
	}
	if strings.TrimSpace(extra) != "" {
		b.WriteString("\n# Extra configuration supplied to hardenkit.\n")
		b.WriteString(extra)
		if !strings.HasSuffix(extra, "\n") {
			b.WriteString("\n")
		}
	}
	text := b.String()
	if _, err := bkconfig.Load(strings.NewReader(text)); err != nil {
		return "", fmt.Errorf("invalid buildkitd configuration (extra config must be valid buildkitd TOML and must not redefine [worker.oci]): %w", err)
	}
	return text, nil
}

// Ensure returns a running, responsive private buildkitd for cfg, starting
// one if needed. started reports whether this call started it.
//
// A daemon already running in the state directory is reused when it answers
// ListWorkers and was started with the same generated configuration. When
// the configuration differs (for example ExtraConfig changed) or the daemon
// does not answer, it is stopped and replaced, because silently building
// with the wrong registry settings is worse than a restart.
//
// The started daemon is detached (own session, output to
// <state>/buildkitd.log) and keeps running after the caller exits; use Stop
// to end it. Concurrent Ensure calls on one state directory are serialised
// with a lock file, so only one of them starts a daemon.
func Ensure(ctx context.Context, cfg Config) (d *Daemon, started bool, err error) {
	stateDir, err := resolveStateDir(cfg.StateDir)
	if err != nil {
		return nil, false, err
	}
	l := newLayout(stateDir)
	if err := l.checkSocketPaths(); err != nil {
		return nil, false, err
	}
	text, err := renderConfig(cfg.ExtraConfig, cfg.MaxUsedSpace)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("creating buildkitd state directory: %w", err)
	}

	unlock, err := LockFile(ctx, l.lock, lockHolder)
	if err != nil {
		return nil, false, err
	}
	defer unlock()

	if pid, ok := runningPID(l); ok {
		current, _ := os.ReadFile(l.config)
		if bytes.Equal(current, []byte(text)) {
			pctx, cancel := context.WithTimeout(ctx, reuseProbeTimeout)
			_, perr := waitResponsive(pctx, l.addr(), nil)
			cancel()
			if perr == nil {
				return &Daemon{Addr: l.addr(), PID: pid, StateDir: stateDir}, false, nil
			}
			if ctx.Err() != nil {
				return nil, false, fmt.Errorf("checking running buildkitd (pid %d): %w", pid, context.Cause(ctx))
			}
		}
		// Either the configuration changed or the daemon is hung: replace it.
		if err := stopPID(ctx, l, pid); err != nil {
			return nil, false, fmt.Errorf("replacing buildkitd (pid %d): %w", pid, err)
		}
	}

	if err := Preflight(cfg.Binary); err != nil {
		return nil, false, err
	}
	bin, err := resolveBinary(cfg.Binary)
	if err != nil {
		return nil, false, err
	}
	d, err = start(ctx, l, bin, text, cfg.Debug)
	if err != nil {
		return nil, false, err
	}
	return d, true, nil
}

// start launches buildkitd detached and waits until it answers. On failure
// the process is killed so that no half-started daemon is left behind.
func start(ctx context.Context, l layout, bin, configText string, debug bool) (*Daemon, error) {
	if err := os.MkdirAll(l.root, 0o700); err != nil {
		return nil, fmt.Errorf("creating buildkitd root: %w", err)
	}
	if err := os.WriteFile(l.config, []byte(configText), 0o600); err != nil {
		return nil, fmt.Errorf("writing buildkitd config: %w", err)
	}
	// No live daemon owns these (we hold the lock and found none running);
	// stale sockets from a killed daemon would otherwise make bind fail.
	for _, p := range []string{l.sock, l.otel, l.pid} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("removing stale %s: %w", p, err)
		}
	}
	logf, logStart, err := openLog(l.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()

	// Not CommandContext: the daemon must outlive this call and this process.
	cmd := exec.Command(bin, l.args(debug)...)
	cmd.Dir = l.state
	cmd.Stdout = logf
	cmd.Stderr = logf
	// A new session detaches buildkitd from our terminal, so Ctrl-C on a
	// build does not kill the shared daemon.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	pid := cmd.Process.Pid

	// Reaping in the background keeps a daemon that dies early from lingering
	// as a zombie (which would still look alive) and tells us it died.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()

	if err := os.WriteFile(l.pid, []byte(fmt.Sprintf("%d\n", pid)), 0o600); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("writing pid file: %w", err)
	}

	wctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	_, err = waitResponsive(wctx, l.addr(), exited)
	if err == nil {
		return &Daemon{Addr: l.addr(), PID: pid, StateDir: l.state}, nil
	}

	var reason string
	select {
	case <-exited:
		reason = fmt.Sprintf("buildkitd exited during startup (%v)", waitErr)
	default:
		_ = cmd.Process.Kill()
		<-exited
		if ctx.Err() != nil {
			reason = fmt.Sprintf("interrupted while waiting for buildkitd: %v", context.Cause(ctx))
		} else {
			reason = fmt.Sprintf("buildkitd did not answer within %s (last error: %v); killed it", startTimeout, err)
		}
	}
	_ = os.Remove(l.pid)
	return nil, fmt.Errorf("%s\n%s", reason, logTailMessage(l.log, logStart))
}

// openLog opens the daemon log for appending, rotating it first when it has
// grown large, and returns the offset at which this start's output begins.
func openLog(path string) (*os.File, int64, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		if err := os.Rename(path, path+".1"); err != nil {
			return nil, 0, fmt.Errorf("rotating buildkitd log: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("opening buildkitd log: %w", err)
	}
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("opening buildkitd log: %w", err)
	}
	return f, off, nil
}

// logTailMessage renders the last lines written to the log since offset,
// which is what explains a failed start (bad config, missing runc, ...).
func logTailMessage(path string, offset int64) string {
	tail, err := readTail(path, offset, 30, 8<<10)
	if err != nil {
		return fmt.Sprintf("(could not read %s: %v)", path, err)
	}
	if strings.TrimSpace(tail) == "" {
		return fmt.Sprintf("(%s has no output from this start)", path)
	}
	return fmt.Sprintf("last lines of %s:\n%s", path, tail)
}

// readTail returns at most maxLines lines (and about maxBytes bytes) from the
// end of the file, ignoring anything before offset.
func readTail(path string, offset int64, maxLines int, maxBytes int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	start := max(offset, fi.Size()-maxBytes, 0)
	if start > fi.Size() {
		start = fi.Size()
	}
	buf := make([]byte, fi.Size()-start)
	if _, err := f.ReadAt(buf, start); err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	if start > offset && len(lines) > 1 {
		// The first line was cut by the byte limit.
		lines = lines[1:]
	}
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return strings.Join(lines, "\n"), nil
}
