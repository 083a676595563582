// Package rebuildcmd implements `hardenkit rebuild`: rebuild an image from
// its own evidence (the compliance statement's rebuild record) and say
// whether the same bytes came out, or exactly why not. The work is in
// pkg/release/rebuild; this package parses flags, runs hardenkit's own
// build with the plan, and prints.
package rebuildcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/checkcmd"
	"github.com/hardenkit/hardenkit/pkg/release/rebuild"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// Exit codes of `hardenkit rebuild`.
const (
	// ExitReproduced: every platform's manifest digest matched.
	ExitReproduced = 0
	// ExitDiffers: at least one platform differs (the report says how).
	ExitDiffers = 1
	// ExitUsage: bad flags, an image without a rebuild record, an input
	// the verifier must supply and did not.
	ExitUsage = 2
	// ExitContextDiffers: the checkout is not the recorded context.
	ExitContextDiffers = 3
)

// Options are the flags of `hardenkit rebuild`.
type Options struct {
	// Context is the checkout to rebuild from.
	Context string
	// File is the Dockerfile path; default CONTEXT/<recorded name>.
	File string
	// Addr is the buildkitd address ("" for $BUILDKIT_HOST or the
	// embedded daemon).
	Addr string
	// Secrets, SSH, BuildArgs and BuildContexts supply (or override)
	// what the record cannot hold.
	Secrets, SSH, BuildArgs, BuildContexts []string
	// Format is text or json.
	Format string
	// Keep, when set, is where the rebuilt OCI tarball is kept.
	Keep string
	// Insecure allows a plain-HTTP registry.
	Insecure bool
	// Progress is passed to the build.
	Progress string
}

// NewCommand returns the `rebuild` command; addr reads the global --addr.
func NewCommand(addr func() string) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "rebuild [flags] IMAGE --context DIR",
		Short: "Rebuild an image from its compliance statement and compare the bytes",
		Long: `rebuild reads the rebuild record in IMAGE's compliance statements (a registry
reference, oci-layout://DIR or oci-archive://FILE), checks DIR against the
recorded build context digest (a mismatch names the files that differ), rebuilds
with exactly the recorded inputs — same hardenkit, base images and named contexts
pinned by digest, build args, SOURCE_DATE_EPOCH, target, platforms, --no-cache —
and compares each platform's image manifest digest. On a mismatch it reports
index, manifests, config and history, layers and files, naming the Dockerfile
instruction that wrote each differing file.

Exit status: 0 reproduced, 1 differs, 2 usage or missing input, 3 the context differs.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Addr = addr()
			return Run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], *o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Context, "context", "", "the source checkout to rebuild from (required)")
	f.StringVarP(&o.File, "file", "f", "", "Dockerfile path (default CONTEXT/<the recorded Dockerfile name>)")
	f.StringArrayVar(&o.Secrets, "secret", nil, "secret the build mounted, id=ID[,src=PATH|env=VAR] (asked for by id)")
	f.StringArrayVar(&o.SSH, "ssh", nil, "SSH the build mounted, default|ID[=PATH]")
	f.StringArrayVar(&o.BuildArgs, "build-arg", nil, "supply a redacted build arg, or override a recorded one (the report then names it)")
	f.StringArrayVar(&o.BuildContexts, "build-context", nil, "supply a named context the build read from disk, or override a pin, NAME=VALUE")
	f.StringVar(&o.Format, "format", "text", "report format: text or json")
	f.StringVar(&o.Keep, "keep", "", "keep the rebuilt image as this OCI tarball")
	f.BoolVar(&o.Insecure, "insecure", false, "allow a plain-HTTP registry")
	f.StringVar(&o.Progress, "progress", "quiet", "build progress: auto, plain, tty, quiet")
	_ = cmd.MarkFlagRequired("context")
	return cmd
}

// Run rebuilds image and writes the report to w; build progress goes to
// stderr. The returned error carries the exit code.
func Run(ctx context.Context, w, stderr io.Writer, image string, o Options) error {
	if o.Format != "text" && o.Format != "json" {
		return usage(fmt.Errorf("--format %q: want text or json", o.Format))
	}
	st, err := store.Open(image, store.RemoteOptions{Insecure: o.Insecure})
	if err != nil {
		return usage(fmt.Errorf("opening %s: %w", image, err))
	}
	orig, err := rebuild.Read(ctx, st)
	if err != nil {
		return err
	}
	records, err := orig.Records()
	if err != nil {
		return usage(err)
	}
	plan, err := rebuild.PlanOf(records)
	if err != nil {
		return usage(err)
	}
	if missing := plan.Missing(names(o.BuildContexts), ids(o.Secrets), sshIDs(o.SSH), names(o.BuildArgs)); len(missing) > 0 {
		return usage(fmt.Errorf("the build used inputs the statement cannot hold; supply them:\n  %s", joinLines(missing)))
	}
	rep := rebuild.Report{Image: image, Plan: plan}
	if rep.Context, err = rebuild.CheckContext(ctx, o.Context, plan.Dockerfile, records[0].Rebuild.Context); err != nil {
		return usage(err)
	}
	if rep.Context.Matches() {
		if err := rebuildAndCompare(ctx, stderr, &rep, orig, st, o); err != nil {
			return err
		}
	}
	rep.Finish()
	if err := write(w, rep, o.Format); err != nil {
		return err
	}
	return verdictError(rep)
}

// rebuildAndCompare runs the build and fills rep's platforms and
// differences.
func rebuildAndCompare(ctx context.Context, stderr io.Writer, rep *rebuild.Report, orig *rebuild.Image, st store.Store, o Options) error {
	dir, err := os.MkdirTemp("", "hardenkit-rebuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "rebuilt.tar")
	if o.Keep != "" {
		out = o.Keep
	}
	if err := runBuild(ctx, stderr, rep.Plan, o, out); err != nil {
		return err
	}
	rst, err := store.OpenArchive(out)
	if err != nil {
		return fmt.Errorf("reading the rebuilt image: %w", err)
	}
	rebuilt, err := rebuild.Read(ctx, rst)
	if err != nil {
		return fmt.Errorf("reading the rebuilt image: %w", err)
	}
	dockerfile := o.File
	if dockerfile == "" {
		dockerfile = filepath.Join(o.Context, filepath.FromSlash(rep.Plan.Dockerfile))
	}
	var explain rebuild.Explain
	if dt, err := os.ReadFile(dockerfile); err == nil {
		explain = rebuild.Explainer(dt, rep.Plan.Dockerfile, rep.Plan)
	}
	platforms, diffs, err := rebuild.Compare(ctx, orig, st, rebuilt, rst, explain)
	if err != nil {
		return err
	}
	rep.Platforms = platforms
	rep.Differences = append(rebuild.InputDiffs(orig, rebuilt), diffs...)
	return nil
}

func write(w io.Writer, rep rebuild.Report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(w)
}

// verdictError is the exit code of a verdict.
func verdictError(rep rebuild.Report) error {
	switch rep.Verdict {
	case rebuild.VerdictReproduced:
		return nil
	case rebuild.VerdictContextDiffers:
		return &checkcmd.ExitError{Code: ExitContextDiffers, Err: errors.New("the build context differs from the recorded one")}
	default:
		return &checkcmd.ExitError{Code: ExitDiffers, Err: errors.New("the rebuild is not byte-identical: " + rep.Cause)}
	}
}

func usage(err error) error { return &checkcmd.ExitError{Code: ExitUsage, Err: err} }
