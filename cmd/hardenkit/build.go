package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/buildflags"
	"github.com/hardenkit/hardenkit/frontend"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/pkg/daemon"
	"github.com/hardenkit/hardenkit/pkg/release/annotations"
)

// progressModes are the accepted --progress values.
var progressModes = []string{"auto", "plain", "tty", "quiet", "rawjson"}

type buildOptions struct {
	file          string
	target        string
	progress      string
	metadataFile  string
	noCache       bool
	buildArgs     []string
	buildContexts []string
	secrets       []string
	ssh           []string
	outputs       []string
	tags          []string
	opts          []string
	labels        []string
	attests       []string
	platforms     []string
	policy        string
	exceptions    string
	provenance    string
	signKey       string
}

func newBuildCommand(g *globalOptions) *cobra.Command {
	o := &buildOptions{}
	cmd := &cobra.Command{
		Use:   "build [flags] CONTEXT",
		Short: "Build a Dockerfile into a hardened image",
		Long: `Build the Dockerfile in CONTEXT (or --file) with the hardenkit frontend.

CONTEXT is a local directory or a git/http URL. Flags follow docker buildx:
  hardenkit build -o type=oci,dest=app.tar .
  hardenkit build -t registry.example/app:1 -o type=registry .
  hardenkit build --secret id=npm,src=$HOME/.npmrc --build-arg VERSION=1.2 .`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd.Context(), g, o, args[0])
		},
	}
	addBuildFlags(cmd.Flags(), o)
	return cmd
}

// addBuildFlags declares the build flags on f, storing into o.
func addBuildFlags(f *pflag.FlagSet, o *buildOptions) {
	// String arrays, not slices: values are CSV and must not be split on
	// commas by the flag parser.
	addInputFlags(f, o)
	f.StringVar(&o.policy, "policy", "", "policy: a built-in baseline (strict, cis-docker) or a policy file (default: hardenkit.yaml beside the Dockerfile, else strict)")
	f.StringVar(&o.provenance, "provenance", "mode=max", buildflags.ProvenanceFlagHelp())
	f.StringVar(&o.exceptions, "exceptions", "", "exceptions file (passed as the hardenkit-exceptions build context)")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "output, type=oci|docker|tar,dest=FILE | type=local,dest=DIR | type=image,name=REF[,push=true] | type=registry,name=REF")
	f.StringArrayVarP(&o.tags, "tag", "t", nil, "image name for image/registry/oci/docker outputs")
	f.BoolVar(&o.noCache, "no-cache", false, "do not use the build cache")
	f.StringArrayVar(&o.opts, "opt", nil, "raw frontend attribute KEY=VALUE (overrides the flags above)")
	f.StringArrayVar(&o.labels, "label", nil, "image label KEY=VALUE")
	f.StringArrayVar(&o.attests, "attest", nil, "attestation, e.g. type=sbom or type=provenance,mode=max")
	f.StringVar(&o.signKey, "sign-key", "", "cosign private key: sign the pushed image or OCI output, its platforms and attestations (password from $COSIGN_PASSWORD or a prompt)")
	f.StringVar(&o.metadataFile, "metadata-file", "", "write the build result metadata (e.g. containerimage.digest) to this JSON file")
}

// addInputFlags declares the flags that decide what a build reads,
// resolves and installs; `hardenkit pin` takes them too.
func addInputFlags(f *pflag.FlagSet, o *buildOptions) {
	f.StringVarP(&o.file, "file", "f", "", `Dockerfile path (default "CONTEXT/Dockerfile"; "-" reads stdin)`)
	f.StringArrayVar(&o.buildArgs, "build-arg", nil, "build-time variable, KEY=VALUE or KEY to take the value from the environment")
	f.StringArrayVar(&o.buildContexts, "build-context", nil, "additional named context, NAME=DIR|URL|docker-image://REF|target:STAGE|oci-layout://DIR[:TAG]")
	f.StringVar(&o.target, "target", "", "Dockerfile stage to build")
	f.StringArrayVar(&o.platforms, "platform", nil, "target platform(s), comma separated, e.g. linux/amd64,linux/arm64")
	f.StringArrayVar(&o.secrets, "secret", nil, "secret for RUN --mount=type=secret, id=ID[,src=PATH|env=VAR]")
	f.StringArrayVar(&o.ssh, "ssh", nil, "SSH agent socket or keys for RUN --mount=type=ssh, default|ID[=PATH[,PATH]]")
	f.StringVar(&o.progress, "progress", "auto", "progress output: "+strings.Join(progressModes, ", "))
}

