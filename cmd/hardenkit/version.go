package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/frontend"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the hardenkit version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "hardenkit %s\n", frontend.Version)
			fmt.Fprintf(w, "buildkit  %s\n", moduleVersion("github.com/moby/buildkit"))
			fmt.Fprintf(w, "go        %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// moduleVersion reports the version of a dependency compiled in, which is
// what decides the BuildKit API hardenkit speaks.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range bi.Deps {
		if dep.Path == path {
			if dep.Replace != nil {
				return dep.Replace.Version + " (replaces " + dep.Version + ")"
			}
			return dep.Version
		}
	}
	return "unknown"
}
