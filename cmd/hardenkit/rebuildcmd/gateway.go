package rebuildcmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	dockerconfig "github.com/docker/cli/cli/config"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/buildflags"
	"github.com/hardenkit/hardenkit/pkg/release/rebuild"
)

// gatewayBuild rebuilds a record of a frontend image: BuildKit runs that
// image, by digest, as the gateway frontend — what `# syntax=IMAGE`
// forwards to — with the recorded request.
func gatewayBuild(ctx context.Context, plan rebuild.Plan, o Options, out string) error {
	addr := o.Addr
	if addr == "" {
		addr = os.Getenv("BUILDKIT_HOST")
	}
	if addr == "" {
		return usage(fmt.Errorf("the image was built by the frontend image %s: rebuilding it needs a buildkitd (--addr or $BUILDKIT_HOST)", plan.FrontendImage))
	}
	c, err := bkclient.New(ctx, addr)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", addr, err)
	}
	defer c.Close()
	opt, err := gatewaySolveOpt(plan, o, out)
	if err != nil {
		return err
	}
	ch := make(chan *bkclient.SolveStatus)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		_, err := c.Solve(gctx, nil, opt, ch)
		return err
	})
	g.Go(func() error {
		for range ch {
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return fmt.Errorf("rebuilding with %s: %w", plan.FrontendImage, err)
	}
	return nil
}

// gatewaySolveOpt is the solve request of the plan.
func gatewaySolveOpt(plan rebuild.Plan, o Options, out string) (bkclient.SolveOpt, error) {
	attrs := map[string]string{"source": plan.FrontendImage, "no-cache": "", "filename": filepath.Base(plan.Dockerfile)}
	if plan.Target != "" {
		attrs["target"] = plan.Target
	}
	if len(plan.Platforms) > 0 {
		attrs["platform"] = strings.Join(plan.Platforms, ",")
	}
	for k, v := range plan.BuildArgs {
		attrs["build-arg:"+k] = v
	}
	for k, v := range plan.Pins {
		attrs["context:"+k] = v
	}
	for k, v := range plan.NamedContexts {
		attrs["context:"+k] = v
	}
	mounts := map[string]fsutil.FS{}
	for _, v := range o.BuildContexts {
		name, value, _ := strings.Cut(v, "=")
		if st, err := os.Stat(value); err == nil && st.IsDir() {
			fs, err := fsutil.NewFS(value)
			if err != nil {
				return bkclient.SolveOpt{}, err
			}
			mounts[name], attrs["context:"+name] = fs, "local:"+name
			continue
		}
		attrs["context:"+name] = value
	}
	for _, v := range o.BuildArgs {
		k, val, _ := strings.Cut(v, "=")
		attrs["build-arg:"+k] = val
	}
	file := o.File
	if file == "" {
		file = filepath.Join(o.Context, filepath.FromSlash(plan.Dockerfile))
	}
	for name, dir := range map[string]string{"context": o.Context, "dockerfile": filepath.Dir(file)} {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return bkclient.SolveOpt{}, fmt.Errorf("%s: %w", dir, err)
		}
		mounts[name] = fs
	}
	att, err := attachables(o)
	if err != nil {
		return bkclient.SolveOpt{}, err
	}
	return bkclient.SolveOpt{
		Frontend: "gateway.v0", FrontendAttrs: attrs, LocalMounts: mounts, Session: att,
		Exports: []bkclient.ExportEntry{{Type: bkclient.ExporterOCI, Output: func(map[string]string) (io.WriteCloser, error) {
			return os.Create(out)
		}}},
	}, nil
}

// attachables serve the registry auth, the secrets and the SSH the
// verifier supplied.
func attachables(o Options) ([]session.Attachable, error) {
	att := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(dockerconfig.LoadDefaultConfigFile(io.Discard)),
	})}
	if len(o.Secrets) > 0 {
		sources, err := buildflags.ParseSecrets(o.Secrets)
		if err != nil {
			return nil, err
		}
		st, err := secretsprovider.NewStore(sources)
		if err != nil {
			return nil, fmt.Errorf("--secret: %w", err)
		}
		att = append(att, secretsprovider.NewSecretProvider(st))
	}
	if len(o.SSH) > 0 {
		cfgs, err := buildflags.ParseSSH(o.SSH)
		if err != nil {
			return nil, err
		}
		sp, err := sshprovider.NewSSHAgentProvider(cfgs)
		if err != nil {
			return nil, fmt.Errorf("--ssh: %w", err)
		}
		att = append(att, sp)
	}
	return att, nil
}