func runBuild(ctx context.Context, g *globalOptions, o *buildOptions, contextPath string) error {
	// Exporter annotations go into the index and manifests without
	// reaching the frontend, whose secret checks never see them.
	if err := annotations.CheckOutputFlags(o.outputs); err != nil {
		return err
	}
	mode, err := progressMode(o.progress)
	if err != nil {
		return err
	}
	plan, cleanup, err := resolvePlan(ctx, o, contextPath)
	if err != nil {
		return err
	}
	defer cleanup()
	outs, err := buildflags.ParseOutputs(o.outputs)
	if err != nil {
		return err
	}
	if err := buildflags.ApplyTags(outs, o.tags); err != nil {
		return err
	}
	exports, err := buildflags.ExportEntries(outs, os.Stdout, term.IsTerminal(int(os.Stdout.Fd())))
	if err != nil {
		return err
	}
	var signResult func(context.Context, map[string]string) error
	if o.signKey != "" {
		// Checked before the build, so a bad key or password costs no build.
		if signResult, err = buildSigner(o.signKey, outs); err != nil {
			return err
		}
	}
	attachables, err := sessionAttachables(o)
	if err != nil {
		return err
	}
	mounts, stores, err := localInputs(plan)
	if err != nil {
		return err
	}
	fe, removeEvidence, err := evidenceMount(mounts)
	if err != nil {
		return err
	}
	defer removeEvidence()
	if fe.StepBinary, err = serveOwnBinary(mounts); err != nil {
		return err
	}
	if len(outs) == 0 {
		fmt.Fprintln(os.Stderr, "hardenkit: no --output given: the result stays in the build cache (use -o type=oci,dest=FILE, -o type=local,dest=DIR or -o type=registry,name=REF)")
	}
	resp, warnings, err := gatewayBuild{
		opt:     client.SolveOpt{Exports: exports, LocalMounts: mounts, OCIStores: stores, FrontendAttrs: plan.Attrs, Session: attachables},
		product: "hardenkit",
		build:   fe.Build,
		mode:    mode,
	}.run(ctx, g)
	if err != nil {
		return err
	}
	printWarnings(os.Stderr, warnings, mode)
	if o.metadataFile != "" {
		if err := buildflags.WriteMetadataFile(o.metadataFile, resp.ExporterResponse); err != nil {
			return err
		}
	}
	if signResult != nil {
		return signResult(ctx, resp.ExporterResponse)
	}
	return nil
}

