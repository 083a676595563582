package integration

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/crypto/ssh"

	"github.com/hardenkit/hardenkit/frontend"
	"github.com/hardenkit/hardenkit/integration/devenv"
)

// env is the dev environment every integration test builds against. It is
// set once by TestMain and only read afterwards.
var env *devenv.Env

// binaries are the CLIs under test, built once by TestMain.
var binaries struct {
	dir       string // holds hardenkit, buildctl, buildkitd
	hardenkit string
	buildctl  string
	buildx    string // docker-buildx plugin
}

// variant is one way of running a Dockerfile build.
type variant string

const (
	// stock is BuildKit's built-in dockerfile.v0.
	stock variant = "dockerfile.v0"
	// inProcess is hardenkit's frontend.Build run by the client, as
	// `hardenkit build` does.
	inProcess variant = "hardenkit-in-process"
	// gateway is dockerfile.v0 forwarding to hardenkit's frontend image, as
	// a `# syntax=` line does.
	gateway variant = "hardenkit-gateway"
)

// buildRequest is one Dockerfile build.
type buildRequest struct {
	contextDir string
	dockerfile string            // path of the Dockerfile
	attrs      map[string]string // frontend attrs (build-arg:, target, platform, …)
	contexts   map[string]string // named contexts: name → directory or source
	secrets    map[string][]byte
	ssh        bool
	call       string // subrequest: outline, targets, check
	noExport   bool
}

// buildResult is what a client receives from a build.
type buildResult struct {
	oci      []byte            // OCI layout tarball
	metadata map[string][]byte // frontend result metadata (subrequests)
	progress string            // plain progress output, warnings included
}

func newClient(ctx context.Context, t *testing.T) *client.Client {
	t.Helper()
	c, err := client.New(ctx, env.BuildkitAddr)
	if err != nil {
		t.Fatalf("connecting to buildkitd at %s: %v", env.BuildkitAddr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// build runs req through v and returns what the client got back.
func build(ctx context.Context, t *testing.T, v variant, req buildRequest) (*buildResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	c := newClient(ctx, t)

	attrs := map[string]string{"filename": filepath.Base(req.dockerfile)}
	for k, val := range req.attrs {
		attrs[k] = val
	}
	locals := map[string]fsutil.FS{}
	mount := func(name, dir string) {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			t.Fatalf("local mount %s=%s: %v", name, dir, err)
		}
		locals[name] = fs
	}
	mount("context", req.contextDir)
	mount("dockerfile", filepath.Dir(req.dockerfile))
	for name, val := range req.contexts {
		if st, err := os.Stat(val); err == nil && st.IsDir() {
			mount(name, val)
			attrs["context:"+name] = "local:" + name
		} else {
			attrs["context:"+name] = val
		}
	}
	if req.call != "" {
		// buildx names the lint subrequest "check" on its command line.
		name := req.call
		if name == "check" {
			name = "lint"
		}
		attrs["requestid"] = "frontend." + name
		attrs["frontend.caps"] = "moby.buildkit.frontend.subrequests"
	}
	// The hardenkit variants build with hardening off, to compare with
	// dockerfile.v0, unless the request sets a mode.
	if _, ok := attrs["build-arg:HARDENKIT_MODE"]; !ok && (v == inProcess || v == gateway) {
		attrs["build-arg:HARDENKIT_MODE"] = "off"
	}
	if v == gateway {
		attrs["build-arg:BUILDKIT_SYNTAX"] = env.Frontend
	}

	var attachables []session.Attachable
	if len(req.secrets) > 0 {
		attachables = append(attachables, secretsprovider.FromMap(req.secrets))
	}
	if req.ssh {
		ap, err := sshprovider.NewSSHAgentProvider([]sshprovider.AgentConfig{{ID: "default", Paths: []string{sshKey(t)}}})
		if err != nil {
			t.Fatalf("ssh agent: %v", err)
		}
		attachables = append(attachables, ap)
	}

	res := &buildResult{}
	var oci bytes.Buffer
	so := client.SolveOpt{FrontendAttrs: attrs, LocalMounts: locals, Session: attachables}
	if req.call == "" && !req.noExport {
		so.Exports = []client.ExportEntry{{
			Type:   client.ExporterOCI,
			Output: func(map[string]string) (io.WriteCloser, error) { return nopWriteCloser{&oci}, nil },
		}}
	}

	var progress bytes.Buffer
	ch := make(chan *client.SolveStatus)
	display, err := progressui.NewDisplay(&progress, progressui.PlainMode)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		display.UpdateFrom(context.WithoutCancel(ctx), ch)
	}()

	capture := func(r *gwclient.Result, err error) (*gwclient.Result, error) {
		if r != nil {
			res.metadata = r.Metadata
		}
		return r, err
	}
	switch {
	case v == inProcess:
		_, err = c.Build(ctx, so, "", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
			return capture(frontend.Build(ctx, gw))
		}, ch)
	case req.call != "":
		// Subrequest results come back as frontend metadata, which only a
		// build function sees.
		_, err = c.Build(ctx, so, "", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
			return capture(gw.Solve(ctx, gwclient.SolveRequest{Frontend: "dockerfile.v0", FrontendOpt: gw.BuildOpts().Opts}))
		}, ch)
	default:
		so.Frontend = "dockerfile.v0"
		_, err = c.Solve(ctx, nil, so, ch)
	}
	wg.Wait()
	res.progress = progress.String()
	res.oci = oci.Bytes()
	if err != nil {
		return res, fmt.Errorf("%s build: %w", v, err)
	}
	return res, nil
}

var sshKeyOnce struct {
	sync.Once
	path string
	err  error
}

// sshKey writes one throwaway ed25519 key for the ssh agent the tests
// forward.
func sshKey(t *testing.T) string {
	t.Helper()
	sshKeyOnce.Do(func() {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			sshKeyOnce.err = err
			return
		}
		block, err := ssh.MarshalPrivateKey(priv, "hardenkit test")
		if err != nil {
			sshKeyOnce.err = err
			return
		}
		p := filepath.Join(binaries.dir, "id_ed25519")
		sshKeyOnce.path, sshKeyOnce.err = p, os.WriteFile(p, pem.EncodeToMemory(block), 0o600)
	})
	if sshKeyOnce.err != nil {
		t.Fatalf("ssh key: %v", sshKeyOnce.err)
	}
	return sshKeyOnce.path
}

// run executes a command and returns its combined output.
func run(ctx context.Context, t *testing.T, envv []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), envv...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}
