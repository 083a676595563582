// Command hardenkit builds hardened container images from Dockerfiles. It
// runs the hardenkit BuildKit frontend in-process against a buildkitd: the
// one named by --addr or $BUILDKIT_HOST, or else a private one it starts and
// reuses (see "hardenkit daemon"). Built static, it is also the binary that
// runs the in-build smoke test of its builds (stepcmd).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/moby/buildkit/solver/errdefs"
	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/checkcmd"
	"github.com/hardenkit/hardenkit/cmd/hardenkit/rebuildcmd"
	"github.com/hardenkit/hardenkit/cmd/hardenkit/reportcmd"
	"github.com/hardenkit/hardenkit/cmd/hardenkit/stepcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the CLI with args and returns its exit code. When args name an
// in-build step it runs that step instead: `hardenkit build` serves this
// executable to its in-process frontend, which runs it inside the image
// under test as the smoke test (serveStepBinary), as the frontend image
// runs hardenkit-frontend.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	if code, ok := stepcmd.Run(ctx, "hardenkit", args, stderr); ok {
		return code
	}
	root := newRootCommand()
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		printError(err)
		return exitCode(err)
	}
	return 0
}

// globalOptions are the flags every subcommand shares.
type globalOptions struct {
	addr string
}

func newRootCommand() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "hardenkit",
		Short: "Build hardened container images from Dockerfiles",
		Long: `hardenkit builds a Dockerfile into a hardened image with BuildKit.

It talks to the buildkitd named by --addr or $BUILDKIT_HOST. When both are
empty it starts a private buildkitd (state in the user cache directory) on
first use and reuses it afterwards; "hardenkit daemon" manages it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newKeygenCommand(), newSignCommand(), newVerifyCommand(), newPromoteCommand(), newExceptionsCommand())
	root.PersistentFlags().StringVar(&g.addr, "addr", os.Getenv("BUILDKIT_HOST"), "buildkitd address, e.g. unix:///run/buildkit/buildkitd.sock (default $BUILDKIT_HOST, else the embedded daemon)")
	check := checkcmd.NewCheckCommand()
	addFixFlag(check, g)
	root.AddCommand(reportcmd.NewCommand())
	root.AddCommand(rebuildcmd.NewCommand(func() string { return g.addr }))
	root.AddCommand(newBuildCommand(g), check, checkcmd.NewRulesCommand(), newDaemonCommand(), newInspectCommand(), newVersionCommand(), newPinCommand(g))
	return root
}

// exitCode is 1 for a failed build or enforced violations and whatever
// code a command chose for its error (hardenkit check: 2 for usage and
// configuration errors).
func exitCode(err error) int {
	var ee *checkcmd.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 1
}

// printError prints err and, for Dockerfile errors, the offending lines,
// the way buildx does, so users see where their Dockerfile went wrong.
func printError(err error) {
	fmt.Fprintf(os.Stderr, "hardenkit: %v\n", err)
	if errors.Is(err, context.Canceled) {
		return
	}
	for _, src := range errdefs.Sources(err) {
		_ = src.Print(os.Stderr)
	}
}
