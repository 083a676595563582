// Package devenv starts, reuses and stops the development and test
// environment of hardenkit: a local OCI registry on 127.0.0.1, a private
// buildkitd that treats that registry as its docker.io mirror, and the images
// the integration tests build on (busybox, Debian bookworm minbase and the
// hardenkit frontend), all assembled locally without pulling from any
// remote registry.
//
// Everything lives in a state directory (DefaultStateDir unless told
// otherwise); inputs that are slow to make, such as the Debian rootfs, are
// cached in CacheDir and reused between runs. The command
// github.com/hardenkit/hardenkit/integration/cmd/devenv wraps this package
// for shells and Makefiles.
package devenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hardenkit/hardenkit/pkg/daemon"
)

const (
	// DefaultStateDir holds the registry, the buildkitd and the record of
	// the running environment unless Options.StateDir says otherwise.
	DefaultStateDir = "/var/tmp/hardenkit-devenv"

	// DefaultRegistryPort is the port of the local registry on 127.0.0.1.
	DefaultRegistryPort = 5055

	// BusyboxTag is the version tag the busybox base image is also pushed
	// under: the upstream version of bookworm's busybox-static.
	BusyboxTag = "1.35"

	// CacheEnv names the environment variable that overrides the cache
	// directory.
	CacheEnv = "HARDENKIT_DEVENV_CACHE"

	// modulePath is the module whose checkout Up builds binaries from.
	modulePath = "github.com/hardenkit/hardenkit"

	// buildkitVersion is stamped into the buildkitd binary devenv builds;
	// it matches the buildkit requirement of go.mod.
	buildkitVersion = "v0.34.2"
)

// Options configures Up. The zero value is usable.
type Options struct {
	// StateDir holds the registry data, the buildkitd state, pid and log
	// files and env.json. "" means DefaultStateDir.
	StateDir string
	// RegistryPort is the port of the registry on 127.0.0.1. 0 means
	// DefaultRegistryPort.
	RegistryPort int
	// SkipDebian leaves out the debian:bookworm base image (and with it the
	// minutes mmdebstrap takes on a cold cache).
	SkipDebian bool
	// Log receives progress messages. nil discards them.
	Log io.Writer

	// CacheDir holds the Debian rootfs tarball and the assembled base
	// images. "" means $HARDENKIT_DEVENV_CACHE, else
	// os.UserCacheDir()/hardenkit/devenv.
	CacheDir string
	// ModuleDir is the root of the hardenkit checkout binaries are built
	// from. "" means the module containing the working directory.
	ModuleDir string
	// FrontendPackage is the Go package built into the frontend image,
	// relative to ModuleDir. "" means DefaultFrontendPackage.
	FrontendPackage string
}

// Env describes a running environment.
type Env struct {
	// BuildkitAddr is the buildkitd address (BUILDKIT_HOST).
	BuildkitAddr string `json:"buildkitAddr"`
	// Registry is host:port of the local registry.
	Registry string `json:"registry"`
	// Frontend is the digest-pinned reference of the frontend image, the
	// value to put after "# syntax=".
	Frontend string `json:"frontend"`
	// BaseBusybox is the digest-pinned reference of the busybox image,
	// also served as docker.io/library/busybox:latest through the mirror.
	BaseBusybox string `json:"baseBusybox"`
	// BaseDebian is the digest-pinned reference of the debian image, also
	// served as docker.io/library/debian:bookworm; "" with SkipDebian.
	BaseDebian string `json:"baseDebian,omitempty"`
	// StateDir is the state directory of the environment.
	StateDir string `json:"stateDir"`
	// StartedBuildkitd reports whether Up started buildkitd (rather than
	// reusing a running one).
	StartedBuildkitd bool `json:"startedBuildkitd"`
	// StartedRegistry reports whether Up started the registry.
	StartedRegistry bool `json:"startedRegistry"`
}

// settings are Options with every default filled in.
type settings struct {
	stateDir, cacheDir, moduleDir, frontendPkg string
	port                                       int
	skipDebian                                 bool
	log                                        io.Writer
}

// registry is host:port of the local registry.
func (s settings) registry() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// DefaultCacheDir returns the cache directory used when Options.CacheDir
// is empty: $HARDENKIT_DEVENV_CACHE, else os.UserCacheDir()/hardenkit/devenv.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return filepath.Abs(d)
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locating the user cache dir (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(d, "hardenkit", "devenv"), nil
}

// resolveStateDir turns "" into DefaultStateDir and makes dir absolute.
func resolveStateDir(dir string) (string, error) {
	if dir == "" {
		dir = DefaultStateDir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving state dir %s: %w", dir, err)
	}
	return abs, nil
}

