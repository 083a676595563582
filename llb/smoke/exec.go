package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"path"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/llb/solve"
	"github.com/hardenkit/hardenkit/llb/step"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Where a run finds the frontend binary and its request, and writes its
// answer, inside the image's filesystem: one private directory, so that the
// image's own paths stay as they are.
const (
	privateDir  = "/.hardenkit-smoke"
	binDir      = privateDir + "/bin"
	inDir       = privateDir + "/in"
	outDir      = privateDir + "/out"
	requestFile = "request.json"
)

// maxAnswer bounds the answer read back: a few bounded lists.
const maxAnswer = 1 << 20

// Exec is one smoke run, as the frontend asks for it.
type Exec struct {
	// Image is the filesystem of the image under test: the run's root.
	Image llb.State
	// Frontend is an image with the static hardenkit-frontend binary at
	// step.BinaryPath: the frontend's own.
	Frontend llb.State
	// Request is the program and the observation.
	Request Request
	// Name is the run's name in the build's progress.
	Name string
	// Opts apply to the exec (llb.IgnoreCache).
	Opts []llb.RunOption
}

// Output returns the state of the run's output directory. The runner
// starts as root so that it can read the image's /etc files and write its
// answer, and gives the program the image's user itself.
func (e Exec) Output() (llb.State, error) {
	dt, err := json.Marshal(e.Request)
	if err != nil {
		return llb.State{}, fmt.Errorf("smoke test %q: encoding the request: %w", e.Name, err)
	}
	req := llb.Scratch().File(llb.Mkfile(requestFile, 0o444, dt), llb.WithCustomName(e.Name+": request"))
	bin := path.Join(binDir, path.Base(step.BinaryPath))
	opts := []llb.RunOption{
		llb.Args([]string{bin, Subcommand, "--request", path.Join(inDir, requestFile), "--out", outDir}),
		llb.User("0:0"),
		llb.Dir("/"),
		llb.Network(llb.NetModeNone),
		llb.AddMount(binDir, e.Frontend, llb.SourcePath(path.Dir(step.BinaryPath)), llb.Readonly),
		llb.AddMount(inDir, req, llb.Readonly),
		llb.WithCustomName(e.Name),
	}
	return e.Image.Run(append(opts, e.Opts...)...).AddMount(outDir, llb.Scratch()), nil
}

// Run solves the run through c and returns its answer.
func Run(ctx context.Context, c gwclient.Client, e Exec) (Answer, error) {
	out, err := e.Output()
	if err != nil {
		return Answer{}, err
	}
	ref, err := solve.Ref(ctx, c, out, nil)
	if err != nil {
		return Answer{}, fmt.Errorf("smoke test %q could not run (its output in the progress says why): %w", e.Name, err)
	}
	dt, err := rootfs.ReferenceSource(ref).ReadFile(ctx, "/"+step.AnswerFile, 0, maxAnswer+1)
	if err != nil {
		return Answer{}, fmt.Errorf("smoke test %q: reading its answer: %w", e.Name, err)
	}
	if len(dt) > maxAnswer {
		return Answer{}, fmt.Errorf("smoke test %q: its answer is larger than %d bytes", e.Name, maxAnswer)
	}
	var a Answer
	if err := json.Unmarshal(dt, &a); err != nil {
		return Answer{}, fmt.Errorf("smoke test %q: decoding its answer: %w", e.Name, err)
	}
	return a, nil
}

// Command is the step: `hardenkit-frontend smoke --request F --out DIR`,
// run inside the image under test. What the program did is its answer;
// the step itself fails only when it cannot read its request or write
// the answer.
func Command() step.Command[Request] {
	return step.Command[Request]{
		Name:    Subcommand,
		Request: true,
		Run: func(ctx context.Context, call step.Call[Request]) (any, error) {
			a := Runner{Root: "/", Proc: "/proc"}.Run(ctx, call.Request)
			fmt.Fprintf(call.Stderr, "hardenkit: the program %s; TCP ports %v\n", status(a), a.Ports)
			return a, nil
		},
	}
}
