package smoke

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hardenkit/hardenkit/pkg/users"
)

// Bounds of what an answer carries of the program's output: the tail of
// what it printed, which is where a failing program says why. It is the
// application's own output, shown in the build's error, so it is kept
// short.
const (
	maxOutputLines = 20
	maxLineBytes   = 240
	// tailBytes is how much of the output the runner keeps while the
	// program runs.
	tailBytes = 16 << 10
)

// Timing of the observation.
const (
	tick = 100 * time.Millisecond
	// stablePorts is how long the listening ports must stay the same
	// after the window before a run without a probe ends.
	stablePorts = 500 * time.Millisecond
	// probeEvery and probeTimeout pace the health check.
	probeEvery   = 500 * time.Millisecond
	probeTimeout = 5 * time.Second
	// stopGrace is how long the program has to stop after SIGTERM.
	stopGrace = time.Second
)

// Runner starts one program in an image's root filesystem and watches it.
type Runner struct {
	// Root is the image's root filesystem as the runner sees it: "/"
	// inside the build step. /etc/passwd, /etc/group and $PATH are read
	// below it.
	Root string
	// Proc is the proc filesystem whose net/tcp and net/tcp6 list the
	// listening sockets of the program's network namespace.
	Proc string
}

// proc is one program started with the image's identity.
type proc struct {
	req  Request
	env  []string
	cred *syscall.Credential
	home string
}