// resolve fills in the defaults of opt.
func resolve(ctx context.Context, opt Options) (settings, error) {
	s := settings{port: opt.RegistryPort, skipDebian: opt.SkipDebian, log: opt.Log, frontendPkg: opt.FrontendPackage}
	var err error
	if s.stateDir, err = resolveStateDir(opt.StateDir); err != nil {
		return s, err
	}
	if opt.CacheDir != "" {
		if s.cacheDir, err = filepath.Abs(opt.CacheDir); err != nil {
			return s, fmt.Errorf("resolving cache dir: %w", err)
		}
	} else if s.cacheDir, err = DefaultCacheDir(); err != nil {
		return s, err
	}
	if opt.ModuleDir != "" {
		s.moduleDir, err = checkModuleDir(opt.ModuleDir)
	} else {
		s.moduleDir, err = findModuleDir(ctx)
	}
	if err != nil {
		return s, err
	}
	if s.port == 0 {
		s.port = DefaultRegistryPort
	}
	if s.port < 1 || s.port > 65535 {
		return s, fmt.Errorf("registry port %d out of range", s.port)
	}
	if s.frontendPkg == "" {
		s.frontendPkg = DefaultFrontendPackage
	}
	if s.log == nil {
		s.log = io.Discard
	}
	return s, nil
}

// findModuleDir returns the root of the hardenkit module containing the
// working directory, as the go command sees it.
func findModuleDir(ctx context.Context) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locating the hardenkit module (go env GOMOD): %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the hardenkit checkout: run devenv from it (or set Options.ModuleDir)")
	}
	return checkModuleDir(filepath.Dir(gomod))
}

// checkModuleDir verifies that dir is the root of the hardenkit module and
// returns it as an absolute path.
func checkModuleDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving module dir %s: %w", dir, err)
	}
	b, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("reading go.mod of %s: %w", abs, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "module" {
			if strings.Trim(f[1], `"`) != modulePath {
				return "", fmt.Errorf("%s is module %s, not %s", abs, f[1], modulePath)
			}
			return abs, nil
		}
	}
	return "", fmt.Errorf("%s/go.mod has no module line", abs)
}