// resolvePlan turns the build flags into the solve's frontend attributes
// and local inputs: the Dockerfile (from stdin if "-"), the policy and
// exceptions contexts, and the default SOURCE_DATE_EPOCH and provenance.
// The returned function removes the temporary directories it made.
func resolvePlan(ctx context.Context, o *buildOptions, contextPath string) (plan *buildflags.Plan, cleanup func(), err error) {
	var cleanups []func()
	// removeAll, not the named result: an error return sets cleanup to nil
	// before this deferred call reads it.
	removeAll := func() {
		for _, c := range cleanups {
			c()
		}
	}
	defer func() {
		if err != nil {
			removeAll()
		}
	}()
	dockerfile := o.file
	if dockerfile == "-" {
		dir, err := dockerfileFromStdin(os.Stdin)
		if err != nil {
			return nil, nil, err
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		dockerfile = filepath.Join(dir, "Dockerfile")
	}
	removeContexts, err := policyContexts(o)
	if err != nil {
		return nil, nil, err
	}
	cleanups = append(cleanups, removeContexts)
	plan, err = buildflags.Options{
		ContextPath:    contextPath,
		DockerfilePath: dockerfile,
		BuildArgs:      o.buildArgs,
		BuildContexts:  o.buildContexts,
		Labels:         o.labels,
		Platforms:      o.platforms,
		Attests:        o.attests,
		Opts:           o.opts,
		Target:         o.target,
		NoCache:        o.noCache,
	}.Resolve(os.LookupEnv)
	if err != nil {
		return nil, nil, err
	}
	// Rebuilding the same commit must give the same image, with no flag.
	if _, err := plan.DefaultSourceDateEpoch(ctx, contextPath, os.Getenv); err != nil {
		return nil, nil, err
	}
	// Provenance is on by default: evidence users should not have to ask for.
	if err := plan.DefaultProvenance(ctx, o.provenance, contextPath); err != nil {
		return nil, nil, err
	}
	return plan, removeAll, nil
}

// evidenceMount adds the session directory through which evidence too
// large for an LLB definition (the SBOM of a large image) reaches the
// build, and returns the frontend configured to use it and the function
// that removes it.
func evidenceMount(mounts map[string]fsutil.FS) (frontend.Config, func(), error) {
	if _, taken := mounts[options.LocalEvidence]; taken {
		return frontend.Config{}, nil, fmt.Errorf("the local name %s is reserved for hardenkit's evidence", options.LocalEvidence)
	}
	evidenceDir, err := os.MkdirTemp("", "hardenkit-evidence-")
	if err != nil {
		return frontend.Config{}, nil, fmt.Errorf("evidence directory: %w", err)
	}
	remove := func() { os.RemoveAll(evidenceDir) }
	evidenceFS, err := fsutil.NewFS(evidenceDir)
	if err != nil {
		remove()
		return frontend.Config{}, nil, fmt.Errorf("evidence directory %s: %w", evidenceDir, err)
	}
	mounts[options.LocalEvidence] = evidenceFS
	return frontend.Config{EvidenceDir: evidenceDir, EvidenceLocal: options.LocalEvidence}, remove, nil
}

// gatewayBuild is one build run in this process's gateway client (the
// frontend, or pin's resolver) with BuildKit's progress display.
type gatewayBuild struct {
	opt     client.SolveOpt
	product string
	build   gateway.BuildFunc
	mode    progressui.DisplayMode
}

// run connects to buildkitd (--addr, else the embedded daemon), runs the
// build and shows its progress on stderr. It returns the solve response
// (never nil without an error) and the build's warnings.
func (b gatewayBuild) run(ctx context.Context, g *globalOptions) (*client.SolveResponse, []client.VertexWarning, error) {
	addr, err := resolveAddr(ctx, g.addr)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(ctx, addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to buildkitd at %s: %w", addr, err)
	}
	defer c.Close()
	display, err := progressui.NewDisplay(os.Stderr, b.mode)
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan *client.SolveStatus)
	eg, ectx := errgroup.WithContext(ctx)
	var resp *client.SolveResponse
	var warnings []client.VertexWarning
	eg.Go(func() error {
		var err error
		resp, err = c.Build(ectx, b.opt, b.product, b.build, ch)
		return err
	})
	eg.Go(func() error {
		// Not cancelled with the build, so the display drains the channel
		// (which Build always closes) and shows why the build failed.
		var err error
		warnings, err = display.UpdateFrom(context.WithoutCancel(ectx), ch)
		return err
	})
	if err := eg.Wait(); err != nil {
		return nil, nil, err
	}
	if resp == nil {
		resp = &client.SolveResponse{}
	}
	return resp, warnings, nil
}

// localInputs opens the plan's local directories and OCI layouts, which the
// daemon reads through the session.
func localInputs(plan *buildflags.Plan) (map[string]fsutil.FS, map[string]content.Store, error) {
	mounts := make(map[string]fsutil.FS, len(plan.LocalDirs))
	for name, dir := range plan.LocalDirs {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("local directory %s: %w", dir, err)
		}
		mounts[name] = fs
	}
	stores := make(map[string]content.Store, len(plan.OCIStores))
	for id, dir := range plan.OCIStores {
		s, err := local.NewStore(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("OCI layout %s: %w", dir, err)
		}
		stores[id] = s
	}
	return mounts, stores, nil
}

