// Command hardenkit builds hardened container images from Dockerfiles. It
// runs the hardenkit BuildKit frontend in-process against a buildkitd: the
// one named by --addr or $BUILDKIT_HOST, or else a private one it starts and
// reuses (see "hardenkit daemon").
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/moby/buildkit/solver/errdefs"
	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/checkcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		printError(err)
		os.Exit(exitCode(err))
	}
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
