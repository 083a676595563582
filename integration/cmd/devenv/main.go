// Command devenv starts and stops hardenkit's development and test
// environment (a local registry, a private buildkitd and locally assembled
// base and frontend images) and builds the frontend image.
//
//	eval "$(go run ./integration/cmd/devenv up)"
//	go run ./integration/cmd/devenv env
//	go run ./integration/cmd/devenv down
//	go run ./integration/cmd/devenv frontend-image [--push REF] [--oci-layout DIR] [--oci-tar FILE] [--org-policy FILE]
//
// Progress goes to stderr; stdout carries only what scripts consume.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/integration/devenv"
)

const usage = `usage: devenv <command> [flags]

commands:
  up              start (or reuse) the registry, buildkitd and images; print export lines
  env             print the export lines of the running environment (builds nothing)
  down            stop buildkitd and the registry
  frontend-image  build the frontend image and push it or write it as OCI layout/tarball
  registry serve  serve the local registry in the foreground (run detached by up)

Run "devenv <command> -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "devenv: %v\n", err)
		os.Exit(1)
	}
}

// run executes the command line args.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "up":
		return cmdUp(ctx, args[1:], stdout, stderr)
	case "env":
		return cmdEnv(ctx, args[1:], stdout, stderr)
	case "down":
		return cmdDown(ctx, args[1:], stderr)
	case "frontend-image":
		return cmdFrontendImage(ctx, args[1:], stdout, stderr)
	case "registry":
		if len(args) < 2 || args[1] != "serve" {
			return fmt.Errorf("usage: devenv registry serve --addr HOST:PORT --dir DIR")
		}
		return cmdRegistryServe(ctx, args[2:], stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// newFlags returns a flag set that reports errors and help to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("devenv "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args and rejects positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func cmdUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("up", stderr)
	var opt devenv.Options
	fs.StringVar(&opt.StateDir, "state", devenv.DefaultStateDir, "state directory")
	fs.IntVar(&opt.RegistryPort, "port", devenv.DefaultRegistryPort, "port of the local registry on 127.0.0.1")
	fs.BoolVar(&opt.SkipDebian, "skip-debian", false, "do not build or push the debian:bookworm base image")
	fs.StringVar(&opt.CacheDir, "cache", "", "cache directory (default $"+devenv.CacheEnv+" or ~/.cache/hardenkit/devenv)")
	fs.StringVar(&opt.FrontendPackage, "frontend-pkg", devenv.DefaultFrontendPackage, "Go package built into the frontend image")
	if err := parse(fs, args); err != nil {
		return err
	}
	opt.Log = stderr
	env, err := devenv.Up(ctx, opt)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, env.Exports())
	return err
}

func cmdEnv(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("env", stderr)
	state := fs.String("state", devenv.DefaultStateDir, "state directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	env, err := devenv.Current(ctx, *state)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, env.Exports())
	return err
}

func cmdDown(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("down", stderr)
	state := fs.String("state", devenv.DefaultStateDir, "state directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := devenv.Down(ctx, *state); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "devenv: stopped buildkitd and the registry of %s\n", *state)
	return nil
}

func cmdFrontendImage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("frontend-image", stderr)
	push := fs.String("push", "", "push the image to this reference (default, when no output is given: 127.0.0.1:PORT/"+devenv.FrontendRepository+":"+devenv.FrontendTag+")")
	layoutDir := fs.String("oci-layout", "", "write the image into this OCI layout directory")
	ociTar := fs.String("oci-tar", "", "write the image as an OCI layout tarball to this file")
	port := fs.Int("port", devenv.DefaultRegistryPort, "port of the local registry for the default push")
	pkg := fs.String("pkg", devenv.DefaultFrontendPackage, "Go package to build into the image")
	orgPolicy := fs.String("org-policy", "", "bake this policy file into the image as the organisation policy ("+policy.OrgPolicyPath+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *push == "" && *layoutDir == "" && *ociTar == "" {
		*push = "127.0.0.1:" + strconv.Itoa(*port) + "/" + devenv.FrontendRepository + ":" + devenv.FrontendTag
	}
	refName := devenv.FrontendRepository + ":" + devenv.FrontendTag
	if *push != "" {
		refName = *push
	}

	img, err := devenv.BuildFrontendImage(ctx, "", *pkg, stderr)
	if err != nil {
		return err
	}
	if *orgPolicy != "" {
		data, err := os.ReadFile(*orgPolicy)
		if err != nil {
			return fmt.Errorf("--org-policy: %w", err)
		}
		if img, err = devenv.WithOrgPolicy(img, data); err != nil {
			return err
		}
	}
	dgst, err := img.Digest()
	if err != nil {
		return fmt.Errorf("computing frontend image digest: %w", err)
	}
	fmt.Fprintf(stderr, "devenv: frontend image %s\n", dgst)
	if *layoutDir != "" {
		if err := devenv.WriteOCILayout(*layoutDir, refName, img); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "devenv: wrote %s to OCI layout %s\n", refName, *layoutDir)
	}
	if *ociTar != "" {
		if err := devenv.WriteOCITar(*ociTar, refName, img); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "devenv: wrote %s to OCI tarball %s\n", refName, *ociTar)
	}
	if *push == "" {
		_, err := fmt.Fprintln(stdout, dgst)
		return err
	}
	pinned, err := devenv.PushImage(ctx, *push, img)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "devenv: pushed %s\n", *push)
	_, err = fmt.Fprintln(stdout, pinned.String())
	return err
}

func cmdRegistryServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("registry serve", stderr)
	addr := fs.String("addr", "127.0.0.1:"+strconv.Itoa(devenv.DefaultRegistryPort), "address to listen on")
	dir := fs.String("dir", "", "directory for the registry's blobs")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("registry serve: --dir is required")
	}
	return devenv.ServeRegistry(ctx, *addr, *dir, stderr)
}
