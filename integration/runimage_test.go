package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/platforms"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// A hardened image is only as good as the application it still runs: these
// helpers unpack an exported OCI image into a runc bundle and run it the way
// a container runtime would (entrypoint + cmd, Env, WorkingDir, User), so a
// test proves behaviour with the image's own files and nothing else. The
// container shares the host's network namespace, so a server it starts is
// probed on 127.0.0.1 (give each one its own port).

// imageBundle is an OCI image unpacked as a runc bundle: rootfs/ plus the
// image config that config.json is derived from.
type imageBundle struct {
	dir    string // bundle directory; rootfs is dir/rootfs
	config v1.Config
}

// rootfs is the unpacked root filesystem of the image.
func (b *imageBundle) rootfs() string { return filepath.Join(b.dir, "rootfs") }

// unpackImage unpacks the image for platform ("" = the only image, or the
// host's) out of an OCI layout tarball, flattening its layers with
// go-containerregistry (whiteouts applied) into a fresh bundle directory.
func unpackImage(t *testing.T, ociTar []byte, platform string) *imageBundle {
	t.Helper()
	layoutDir := t.TempDir()
	untar := exec.Command("tar", "-xf", "-", "-C", layoutDir)
	untar.Stdin = bytes.NewReader(ociTar)
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("unpacking the OCI layout: %v\n%s", err, out)
	}
	img, err := layoutImage(layoutDir, platform)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("reading the image config: %v", err)
	}

	// runc refuses bundle paths it cannot chdir into as the container user;
	// a short path under /tmp keeps the socket paths runc makes short too.
	dir, err := os.MkdirTemp("", "hk-bundle-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	flat := mutate.Extract(img)
	defer flat.Close()
	// tar as root keeps owners, modes, links and device nodes exactly as
	// the image has them.
	x := exec.Command("tar", "-xpf", "-", "-C", rootfs, "--numeric-owner")
	x.Stdin = flat
	if out, err := x.CombinedOutput(); err != nil {
		t.Fatalf("unpacking the image filesystem: %v\n%s", err, out)
	}
	return &imageBundle{dir: dir, config: cf.Config}
}

// layoutImage picks the image for platform from an OCI layout directory,
// skipping BuildKit's attestation manifests.
func layoutImage(dir, platform string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("opening OCI layout: %w", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout index: %w", err)
	}
	want := platforms.DefaultSpec()
	if platform != "" {
		if want, err = platforms.Parse(platform); err != nil {
			return nil, err
		}
	}
	match := platforms.Only(want)
	var candidates []v1.Image
	var walk func(idx v1.ImageIndex) error
	walk = func(idx v1.ImageIndex) error {
		im, err := idx.IndexManifest()
		if err != nil {
			return err
		}
		for _, d := range im.Manifests {
			if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
				continue
			}
			if d.MediaType.IsIndex() {
				child, err := idx.ImageIndex(d.Digest)
				if err != nil {
					return err
				}
				if err := walk(child); err != nil {
					return err
				}
				continue
			}
			if !d.MediaType.IsImage() {
				continue
			}
			if d.Platform != nil && !match.Match(platforms.Normalize(platforms.Platform{OS: d.Platform.OS, Architecture: d.Platform.Architecture, Variant: d.Platform.Variant})) {
				continue
			}
			img, err := idx.Image(d.Digest)
			if err != nil {
				return err
			}
			candidates = append(candidates, img)
		}
		return nil
	}
	if err := walk(idx); err != nil {
		return nil, fmt.Errorf("walking OCI layout index: %w", err)
	}
	if len(candidates) != 1 {
		return nil, fmt.Errorf("OCI layout has %d images for platform %s, want 1", len(candidates), platforms.Format(want))
	}
	return candidates[0], nil
}

// runSpec says how to start a container from a bundle.
type runSpec struct {
	args []string // replaces entrypoint+cmd when set
	cmd  []string // replaces cmd only (as `docker run IMAGE cmd…`)
	env  []string // added to (and overriding) the image's Env
	user string   // replaces the image's User when set
}

// process is the command line, environment, user and working directory a
// container runtime derives from the image config and spec.
func (b *imageBundle) process(spec runSpec) (args, envv []string, uid, gid uint32, cwd string, err error) {
	args = spec.args
	if args == nil {
		cmd := b.config.Cmd
		if spec.cmd != nil {
			cmd = spec.cmd
		}
		args = append(append([]string{}, b.config.Entrypoint...), cmd...)
	}
	if len(args) == 0 {
		return nil, nil, 0, 0, "", errors.New("image has no entrypoint or cmd and the test gave no args")
	}
	envv = mergeEnv(b.config.Env, spec.env)
	user := b.config.User
	if spec.user != "" {
		user = spec.user
	}
	uid, gid, err = resolveImageUser(b.rootfs(), user)
	cwd = b.config.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	return args, envv, uid, gid, cwd, err
}

