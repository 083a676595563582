package rebuildcmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	bkclient "github.com/moby/buildkit/client"
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
	att, err := buildflags.SessionAttachables(o.Secrets, o.SSH, io.Discard)
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