// Run starts req's program, watches it and stops it.
func (r Runner) Run(ctx context.Context, req Request) Answer {
	started := time.Now()
	p, err := r.prepare(req)
	if err != nil {
		return Answer{StartError: err.Error(), ExitCode: 127, Ports: []int{}, Millis: time.Since(started).Milliseconds()}
	}
	out := &tail{max: tailBytes}
	cmd, err := p.command(ctx, r.Root, req.Args, out)
	if err == nil {
		cmd.SysProcAttr.Setpgid = true
		err = cmd.Start()
		closeOutput(cmd)
	}
	if err != nil {
		return Answer{StartError: err.Error(), ExitCode: startExitCode(err), Ports: []int{}, Millis: time.Since(started).Milliseconds()}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	a := r.watch(ctx, p, done, started)
	a.Started = true
	if a.Running {
		stop(cmd.Process.Pid, done)
	}
	out.settle(stopGrace)
	a.Output = lastLines(out.bytes())
	a.Millis = time.Since(started).Milliseconds()
	return a
}

// watch observes the program until it exits, its probe passes, or the
// window (or the limit) ends.
func (r Runner) watch(ctx context.Context, p proc, done <-chan error, started time.Time) Answer {
	window, limit := millis(p.req.WindowMillis, DefaultWindowMillis), millis(p.req.LimitMillis, DefaultLimitMillis)
	a := Answer{Running: true, Ports: []int{}}
	if p.req.Probe != nil {
		a.Health = Unhealthy
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	changed, lastProbe := time.Duration(0), -probeEvery
	for {
		select {
		case err := <-done:
			a.Running = false
			a.ExitCode, a.Signal = exitStatus(err)
			return a
		case <-ctx.Done():
			return a
		case <-t.C:
		}
		now := time.Since(started)
		if ports := listening(r.Proc); !slices.Equal(ports, a.Ports) {
			a.Ports, changed = ports, now
		}
		if now >= limit {
			return a
		}
		if p.req.Probe != nil {
			if now-lastProbe >= probeEvery {
				lastProbe = now
				var ok bool
				if ok, a.ProbeOutput = p.probe(ctx, r.Root); ok {
					a.Health, a.ProbeOutput = Healthy, nil
					return a
				}
			}
			continue
		}
		if now >= window && now-changed >= stablePorts && hasAll(a.Ports, p.req.ExpectPorts) {
			return a
		}
	}
}

// probe runs the health check once.
func (p proc) probe(ctx context.Context, root string) (bool, []string) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	out := &tail{max: tailBytes}
	cmd, err := p.command(ctx, root, p.req.Probe, out)
	if err != nil {
		return false, []string{err.Error()}
	}
	err = cmd.Start()
	closeOutput(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	out.settle(stopGrace)
	if err != nil {
		return false, append(lastLines(out.bytes()), err.Error())
	}
	return true, nil
}

// prepare resolves the image's user and environment as a container runtime
// does: uid, gid and supplementary groups from /etc/passwd and /etc/group,
// HOME from the passwd entry and a default PATH when the image sets none.
func (r Runner) prepare(req Request) (proc, error) {
	if len(req.Args) == 0 {
		return proc{}, errors.New("the image has no ENTRYPOINT or CMD")
	}
	p := proc{req: req, env: slices.Clone(req.Env), home: "/"}
	if req.User != "" || os.Geteuid() == 0 {
		passwd, _ := os.ReadFile(path.Join(r.Root, "etc/passwd"))
		group, _ := os.ReadFile(path.Join(r.Root, "etc/group"))
		id, err := users.ResolveIdentity(req.User, passwd, group)
		if err != nil {
			return proc{}, fmt.Errorf("unable to find user %s: %w", req.User, err)
		}
		p.cred = &syscall.Credential{Uid: id.UID, Gid: id.GID, Groups: supplementary(id, group)}
		entries, _ := users.ParsePasswd(passwd)
		for _, u := range entries {
			if u.UID == id.UID && (id.User == "" || u.Name == id.User) {
				p.home = u.Home
				break
			}
		}
	}
	if !hasEnv(p.env, "PATH") {
		p.env = append(p.env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	if !hasEnv(p.env, "HOME") {
		p.env = append(p.env, "HOME="+p.home)
	}
	return p, nil
}

// supplementary are the groups that list id's user as a member.
func supplementary(id users.Identity, group []byte) []uint32 {
	gs := []uint32{}
	if id.User == "" {
		return gs
	}
	groups, _ := users.ParseGroup(group)
	for _, g := range groups {
		if slices.Contains(g.Members, id.User) && !slices.Contains(gs, g.GID) {
			gs = append(gs, g.GID)
		}
	}
	return gs
}

// command is argv as the image's program: found through the image's PATH,
// started in its working directory with its environment and identity, its
// output kept in out.
func (p proc) command(ctx context.Context, root string, argv []string, out *tail) (*exec.Cmd, error) {
	bin, err := lookPath(root, argv[0], envValue(p.env, "PATH"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = p.env
	cmd.Dir = path.Join("/", p.req.WorkDir)
	if root != "/" {
		cmd.Dir = path.Join(root, p.req.WorkDir)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if p.cred != nil {
		// A program that reopens its output (nginx's error.log linked to
		// /dev/stderr) must be able to: as runc does, the output pipe
		// belongs to the user the program runs as, not to root.
		w, err := userPipe(p.cred, out)
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = w, w
	}
	cmd.WaitDelay = stopGrace
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	return cmd, nil
}

// userPipe returns the write end of a pipe owned by cred's user whose
// read end is copied into out. The caller closes it once the program has
// started (closeOutput).
func userPipe(cred *syscall.Credential, out *tail) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	if err := w.Chown(int(cred.Uid), int(cred.Gid)); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	out.copies.Add(1)
	go func() {
		defer out.copies.Done()
		defer r.Close()
		_, _ = io.Copy(out, r)
	}()
	return w, nil
}

// closeOutput closes the parent's copy of a pipe userPipe made, so that
// its reader ends when the program does.
func closeOutput(cmd *exec.Cmd) {
	if f, ok := cmd.Stdout.(*os.File); ok && f != os.Stdout && f != os.Stderr {
		f.Close()
	}
}

// lookPath finds name as execve with the image's PATH would: a name with
// a slash is taken as it is, else the first executable regular file of
// that name in PATH's directories under root.
func lookPath(root, name, pathEnv string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, name)
		if fi, err := os.Stat(path.Join(root, p)); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			if root != "/" {
				return path.Join(root, p), nil
			}
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

// startExitCode is the status a container runtime gives a program that
// could not be executed: 126 when it is there but cannot run, 127 else.
func startExitCode(err error) int {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENOEXEC) || errors.Is(err, syscall.EISDIR) {
		return 126
	}
	return 127
}

// exitStatus is a finished program's exit code and the signal that ended
// it, as a shell reports them.
func exitStatus(err error) (int, string) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		if err != nil {
			return 127, ""
		}
		return 0, ""
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), ws.Signal().String()
	}
	return ee.ExitCode(), ""
}

// stop ends the program's process group: SIGTERM, then SIGKILL.
func stop(pid int, done <-chan error) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-done:
		return
	case <-time.After(stopGrace):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-done
}

func millis(v, def int64) time.Duration {
	if v <= 0 {
		v = def
	}
	return time.Duration(v) * time.Millisecond
}

func hasAll(have, want []int) bool {
	for _, p := range want {
		if !slices.Contains(have, p) {
			return false
		}
	}
	return true
}

func hasEnv(env []string, key string) bool {
	return slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
	// copies are the pipes (userPipe) still being copied in.
	copies sync.WaitGroup
}

// settle waits, at most d, for the pipes copied into t to end: a child
// the program left running may hold one open.
func (t *tail) settle(d time.Duration) {
	done := make(chan struct{})
	go func() { t.copies.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// Write implements io.Writer.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf)
}

// lastLines are the last non-empty lines of out, each cut to
// maxLineBytes, valid UTF-8.
func lastLines(out []byte) []string {
	var lines []string
	for _, l := range strings.Split(strings.ToValidUTF8(string(out), "?"), "\n") {
		l = strings.TrimRight(l, "\r ")
		if l == "" {
			continue
		}
		if len(l) > maxLineBytes {
			l = strings.ToValidUTF8(l[:maxLineBytes], "") + " …"
		}
		lines = append(lines, l)
	}
	if len(lines) > maxOutputLines {
		lines = lines[len(lines)-maxOutputLines:]
	}
	return lines
}