// mergeEnv overlays extra KEY=VALUE entries on base, as `docker run -e`.
func mergeEnv(base, extra []string) []string {
	out := append([]string{}, base...)
	for _, e := range extra {
		k, _, _ := strings.Cut(e, "=")
		replaced := false
		for i, o := range out {
			if ok, _, _ := strings.Cut(o, "="); ok == k {
				out[i], replaced = e, true
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	if !hasEnv(out, "PATH") {
		out = append(out, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	return out
}

func hasEnv(envv []string, key string) bool {
	for _, e := range envv {
		if k, _, _ := strings.Cut(e, "="); k == key {
			return true
		}
	}
	return false
}

// resolveImageUser turns an image User ("", "name", "uid", "uid:gid",
// "name:group") into numeric ids through the image's own /etc/passwd and
// /etc/group, as runc's user lookup inside the container would.
func resolveImageUser(rootfs, user string) (uint32, uint32, error) {
	if user == "" {
		return 0, 0, nil
	}
	u, g, hasGroup := strings.Cut(user, ":")
	uid, gid := -1, -1
	if n, err := strconv.Atoi(u); err == nil {
		uid = n
	}
	passwd, _ := os.ReadFile(filepath.Join(rootfs, "etc", "passwd"))
	for _, line := range strings.Split(string(passwd), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 4 || (f[0] != u && f[2] != u) {
			continue
		}
		uid, _ = strconv.Atoi(f[2])
		if !hasGroup {
			gid, _ = strconv.Atoi(f[3])
		}
		break
	}
	if uid < 0 {
		return 0, 0, fmt.Errorf("image user %q is not numeric and not in the image's /etc/passwd", user)
	}
	if hasGroup {
		if n, err := strconv.Atoi(g); err == nil {
			gid = n
		} else {
			group, _ := os.ReadFile(filepath.Join(rootfs, "etc", "group"))
			for _, line := range strings.Split(string(group), "\n") {
				if f := strings.Split(line, ":"); len(f) >= 3 && f[0] == g {
					gid, _ = strconv.Atoi(f[2])
				}
			}
			if gid < 0 {
				return 0, 0, fmt.Errorf("image group %q is not numeric and not in the image's /etc/group", g)
			}
		}
	}
	if gid < 0 {
		gid = 0
	}
	return uint32(uid), uint32(gid), nil
}

// containerSeq makes container ids unique within the test binary.
var containerSeq atomic.Int64

// writeRuncConfig writes config.json for one container: runc's default spec
// (as `runc spec` makes it) with the image's process, no terminal, and the
// host network namespace.
func (b *imageBundle) writeRuncConfig(ctx context.Context, spec runSpec) error {
	args, envv, uid, gid, cwd, err := b.process(spec)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(b.dir, "config.json")
	os.Remove(cfgPath)
	if out, err := exec.CommandContext(ctx, "runc", "spec", "--bundle", b.dir).CombinedOutput(); err != nil {
		return fmt.Errorf("runc spec: %w\n%s", err, out)
	}
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("parsing runc's default spec: %w", err)
	}
	proc := cfg["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = args
	proc["env"] = envv
	proc["cwd"] = cwd
	proc["user"] = map[string]any{"uid": uid, "gid": gid}
	cfg["root"] = map[string]any{"path": "rootfs", "readonly": false}
	linux := cfg["linux"].(map[string]any)
	var nss []any
	for _, ns := range linux["namespaces"].([]any) {
		if ns.(map[string]any)["type"] != "network" {
			nss = append(nss, ns)
		}
	}
	linux["namespaces"] = nss
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(cfgPath, out, 0o644)
}

// runImage runs the container to completion and returns what it printed
// (stdout and stderr) and its error (an *exec.ExitError for a non-zero
// exit).
func (b *imageBundle) runImage(ctx context.Context, t *testing.T, spec runSpec) (string, error) {
	t.Helper()
	if err := b.writeRuncConfig(ctx, spec); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("hk-it-%d-%d", os.Getpid(), containerSeq.Add(1))
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "runc", "run", "--bundle", b.dir, id)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &out, nil
	err := cmd.Run()
	exec.Command("runc", "delete", "--force", id).Run()
	return out.String(), err
}

// runningContainer is a container started in the background.
type runningContainer struct {
	id   string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
}

// startImage starts the container in the background; it is killed and
// deleted when the test ends.
func (b *imageBundle) startImage(ctx context.Context, t *testing.T, spec runSpec) *runningContainer {
	t.Helper()
	if err := b.writeRuncConfig(ctx, spec); err != nil {
		t.Fatal(err)
	}
	c := &runningContainer{
		id:   fmt.Sprintf("hk-it-%d-%d", os.Getpid(), containerSeq.Add(1)),
		out:  &lockedBuffer{},
		done: make(chan error, 1),
	}
	c.cmd = exec.Command("runc", "run", "--bundle", b.dir, c.id)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("runc run: %v", err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		exec.Command("runc", "kill", c.id, "KILL").Run()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
		}
		exec.Command("runc", "delete", "--force", c.id).Run()
	})
	return c
}

// output is what the container printed so far.
func (c *runningContainer) output() string { return c.out.String() }

// httpGet waits until the container answers on 127.0.0.1:port and returns
// the status and body of GET path; it fails early if the container exits.
func (c *runningContainer) httpGet(ctx context.Context, port int, path string, wait time.Duration) (int, string, error) {
	deadline := time.Now().Add(wait)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	client := &http.Client{Timeout: 5 * time.Second}
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.done <- err
			return 0, "", fmt.Errorf("container exited before answering (%v):\n%s", err, c.output())
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return 0, "", err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(body), err
		}
		lastErr = err
		time.Sleep(200 * time.Millisecond)
	}
	return 0, "", fmt.Errorf("no answer on %s%s within %s (%v); container output:\n%s", addr, path, wait, lastErr, c.output())
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutines of exec.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
