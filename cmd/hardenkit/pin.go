package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/buildflags"
	"github.com/hardenkit/hardenkit/cmd/hardenkit/pin"
	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
)

// pinOptions are the flags of `hardenkit pin`: the build's input flags
// and --dry-run.
type pinOptions struct {
	buildOptions
	dryRun bool
}

func newPinCommand(g *globalOptions) *cobra.Command {
	o := &pinOptions{}
	cmd := &cobra.Command{
		Use:   "pin [flags] CONTEXT",
		Short: "Pin base images, packages and downloads of a Dockerfile in place",
		Long: `pin rewrites the Dockerfile so that the pinning rules pass:

  HK1001  FROM name:tag          -> FROM name:tag@sha256:<digest the registry serves now>
  HK1030  apt-get install curl   -> apt-get install curl=<version a build installed>
          apk add curl           -> apk add curl=<version a build installed>
          pip install flask      -> pip install flask==<version>  (npm name@version, gem name:version)
  HK1010  ADD https://…/x.tgz    -> ADD --checksum=sha256:<digest of the download> https://…/x.tgz

Digests are resolved by buildkitd (its registry mirrors and credentials
apply). Package versions are read from the package database of each stage,
built as BuildKit's own Dockerfile frontend builds it, on the pinned bases.
Only the pinned words change: comments, continuations and heredocs stay as
written. When anything cannot be pinned, pin says why, exits non-zero and
leaves the Dockerfile untouched. Pinning a pinned Dockerfile changes
nothing. --dry-run (or "hardenkit check --fix") prints the change as a
unified diff instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPin(cmd.Context(), g, o, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addInputFlags(cmd.Flags(), &o.buildOptions)
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print the change as a unified diff; do not write the Dockerfile")
	return cmd
}

// addFixFlag gives `hardenkit check` its --fix: the dry run of pin, with
// check's -f, --build-arg and --target.
func addFixFlag(check *cobra.Command, g *globalOptions) {
	fix := check.Flags().Bool("fix", false, "resolve the pins the pinning rules ask for (needs buildkitd, see hardenkit pin) and print them as a unified diff; the Dockerfile is not changed")
	run := check.RunE
	check.RunE = func(cmd *cobra.Command, args []string) error {
		if !*fix {
			return run(cmd, args)
		}
		f := cmd.Flags()
		o := &pinOptions{buildOptions: buildOptions{progress: "quiet"}, dryRun: true}
		var err error
		if o.file, err = f.GetString("file"); err == nil {
			if o.buildArgs, err = f.GetStringArray("build-arg"); err == nil {
				o.target, err = f.GetString("target")
			}
		}
		if err != nil {
			return err
		}
		return runPin(cmd.Context(), g, o, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
}

func runPin(ctx context.Context, g *globalOptions, o *pinOptions, contextPath string, stdout, stderr io.Writer) error {
	// Checked before reading anything, so a typo fails fast.
	if _, err := progressMode(o.progress); err != nil {
		return err
	}
	path := o.file
	switch path {
	case "-":
		return errors.New("pin rewrites the Dockerfile in place: give it as a file, not on standard input")
	case "":
		path = filepath.Join(contextPath, dockerfilecheck.DefaultFilename)
	}
	dt, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the Dockerfile: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	args, err := buildflags.ParseBuildArgs(o.buildArgs, os.LookupEnv)
	if err != nil {
		return err
	}
	contexts, err := buildflags.ParseBuildContexts(o.buildContexts)
	if err != nil {
		return err
	}
	name := filepath.ToSlash(filepath.Clean(path))
	opt := pin.Options{Filename: name, BuildArgs: args, Target: o.target, NamedContexts: slices.Collect(maps.Keys(contexts))}

	// Nothing to pin needs no daemon.
	sites, err := dockerfilecheck.Unpinned(dt, dockerfilecheck.Options{Filename: name, BuildArgs: args, Target: o.target})
	if err != nil {
		return err
	}
	if len(sites.Bases)+len(sites.Packages)+len(sites.Downloads) == 0 {
		fmt.Fprintf(stderr, "hardenkit pin: %s: nothing to pin\n", name)
		return nil
	}

	res, err := pinWithDaemon(ctx, g, o, contextPath, dt, opt)
	if err != nil {
		return err
	}
	for _, c := range res.Changes {
		fmt.Fprintf(stderr, "%s:%d: %s %s -> %s\n", name, c.Line, c.Rule, c.Subject, c.Pin)
	}
	if o.dryRun {
		_, err := io.WriteString(stdout, pin.Diff(name, dt, res.Data))
		return err
	}
	if err := os.WriteFile(path, res.Data, st.Mode().Perm()); err != nil {
		return fmt.Errorf("writing the pinned Dockerfile: %w", err)
	}
	fmt.Fprintf(stderr, "hardenkit pin: %s: %d pin(s) written\n", name, len(res.Changes))
	return nil
}

// pinWithDaemon runs the pin inside an in-process gateway build, so the
// resolver sees the session (context, secrets, credentials) a `hardenkit
// build` with the same flags would.
func pinWithDaemon(ctx context.Context, g *globalOptions, o *pinOptions, contextPath string, dt []byte, opt pin.Options) (*pin.Result, error) {
	mode, err := progressMode(o.progress)
	if err != nil {
		return nil, err
	}
	plan, err := buildflags.Options{
		ContextPath:    contextPath,
		DockerfilePath: o.file,
		BuildArgs:      o.buildArgs,
		BuildContexts:  o.buildContexts,
		Platforms:      o.platforms,
		Target:         o.target,
	}.Resolve(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	mounts, stores, err := localInputs(plan)
	if err != nil {
		return nil, err
	}
	attachables, err := sessionAttachables(&o.buildOptions)
	if err != nil {
		return nil, err
	}
	var res *pin.Result
	_, _, err = gatewayBuild{
		opt:     client.SolveOpt{LocalMounts: mounts, OCIStores: stores, FrontendAttrs: plan.Attrs, Session: attachables},
		product: "hardenkit-pin",
		build: func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
			r, err := pin.NewGatewayResolver(gw)
			if err != nil {
				return nil, err
			}
			if res, err = pin.Dockerfile(ctx, dt, opt, r); err != nil {
				return nil, err
			}
			return gateway.NewResult(), nil
		},
		mode: mode,
	}.run(ctx, g)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errors.New("internal error: the pin build returned no result")
	}
	return res, nil
}
