package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// remoteTree is where BuildKit gets a tree from: an image, or a local
// directory sent over the session and copied into a scratch state, so
// that A and B both scan an ordinary snapshot.
type remoteTree struct {
	image string
	local string
}

// localName is the session's local source name of the tree.
const localName = "scanbench-tree"

func (r remoteTree) state() llb.State {
	if r.image != "" {
		return llb.Image(r.image, llb.WithCustomName("scanbench: image "+r.image))
	}
	src := llb.Local(localName, llb.SharedKeyHint(localName), llb.WithCustomName("scanbench: send "+r.local))
	return llb.Scratch().File(llb.Copy(src, "/", "/", &llb.CopyInfo{CopyDirContentsOnly: true}),
		llb.WithCustomName("scanbench: copy the tree into a snapshot"))
}

type buildkit struct {
	c *client.Client
}

func dialBuildkit(ctx context.Context, addr string) (buildkit, error) {
	c, err := client.New(ctx, addr)
	if err != nil {
		return buildkit{}, fmt.Errorf("connecting to buildkitd at %s: %w", addr, err)
	}
	return buildkit{c: c}, nil
}

func (bk buildkit) Close() error { return bk.c.Close() }

// measure runs A and B over t in one build: the tree and the scanner
// image are solved first, untimed, so that only the scans are measured.
func (bk buildkit) measure(ctx context.Context, c config, t tree) (a, b timing, remoteBytes int64, err error) {
	so := client.SolveOpt{}
	if t.remote.local != "" {
		fs, err := fsutil.NewFS(t.remote.local)
		if err != nil {
			return a, b, 0, err
		}
		so.LocalMounts = map[string]fsutil.FS{localName: fs}
	}
	var ch chan *client.SolveStatus
	var wg sync.WaitGroup
	if c.progress {
		display, err := progressui.NewDisplay(c.log, progressui.PlainMode)
		if err != nil {
			return a, b, 0, err
		}
		ch = make(chan *client.SolveStatus)
		wg.Add(1)
		go func() {
			defer wg.Done()
			display.UpdateFrom(context.WithoutCancel(ctx), ch)
		}()
	}
	defer wg.Wait()
	_, err = bk.c.Build(ctx, so, "", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
		fmt.Fprintf(c.log, "scanbench: %s: solving the tree in BuildKit\n", t.name)
		ref, err := solve(ctx, gw, t.remote.state())
		if err != nil {
			return nil, fmt.Errorf("solving the tree: %w", err)
		}

		fmt.Fprintf(c.log, "scanbench: %s: B gateway walk\n", t.name)
		b = repeat(c, func() (timing, error) {
			src := rootfs.ReferenceSource(ref)
			tr, err := rootfs.Load(ctx, src)
			if err != nil {
				return timing{}, err
			}
			remoteBytes, _ = regularBytes(tr)
			res, err := inspect.Run(ctx, inspect.Input{Tree: tr, Src: src, Image: benchImage(), Policy: benchPolicy, Scope: inspect.ScopeFilesystem})
			return countFindings(res), err
		})

		fmt.Fprintf(c.log, "scanbench: %s: A in-build scanner\n", t.name)
		scanner := llb.Image(c.frontend, llb.WithCustomName("scanbench: scanner image"))
		if _, err := solve(ctx, gw, scanner); err != nil {
			return nil, fmt.Errorf("pulling the scanner image %s: %w", c.frontend, err)
		}
		root, err := ref.ToState()
		if err != nil {
			return nil, err
		}
		a = repeat(c, func() (timing, error) {
			res, err := inBuildScan(ctx, gw, scanner, root)
			return countFindings(res), err
		})
		return gwclient.NewResult(), nil
	}, ch)
	return a, b, remoteBytes, err
}

// solve solves st and returns its evaluated reference.
func solve(ctx context.Context, gw gwclient.Client, st llb.State) (gwclient.Reference, error) {
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := gw.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}