// preflight checks everything Up needs before it starts anything, and
// names the package to install for each missing piece.
func preflight(s settings) error {
	var problems []string
	if os.Geteuid() != 0 {
		problems = append(problems, "devenv must run as root (buildkitd's runc worker needs it): re-run with sudo")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		problems = append(problems, "runc is not on $PATH: apt-get install -y runc")
	}
	if _, err := exec.LookPath("go"); err != nil {
		problems = append(problems, "the go command is not on $PATH (needed to build buildkitd and the frontend)")
	}
	if err := checkStaticBinary(busyboxBinary); err != nil {
		problems = append(problems, err.Error())
	}
	if !s.skipDebian {
		if _, err := os.Stat(debianTarPath(s.cacheDir)); err != nil {
			if _, err := exec.LookPath("mmdebstrap"); err != nil {
				problems = append(problems, "mmdebstrap is not installed and the Debian rootfs is not cached: apt-get install -y mmdebstrap (or skip the debian image: --skip-debian, Options.SkipDebian)")
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("devenv cannot start:\n  - %s", strings.Join(problems, "\n  - "))
}

// paths of the state dir.
func envFile(stateDir string) string      { return filepath.Join(stateDir, "env.json") }
func lockPath(stateDir string) string     { return filepath.Join(stateDir, "devenv.lock") }
func buildkitdDir(stateDir string) string { return filepath.Join(stateDir, "buildkitd") }
func binDir(stateDir string) string       { return filepath.Join(stateDir, "bin") }

// BuildkitdConfig returns the buildkitd TOML that makes the registry at
// registry the mirror of docker.io and lets buildkitd talk plain HTTP to it,
// so that "FROM busybox" resolves to registry/library/busybox:latest.
func BuildkitdConfig(registry string) string {
	return fmt.Sprintf("[registry.\"docker.io\"]\n  mirrors = [%q]\n[registry.%q]\n  http = true\n  insecure = true\n", registry, registry)
}

// CacheLimit bounds the build cache of the daemons the tests start (the
// dev environment's and the fresh ones): BuildKit's default is read from
// the file system's size, more than a CI machine with a quota has, and a
// full disk fails every later test with errors that name no cause.
const CacheLimit = "30GB"

// Up starts, or reuses, the environment described by opt: it makes sure the
// registry and buildkitd run, assembles the base and frontend images (from
// the cache when their inputs did not change) and pushes any that the
// registry lacks. It records the result in the state dir for Current.
func Up(ctx context.Context, opt Options) (*Env, error) {
	s, err := resolve(ctx, opt)
	if err != nil {
		return nil, err
	}
	if err := preflight(s); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating state dir: %w", err)
	}
	unlock, err := daemon.LockFile(ctx, lockPath(s.stateDir), lockHolder)
	if err != nil {
		return nil, err
	}
	defer unlock()

	env := &Env{StateDir: s.stateDir, Registry: s.registry()}

	env.StartedRegistry, err = ensureRegistry(ctx, s.stateDir, s.registry(), s.devenvBinary, s.log)
	if err != nil {
		return nil, err
	}

	bkd, err := s.buildkitdBinary(ctx)
	if err != nil {
		return nil, err
	}
	if err := daemon.Preflight(bkd); err != nil {
		return nil, fmt.Errorf("buildkitd preflight: %w", err)
	}
	d, started, err := daemon.Ensure(ctx, daemon.Config{
		StateDir:    buildkitdDir(s.stateDir),
		Binary:      bkd,
		ExtraConfig: BuildkitdConfig(s.registry()),
		// The application suite alone leaves tens of GB of cache.
		MaxUsedSpace: CacheLimit,
	})
	if err != nil {
		return nil, fmt.Errorf("starting buildkitd: %w", err)
	}
	env.BuildkitAddr, env.StartedBuildkitd = d.Addr, started
	if started {
		fmt.Fprintf(s.log, "devenv: started buildkitd (pid %d) on %s\n", d.PID, d.Addr)
	} else {
		fmt.Fprintf(s.log, "devenv: reusing buildkitd (pid %d) on %s\n", d.PID, d.Addr)
	}

	busybox, err := localBusyboxImage(ctx, s.cacheDir)
	if err != nil {
		return nil, fmt.Errorf("busybox image: %w", err)
	}
	if env.BaseBusybox, err = s.push(ctx, "library/busybox:latest", busybox); err != nil {
		return nil, err
	}
	// The version tag of Debian's busybox-static, so Dockerfiles can name
	// an explicit version as hardenkit's rules ask.
	if _, err = s.push(ctx, "library/busybox:"+BusyboxTag, busybox); err != nil {
		return nil, err
	}
	if !s.skipDebian {
		debian, err := localDebianImage(ctx, s.cacheDir, s.log)
		if err != nil {
			return nil, fmt.Errorf("debian image: %w", err)
		}
		if env.BaseDebian, err = s.push(ctx, "library/debian:"+debianSuite, debian); err != nil {
			return nil, err
		}
	}
	frontend, err := BuildFrontendImage(ctx, s.moduleDir, s.frontendPkg, s.log)
	if err != nil {
		return nil, err
	}
	if env.Frontend, err = s.push(ctx, FrontendRepository+":"+FrontendTag, frontend); err != nil {
		return nil, err
	}

	if err := writeEnv(s.stateDir, env); err != nil {
		return nil, err
	}
	return env, nil
}

// push pushes img as repoTag to the local registry, logs the result and
// returns the digest-pinned reference.
func (s settings) push(ctx context.Context, repoTag string, img v1.Image) (string, error) {
	ref := s.registry() + "/" + repoTag
	d, err := PushImage(ctx, ref, img)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(s.log, "devenv: %s -> %s\n", ref, d.DigestStr())
	return d.String(), nil
}

// goBuild runs go build in the module dir, logging what it builds.
func (s settings) goBuild(ctx context.Context, what string, env []string, args ...string) error {
	fmt.Fprintf(s.log, "devenv: building %s\n", what)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", append([]string{"build"}, args...)...)
	cmd.Dir = s.moduleDir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %s (go build %s in %s): %w\n%s", what, strings.Join(args, " "), s.moduleDir, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// buildkitdBinary returns the buildkitd binary of the state dir, building
// it from the module's buildkit version when it is missing.
func (s settings) buildkitdBinary(ctx context.Context) (string, error) {
	bin := filepath.Join(binDir(s.stateDir), "buildkitd")
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		return bin, nil
	}
	tmp := bin + ".tmp"
	if err := s.goBuild(ctx, "buildkitd "+buildkitVersion+" (first run only, takes a few minutes)", nil,
		"-o", tmp, "-ldflags", "-X github.com/moby/buildkit/version.Version="+buildkitVersion,
		"github.com/moby/buildkit/cmd/buildkitd"); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("installing buildkitd: %w", err)
	}
	return bin, nil
}

// devenvBinary builds the devenv command into the state dir, so that the
// detached registry process runs from a stable binary whatever called Up
// (a test binary or "go run" cannot serve the registry themselves).
func (s settings) devenvBinary(ctx context.Context) (string, error) {
	bin := filepath.Join(binDir(s.stateDir), "devenv")
	tmp := bin + ".tmp"
	if err := s.goBuild(ctx, "devenv command for the registry process", []string{"CGO_ENABLED=0"},
		"-o", tmp, "./integration/cmd/devenv"); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("installing devenv binary: %w", err)
	}
	return bin, nil
}

