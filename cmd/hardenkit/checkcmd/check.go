package checkcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/frontend/report"
)

// CheckOptions are the inputs of `hardenkit check`.
type CheckOptions struct {
	// Context is the build context directory (the CONTEXT argument).
	Context string
	// Dockerfile is the Dockerfile path (-f); empty means
	// CONTEXT/Dockerfile, "-" reads standard input.
	Dockerfile string
	// Policy is a policy file or a built-in baseline name (--policy);
	// empty means CONTEXT's hardenkit.yaml beside the Dockerfile, else
	// the strict baseline.
	Policy string
	// Exceptions is an exceptions file (--exceptions); empty means the
	// file the policy names, if any.
	Exceptions string
	// BuildArgs are KEY=VALUE build arguments (--build-arg); a bare KEY
	// takes its value from the environment, like docker build.
	BuildArgs []string
	// Target is the stage to check as the shipped one (--target).
	Target string
	// Format is text, json or sarif (--format).
	Format string
	// Output is the report file (-o); empty means standard output.
	Output string
	// Stdin is read for Dockerfile "-".
	Stdin io.Reader
	// Stdout receives the report unless Output is set; Stderr the
	// summary line.
	Stdout, Stderr io.Writer
	// Now is the time exceptions are validated at; zero means time.Now.
	Now time.Time
	// Version is hardenkit's version for the SARIF driver; optional.
	Version string
}

