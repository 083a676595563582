package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/pkg/daemon"
)

// envBuildkitdConfig names a TOML file appended to the embedded daemon's
// buildkitd.toml (registry mirrors, http registries, ...).
const envBuildkitdConfig = "HARDENKIT_BUILDKITD_CONFIG"

// embeddedConfig is the daemon configuration "hardenkit build" uses when no
// address is given.
func embeddedConfig() (daemon.Config, error) {
	extra, err := extraConfigFromEnv()
	if err != nil {
		return daemon.Config{}, err
	}
	return daemon.Config{ExtraConfig: extra}, nil
}

func extraConfigFromEnv() (string, error) {
	p := os.Getenv(envBuildkitdConfig)
	if p == "" {
		return "", nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("reading $%s: %w", envBuildkitdConfig, err)
	}
	return string(b), nil
}

func newDaemonCommand() *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Manage the embedded buildkitd",
		Long: `Manage the private buildkitd that "hardenkit build" starts when neither
--addr nor $BUILDKIT_HOST is set. It keeps running between builds so that
its cache is reused; "hardenkit daemon stop" ends it.`,
	}
	cmd.PersistentFlags().StringVar(&stateDir, "state-dir", "", "daemon state directory (default "+defaultStateDirHelp()+")")
	cmd.AddCommand(newDaemonStartCommand(&stateDir), newDaemonStatusCommand(&stateDir), newDaemonStopCommand(&stateDir))
	return cmd
}

func defaultStateDirHelp() string {
	if d, err := daemon.DefaultStateDir(); err == nil {
		return d
	}
	return "$XDG_CACHE_HOME/hardenkit/buildkitd"
}

func newDaemonStartCommand(stateDir *string) *cobra.Command {
	var binary, configFile string
	var debug bool
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the embedded buildkitd (or reuse a running one) and print its address",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := daemon.Config{StateDir: *stateDir, Binary: binary, Debug: debug}
			var err error
			if configFile != "" {
				b, rerr := os.ReadFile(configFile)
				if rerr != nil {
					return fmt.Errorf("reading --config: %w", rerr)
				}
				cfg.ExtraConfig = string(b)
			} else if cfg.ExtraConfig, err = extraConfigFromEnv(); err != nil {
				return err
			}
			d, started, err := daemon.Ensure(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if started {
				fmt.Fprintf(cmd.ErrOrStderr(), "hardenkit: started buildkitd (pid %d) at %s\n", d.PID, d.Addr)
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "hardenkit: buildkitd already running (pid %d) at %s\n", d.PID, d.Addr)
			}
			// The address alone on stdout, for export BUILDKIT_HOST=$(...).
			fmt.Fprintln(cmd.OutOrStdout(), d.Addr)
			return nil
		},
	}
	cmd.Flags().StringVar(&binary, "buildkitd", "", "buildkitd binary (default: next to hardenkit, then $PATH)")
	cmd.Flags().StringVar(&configFile, "config", "", "TOML appended to the generated buildkitd.toml (default $"+envBuildkitdConfig+")")
	cmd.Flags().BoolVar(&debug, "debug", false, "run buildkitd with --debug")
	return cmd
}

func newDaemonStatusCommand(stateDir *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the embedded buildkitd runs, its pid, address, version and workers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := daemon.Status(cmd.Context(), *stateDir)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			fmt.Fprintf(w, "state dir:  %s\n", st.StateDir)
			fmt.Fprintf(w, "address:    %s\n", st.Addr)
			if !st.Running {
				fmt.Fprintf(w, "running:    no\n")
				if st.Error != "" {
					fmt.Fprintf(w, "note:       %s\n", st.Error)
				}
				return nil
			}
			fmt.Fprintf(w, "running:    yes\n")
			fmt.Fprintf(w, "pid:        %d\n", st.PID)
			if !st.Responding {
				fmt.Fprintf(w, "responding: no (%s)\n", st.Error)
				fmt.Fprintf(w, "log:        %s\n", st.LogFile)
				return nil
			}
			fmt.Fprintf(w, "responding: yes\n")
			fmt.Fprintf(w, "version:    %s\n", st.Version)
			for _, wk := range st.Workers {
				fmt.Fprintf(w, "worker:     %s (%s)\n", wk.ID, strings.Join(wk.Platforms, ", "))
			}
			fmt.Fprintf(w, "log:        %s\n", st.LogFile)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func newDaemonStopCommand(stateDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the embedded buildkitd (SIGTERM, then SIGKILL); succeeds if it is not running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := daemon.Stop(cmd.Context(), *stateDir); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "hardenkit: buildkitd stopped")
			return nil
		},
	}
}