// writeEnv records env in the state dir.
func writeEnv(stateDir string, env *Env) error {
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding env: %w", err)
	}
	tmp := envFile(stateDir) + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing env: %w", err)
	}
	if err := os.Rename(tmp, envFile(stateDir)); err != nil {
		return fmt.Errorf("writing env: %w", err)
	}
	return nil
}

// ErrNotRunning is returned by Current when the environment of the state
// dir is not (fully) up.
var ErrNotRunning = errors.New("devenv is not running (run: devenv up)")

// Current returns the environment that the last Up recorded in stateDir
// ("" means DefaultStateDir) after checking that it still runs: the
// registry answers and still holds the images, and buildkitd responds. It
// builds and starts nothing.
func Current(ctx context.Context, stateDir string) (*Env, error) {
	dir, err := resolveStateDir(stateDir)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(envFile(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotRunning
	}
	if err != nil {
		return nil, fmt.Errorf("reading env: %w", err)
	}
	var env Env
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", envFile(dir), err)
	}
	if pid, err := runningRegistry(ctx, newRegistryFiles(dir), env.Registry); err != nil {
		return nil, err
	} else if pid == 0 {
		return nil, fmt.Errorf("%w: registry %s is down", ErrNotRunning, env.Registry)
	}
	for _, ref := range []string{env.Frontend, env.BaseBusybox, env.BaseDebian} {
		if ref == "" {
			continue
		}
		r, err := name.ParseReference(ref)
		if err != nil {
			return nil, fmt.Errorf("env records bad reference %q: %w", ref, err)
		}
		ok, err := imageInRegistry(ctx, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s is missing from the registry", ErrNotRunning, ref)
		}
	}
	st, err := daemon.Status(ctx, buildkitdDir(dir))
	if err != nil {
		return nil, fmt.Errorf("buildkitd status: %w", err)
	}
	if !st.Running || !st.Responding {
		return nil, fmt.Errorf("%w: buildkitd is not responding %s", ErrNotRunning, st.Error)
	}
	env.BuildkitAddr = st.Addr
	env.StartedBuildkitd, env.StartedRegistry = false, false
	return &env, nil
}

// Down stops the buildkitd and the registry of stateDir ("" means
// DefaultStateDir). Stopping an environment that is not running succeeds.
// Caches, the registry's blobs and the buildkitd state are kept.
func Down(ctx context.Context, stateDir string) error {
	dir, err := resolveStateDir(stateDir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := daemon.LockFile(ctx, lockPath(dir), lockHolder)
	if err != nil {
		return err
	}
	defer unlock()
	var errs []error
	if err := daemon.Stop(ctx, buildkitdDir(dir)); err != nil {
		errs = append(errs, fmt.Errorf("stopping buildkitd: %w", err))
	}
	if err := stopRegistry(ctx, dir); err != nil {
		errs = append(errs, err)
	}
	if err := os.Remove(envFile(dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("removing env record: %w", err))
	}
	return errors.Join(errs...)
}

// exportVars returns the variables of env in the order Exports prints them.
func (e *Env) exportVars() [][2]string {
	vars := [][2]string{
		{"BUILDKIT_HOST", e.BuildkitAddr},
		{"HARDENKIT_REGISTRY", e.Registry},
		{"HARDENKIT_FRONTEND", e.Frontend},
		{"HARDENKIT_BASE_BUSYBOX", e.BaseBusybox},
	}
	if e.BaseDebian != "" {
		vars = append(vars, [2]string{"HARDENKIT_BASE_DEBIAN", e.BaseDebian})
	}
	return vars
}

// Exports returns POSIX shell export lines for the environment, one per
// variable, for eval "$(devenv up)". Values that need it are single quoted.
func (e *Env) Exports() string {
	var b strings.Builder
	for _, kv := range e.exportVars() {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return b.String()
}

// Vars returns the environment as a map of the variable names Exports
// prints to their values, e.g. for exec.Cmd.Env.
func (e *Env) Vars() map[string]string {
	m := map[string]string{}
	for _, kv := range e.exportVars() {
		m[kv[0]] = kv[1]
	}
	return m
}

// Environ returns the variables of Exports as sorted NAME=value pairs.
func (e *Env) Environ() []string {
	var out []string
	for k, v := range e.Vars() {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// shellQuote quotes s for a POSIX shell unless it only holds characters
// that need no quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lockHolder names who else holds the state directory's lock.
const lockHolder = "another devenv is running up or down"