func progressMode(s string) (progressui.DisplayMode, error) {
	for _, m := range progressModes {
		if s == m {
			return progressui.DisplayMode(s), nil
		}
	}
	return "", fmt.Errorf("invalid --progress %q (valid: %s)", s, strings.Join(progressModes, ", "))
}

// resolveAddr returns addr, or when it is empty the address of the embedded
// daemon, starting it if needed.
func resolveAddr(ctx context.Context, addr string) (string, error) {
	if addr != "" {
		return addr, nil
	}
	cfg, err := embeddedConfig()
	if err != nil {
		return "", err
	}
	d, started, err := daemon.Ensure(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("no --addr or $BUILDKIT_HOST given, and the embedded buildkitd is not available: %w", err)
	}
	if started {
		fmt.Fprintf(os.Stderr, "hardenkit: started buildkitd (pid %d) at %s\n", d.PID, d.Addr)
	}
	return d.Addr, nil
}

// sessionAttachables are the client-side services the build may call back:
// registry credentials from the docker config, secrets and SSH forwarding.
func sessionAttachables(o *buildOptions) ([]session.Attachable, error) {
	return buildflags.SessionAttachables(o.secrets, o.ssh, os.Stderr)
}

// dockerfileFromStdin stores stdin as a Dockerfile in a temporary directory
// (which the caller removes) so it can be sent as the "dockerfile" mount.
func dockerfileFromStdin(r io.Reader) (string, error) {
	dir, err := os.MkdirTemp("", "hardenkit-dockerfile-")
	if err != nil {
		return "", fmt.Errorf("reading Dockerfile from stdin: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "Dockerfile"))
	if err == nil {
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("reading Dockerfile from stdin: %w", err)
	}
	return dir, nil
}

// printWarnings summarises the build warnings after the progress output,
// where they would otherwise scroll by unnoticed.
func printWarnings(w io.Writer, warnings []client.VertexWarning, mode progressui.DisplayMode) {
	if len(warnings) == 0 || mode == progressui.QuietMode || mode == progressui.RawJSONMode {
		return
	}
	if len(warnings) == 1 {
		fmt.Fprintf(w, "\n1 warning found:\n")
	} else {
		fmt.Fprintf(w, "\n%d warnings found:\n", len(warnings))
	}
	for _, wr := range warnings {
		fmt.Fprintf(w, " - %s\n", wr.Short)
	}
}

// policyContexts turns --policy and --exceptions into what the frontend
// reads: a baseline name becomes the HARDENKIT_POLICY build arg, a file
// becomes the hardenkit-policy (or hardenkit-exceptions) named context. The
// returned function removes the temporary context directories.
func policyContexts(o *buildOptions) (func(), error) {
	var dirs []string
	cleanup := func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}
	asContext := func(file, contextName, fileName string) error {
		dt, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("reading %s: %w", file, err)
		}
		dir, err := os.MkdirTemp("", "hardenkit-"+contextName+"-")
		if err != nil {
			return err
		}
		dirs = append(dirs, dir)
		if err := os.WriteFile(filepath.Join(dir, fileName), dt, 0o644); err != nil {
			return err
		}
		o.buildContexts = append(o.buildContexts, contextName+"="+dir)
		return nil
	}
	switch {
	case o.policy == "":
	case policy.IsBaseline(o.policy):
		o.buildArgs = append(o.buildArgs, options.KeyPolicy+"="+o.policy)
	default:
		if err := asContext(o.policy, options.ContextPolicy, policy.FileName); err != nil {
			cleanup()
			return nil, fmt.Errorf("--policy: %w\n  to fix: give a policy file that exists (a path on this machine, read here and passed as the %s build context) or a built-in baseline (strict, cis-docker)", err, options.ContextPolicy)
		}
	}
	if o.exceptions != "" {
		if err := asContext(o.exceptions, options.ContextExceptions, policysource.ExceptionsFileName); err != nil {
			cleanup()
			return nil, fmt.Errorf("--exceptions: %w\n  to fix: give an exceptions file that exists (a path on this machine, passed as the %s build context)", err, options.ContextExceptions)
		}
	}
	return cleanup, nil
}
