// Command hardenkit-frontend is the entry point of hardenkit's frontend
// image: BuildKit starts it for `# syntax=<registry>/hardenkit:<ver>`.
// The frontend also runs it inside the build (llb/step) as
// `hardenkit-frontend scan`, the in-build image scanner
// (frontend/inspect/scanstep), as `hardenkit-frontend sbom`, the in-build
// SBOM writer (frontend/evidence/sbomstep), and as
// `hardenkit-frontend harden`, hardening's analysis (llb/harden/hardenstep),
// and as `hardenkit-frontend smoke`, the smoke test that starts the image's
// program inside the image (llb/smoke). The steps are stepcmd's, which the
// hardenkit CLI dispatches too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
	_ "github.com/moby/buildkit/util/grpcutil/encoding/proto"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/stepcmd"
	"github.com/hardenkit/hardenkit/frontend"
)

func main() {
	os.Exit(run(appcontext.Context(), os.Args[1:], os.Stdout, os.Stderr, serve))
}

// serve runs the frontend for the BuildKit that started the binary.
func serve(ctx context.Context) error {
	return grpcclient.RunFromEnvironment(ctx, frontend.Build)
}

// run runs the binary with args (without the program name) and returns
// its exit code: a step when args name one, else the frontend (serve),
// which BuildKit starts without arguments.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, serve func(context.Context) error) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if code, ok := stepcmd.Run(ctx, "hardenkit-frontend", args, stderr); ok {
			return code
		}
		fmt.Fprintf(stderr, "hardenkit-frontend: unknown subcommand %q (the steps are %s)\n", args[0], strings.Join(stepcmd.Names(), ", "))
		return 2
	}
	fl := flag.NewFlagSet("hardenkit-frontend", flag.ContinueOnError)
	fl.SetOutput(stderr)
	version := fl.Bool("version", false, "print the version and exit")
	if err := fl.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, "hardenkit-frontend", frontend.Version)
		return 0
	}
	if err := serve(ctx); err != nil {
		fmt.Fprintf(stderr, "hardenkit-frontend: %v\n", err)
		return 1
	}
	return 0
}