// NewCheckCommand returns `hardenkit check`.
func NewCheckCommand() *cobra.Command {
	o := &CheckOptions{}
	cmd := &cobra.Command{
		Use:   "check [flags] CONTEXT",
		Short: "Check a Dockerfile against the hardenkit policy, offline",
		Long: `check runs hardenkit's static Dockerfile rules without a daemon or network.

The policy is --policy (a file, or a built-in baseline: strict, cis-docker),
else hardenkit.yaml beside the Dockerfile, else the strict baseline.
Exceptions come from --exceptions or the file the policy names. The context's
.dockerignore (or <Dockerfile>.dockerignore) is read like BuildKit does.

Exit status: 0 no enforced violation (warnings are fine), 1 enforced
violations, 2 usage or configuration error.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("check takes exactly one CONTEXT directory, got %d arguments", len(args))
			}
			return nil
		},
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Context = args[0]
			o.Stdin, o.Stdout, o.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			return Check(cmd.Context(), *o)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	f := cmd.Flags()
	f.StringVarP(&o.Dockerfile, "file", "f", "", `Dockerfile path (default "CONTEXT/Dockerfile"; "-" reads standard input)`)
	f.StringVar(&o.Policy, "policy", "", "policy file, or built-in baseline name (strict, cis-docker)")
	f.StringVar(&o.Exceptions, "exceptions", "", "exceptions file (default: the one the policy names)")
	f.StringArrayVar(&o.BuildArgs, "build-arg", nil, "build argument KEY=VALUE (KEY alone takes the environment's value)")
	f.StringVar(&o.Target, "target", "", "stage to check as the shipped image (default: the last stage)")
	f.StringVar(&o.Format, "format", "text", "report format: text, json or sarif")
	f.StringVarP(&o.Output, "output", "o", "", "write the report to this file instead of standard output")
	return cmd
}

// Check runs the static rules on a Dockerfile and writes the report. The
// error is an *ExitError with ExitViolations when an enforced finding
// remains, or ExitUsage for bad input; nil means exit 0.
func Check(ctx context.Context, o CheckOptions) error {
	if o.Format == "" {
		o.Format = "text"
	}
	if o.Format != "text" && o.Format != "json" && o.Format != "sarif" {
		return usagef("--format %q: want text, json or sarif", o.Format)
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if st, err := os.Stat(o.Context); err != nil || !st.IsDir() {
		return usagef("build context %q is not a directory", o.Context)
	}
	df, err := readDockerfile(o)
	if err != nil {
		return failedReport(o, report.Report{ToolVersion: o.Version}, dockerfile{name: filepath.ToSlash(o.Dockerfile)}, err)
	}
	rep, err := run(ctx, o, df)
	if err != nil {
		return failedReport(o, rep, df, err)
	}
	if err := writeReport(o, rep); err != nil {
		return usageErr(err)
	}
	c := rep.Count()
	fmt.Fprintf(o.Stderr, "hardenkit check: %s: %d enforced, %d warning(s), %d waived (policy %s %s)\n",
		df.name, c.Enforce, c.Warn, c.Waived, rep.Policy.Name, rep.Policy.Digest)
	if c.Enforce > 0 {
		return &ExitError{Code: ExitViolations, Err: fmt.Errorf("%s: %d enforced policy violation(s)", df.name, c.Enforce)}
	}
	return nil
}

// run loads the policy, exceptions and ignore file and checks the
// Dockerfile. On an error the report holds the policy when it was loaded.
func run(ctx context.Context, o CheckOptions, df dockerfile) (report.Report, error) {
	rep := report.Report{ToolVersion: o.Version}
	buildArgs, err := parseBuildArgs(o.BuildArgs)
	if err != nil {
		return rep, err
	}
	pol, policyDir, err := discoverPolicy(ctx, o, df.dir)
	if err != nil {
		return rep, usageErr(err)
	}
	rep.Policy = report.PolicyRef{Name: pol.Name, Digest: pol.Digest()}
	excs, err := loadExceptions(ctx, o, pol, policyDir)
	if err != nil {
		return rep, usageErr(err)
	}
	patterns, hasIgnore, err := readDockerignore(o.Context, df.path)
	if err != nil {
		return rep, usageErr(err)
	}
	findings, err := dockerfilecheck.Check(df.data, dockerfilecheck.Options{
		Filename:             df.name,
		BuildArgs:            buildArgs,
		Target:               o.Target,
		DockerignorePatterns: patterns,
		HasDockerignore:      hasIgnore,
		Policy:               pol,
	})
	if err != nil {
		return rep, usageErr(withSource(err, df))
	}
	rep.Findings = excs.Apply(findings, exceptions.MatchContext{})
	return rep, nil
}

// failedReport writes, for the machine formats, a valid report that
// carries the error (SARIF: a failed invocation with a notification), so
// that a CI step uploading it shows the failure rather than an empty
// file; and returns the error for the exit status.
func failedReport(o CheckOptions, rep report.Report, df dockerfile, err error) error {
	if o.Format == "text" {
		return err
	}
	// The message may quote Dockerfile text: mask what the secret rules
	// would report, as the Dockerfile shown to BuildKit is masked.
	e := report.Error{Message: string(dockerfilecheck.Redact([]byte(err.Error()))), File: df.name}
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		e.Line = le.Locations[0][0].Start.Line
	}
	rep.Findings, rep.Errors = nil, []report.Error{e}
	if werr := writeReport(o, rep); werr != nil {
		return usageErr(fmt.Errorf("%w; and writing the report: %v", err, werr))
	}
	return err
}

// dockerfile is the Dockerfile being checked.
type dockerfile struct {
	path string // on disk; "" for standard input
	dir  string // where hardenkit.yaml is looked for
	name string // as reported in findings
	data []byte
}

// readDockerfile reads -f (or CONTEXT/Dockerfile, or standard input).
func readDockerfile(o CheckOptions) (dockerfile, error) {
	if o.Dockerfile == "-" {
		if o.Stdin == nil {
			return dockerfile{}, usagef("-f -: no standard input")
		}
		data, err := io.ReadAll(o.Stdin)
		if err != nil {
			return dockerfile{}, usagef("reading the Dockerfile from standard input: %w", err)
		}
		return dockerfile{dir: o.Context, name: dockerfilecheck.DefaultFilename, data: data}, nil
	}
	path := o.Dockerfile
	if path == "" {
		path = filepath.Join(o.Context, dockerfilecheck.DefaultFilename)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return dockerfile{}, usagef("reading the Dockerfile: %w", err)
	}
	return dockerfile{path: path, dir: filepath.Dir(path), name: filepath.ToSlash(filepath.Clean(path)), data: data}, nil
}

// parseBuildArgs turns KEY=VALUE flags into a map; a bare KEY is taken
// from the environment and skipped when unset, like docker build.
func parseBuildArgs(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		k, v, hasValue := strings.Cut(a, "=")
		if k == "" {
			return nil, usagef("--build-arg %q: want KEY=VALUE", a)
		}
		if !hasValue {
			ev, ok := os.LookupEnv(k)
			if !ok {
				continue
			}
			v = ev
		}
		out[k] = v
	}
	return out, nil
}

// discoverPolicy applies hardenkit's discovery order with the CLI's
// sources: --policy, hardenkit.yaml beside the Dockerfile, strict. It also
// returns the directory paths in the policy (exceptions file, approver
// keys) are relative to; "" for a built-in baseline.
func discoverPolicy(ctx context.Context, o CheckOptions, dockerfileDir string) (*policy.Policy, string, error) {
	dir := ""
	pol, err := policy.Discover(ctx, policy.Sources{
		Explicit: o.Policy,
		ReadExplicit: func(_ context.Context, path string) ([]byte, error) {
			dir = filepath.Dir(path)
			return os.ReadFile(path)
		},
		BesideDockerfile: func() ([]byte, bool, error) {
			dir = dockerfileDir
			return readOptional(filepath.Join(dockerfileDir, policy.FileName))
		},
		Ranking: policy.Ranking{Catalog: catalog.All(), BuiltinTools: policysource.BuiltinTools},
	}, catalog.Known)
	if err != nil {
		return nil, "", err
	}
	if strings.HasPrefix(pol.Source, policy.BuiltinPrefix) {
		dir = ""
	}
	return pol, dir, nil
}

// loadExceptions reads, validates and returns the exceptions: --exceptions,
// else the file the policy names (relative to the policy file). No file is
// an empty set.
func loadExceptions(ctx context.Context, o CheckOptions, pol *policy.Policy, policyDir string) (*exceptions.Set, error) {
	path := o.Exceptions
	if path == "" && pol.Controls.Exceptions.File != "" {
		path = filepath.Join(policyDir, pol.Controls.Exceptions.File)
	}
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading exceptions: %w", err)
	}
	set, err := exceptions.Parse(path, data, catalog.Known)
	if err != nil {
		return nil, err
	}
	vp, err := pol.Controls.Exceptions.ValidationPolicy(ctx, func(_ context.Context, keyPath string) ([]byte, error) {
		if !filepath.IsAbs(keyPath) {
			keyPath = filepath.Join(policyDir, keyPath)
		}
		dt, err := os.ReadFile(keyPath)
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w\n  to fix: add the approver's public key there (hardenkit keygen makes a pair; the policy names the .pub), correct the path in controls.exceptions.approverKeys, or give the key inline as PEM", err)
		}
		return dt, err
	})
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", pol.Source, err)
	}
	vp.NarrowPaths = policysource.NarrowPaths(catalog.All())
	if err := set.Validate(o.Now, vp); err != nil {
		return nil, err
	}
	return set, nil
}

// readDockerignore reads the ignore patterns the way BuildKit's dockerui
// does: <Dockerfile>.dockerignore beside the Dockerfile wins over
// CONTEXT/.dockerignore.
func readDockerignore(contextDir, dockerfilePath string) ([]string, bool, error) {
	candidates := []string{filepath.Join(contextDir, ".dockerignore")}
	if dockerfilePath != "" {
		candidates = append([]string{dockerfilePath + ".dockerignore"}, candidates...)
	}
	for _, name := range candidates {
		data, found, err := readOptional(name)
		if err != nil {
			return nil, false, err
		}
		if !found {
			continue
		}
		patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
		if err != nil {
			return nil, false, fmt.Errorf("parsing %s: %w", name, err)
		}
		return patterns, true, nil
	}
	return nil, false, nil
}

// readOptional reads a file that may not exist.
func readOptional(path string) ([]byte, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, true, nil
}

// withSource attaches the Dockerfile snippet to a parse error, so the CLI
// prints the offending lines like buildx does.
func withSource(err error, df dockerfile) error {
	var le *parser.LocationError
	if !errors.As(err, &le) {
		return err
	}
	for _, loc := range le.Locations {
		ranges := make([]*pb.Range, 0, len(loc))
		for _, r := range loc {
			ranges = append(ranges, &pb.Range{
				Start: &pb.Position{Line: int32(r.Start.Line), Character: int32(r.Start.Character)},
				End:   &pb.Position{Line: int32(r.End.Line), Character: int32(r.End.Character)},
			})
		}
		err = errdefs.WithSource(err, &errdefs.Source{
			Info:   &pb.SourceInfo{Filename: df.name, Data: df.data, Language: "Dockerfile"},
			Ranges: ranges,
		})
	}
	return err
}

// writeReport renders the report to -o or standard output.
func writeReport(o CheckOptions, rep report.Report) (err error) {
	w := o.Stdout
	if o.Output != "" {
		f, err := os.Create(o.Output)
		if err != nil {
			return fmt.Errorf("creating report file: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("writing report file: %w", cerr)
			}
		}()
		w = f
	}
	switch o.Format {
	case "json":
		return report.JSON(w, rep)
	case "sarif":
		return report.SARIF(w, rep, catalog.All())
	default:
		return report.Text(w, rep)
	}
}
