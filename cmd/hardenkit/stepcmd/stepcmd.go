// Package stepcmd runs hardenkit's in-build steps: the subcommands a
// build step execs inside the build. Both binaries dispatch through it:
// hardenkit-frontend, from the frontend image, and the hardenkit CLI,
// whose own static executable `hardenkit build` serves to the in-process
// frontend as the binary that runs the smoke test inside the image under
// test (frontend.StepBinary).
package stepcmd

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/hardenkit/hardenkit/frontend/evidence/sbomstep"
	"github.com/hardenkit/hardenkit/frontend/inspect/scanstep"
	"github.com/hardenkit/hardenkit/llb/harden/hardenstep"
	"github.com/hardenkit/hardenkit/llb/smoke"
)

// step is one in-build step the binaries run.
type step struct {
	name string
	main func(ctx context.Context, args []string, stderr io.Writer) error
}

// steps are the in-build steps, by name.
func steps() []step {
	return []step{
		{scanstep.Subcommand, scanstep.Command().Main},
		{sbomstep.Subcommand, sbomstep.Command().Main},
		{hardenstep.Subcommand, hardenstep.Command().Main},
		{smoke.Subcommand, smoke.Command().Main},
	}
}

// Names are the steps' subcommands, in the order usage lists them.
func Names() []string {
	var names []string
	for _, s := range steps() {
		names = append(names, s.name)
	}
	return names
}

// Run runs the step args[0] names with the rest of args and returns its
// exit code: 0, or 1 after printing "<prog> <step>: <error>" to stderr.
// ok is false, and nothing runs, when args name no step.
func Run(ctx context.Context, prog string, args []string, stderr io.Writer) (code int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	all := steps()
	i := slices.IndexFunc(all, func(s step) bool { return s.name == args[0] })
	if i < 0 {
		return 0, false
	}
	if err := all[i].main(ctx, args[1:], stderr); err != nil {
		fmt.Fprintf(stderr, "%s %s: %v\n", prog, args[0], err)
		return 1, true
	}
	return 0, true
}
