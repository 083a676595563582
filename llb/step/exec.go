package step

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/llb/solve"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Exec is one run of an in-build step, as the frontend asks for it.
type Exec struct {
	// Image has the hardenkit-frontend binary at BinaryPath: the
	// frontend's own image.
	Image llb.State
	// Subcommand selects the step.
	Subcommand string
	// Request is encoded as JSON into the definition and given to the
	// step as --request; nil gives none. It must hold only what the step
	// reads: any change to it is a new definition and a cache miss.
	Request any
	// Mounts are the filesystems the step reads.
	Mounts []Mount
	// Args are the step's own flags, after the mounts' and before --out.
	Args []string
	// Name is the step's name in the build's progress.
	Name string
	// Opts apply to the exec (llb.IgnoreCache, …).
	Opts []llb.RunOption
}

// Mount is a filesystem a step reads, mounted read-only.
type Mount struct {
	// Flag is the step's flag that names the mounted directory.
	Flag string
	// Dir is where it is mounted, inside the step's container.
	Dir string
	// State is the filesystem.
	State llb.State
	// HashContent keys the step's cache on a hash of the mounted files.
	// Without it the cache is keyed on State's definition, which already
	// changes with its content (COPY sources, images, RUNs are keyed by
	// what they read), and BuildKit does not read every byte of a large
	// filesystem to hash it before the step may run (about 20 s for
	// 1 GiB). A local source (the build context) needs the hash.
	HashContent bool
}

// Output returns the state of e's output directory: its answer (AnswerFile)
// and whatever else the step writes there.
func (e Exec) Output() (llb.State, error) {
	args := []string{BinaryPath, e.Subcommand}
	opts := []llb.RunOption{
		llb.User("0:0"), // the mounted filesystems' root-only files must be readable
		llb.Network(llb.NetModeNone),
		llb.ReadonlyRootFS(),
	}
	if e.Request != nil {
		dt, err := json.Marshal(e.Request)
		if err != nil {
			return llb.State{}, fmt.Errorf("in-build step %q: encoding the request: %w", e.Name, err)
		}
		req := llb.Scratch().File(llb.Mkfile(requestFile, 0o444, dt), llb.WithCustomName("[hardenkit] "+e.Subcommand+" request"))
		args = append(args, "--"+requestFlag, inDir+"/"+requestFile)
		opts = append(opts, llb.AddMount(inDir, req, llb.Readonly))
	}
	for _, m := range e.Mounts {
		mo := []llb.MountOption{llb.Readonly}
		if !m.HashContent {
			mo = append(mo, llb.ContentCache(llb.MountContentCacheOff))
		}
		args = append(args, "--"+m.Flag, m.Dir)
		opts = append(opts, llb.AddMount(m.Dir, m.State, mo...))
	}
	args = append(append(args, e.Args...), "--"+outFlag, OutDir)
	opts = append(opts, llb.Args(args), llb.WithCustomName(e.Name))
	return e.Image.Run(append(opts, e.Opts...)...).AddMount(OutDir, llb.Scratch()), nil
}

// Solve runs e through c and returns its output directory.
func Solve(ctx context.Context, c gwclient.Client, e Exec) (gwclient.Reference, error) {
	out, err := e.Output()
	if err != nil {
		return nil, err
	}
	ref, err := solve.Ref(ctx, c, out, nil)
	if err != nil {
		return nil, fmt.Errorf("in-build step %q failed (its output in the progress says why): %w", e.Name, err)
	}
	return ref, nil
}

// Answer runs e through c and decodes its answer into v. An answer larger
// than MaxAnswer is an error.
func Answer(ctx context.Context, c gwclient.Client, e Exec, v any) error {
	ref, err := Solve(ctx, c, e)
	if err != nil {
		return err
	}
	dt, err := rootfs.ReferenceSource(ref).ReadFile(ctx, "/"+AnswerFile, 0, MaxAnswer+1)
	if err != nil {
		return fmt.Errorf("in-build step %q: reading its answer: %w", e.Name, err)
	}
	if len(dt) > MaxAnswer {
		return fmt.Errorf("in-build step %q: its answer is larger than %d bytes", e.Name, MaxAnswer)
	}
	if err := json.Unmarshal(dt, v); err != nil {
		return fmt.Errorf("in-build step %q: decoding its answer: %w", e.Name, err)
	}
	return nil
}
