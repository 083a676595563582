package step

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
)

// testRequest and testAnswer are a step's own types.
type testRequest struct {
	Greeting string `json:"greeting"`
}

type testAnswer struct {
	Reply string `json:"reply"`
}

// echo answers its greeting and the content of its input's file.
func echo() Command[testRequest] {
	return Command[testRequest]{
		Name:    "echo",
		Request: true,
		Flags: []Flag{
			{Name: "final", Arg: "DIR", Usage: "input"},
			{Name: "extra", Arg: "DIR", Usage: "optional input", Optional: true},
			{Name: "mode", Arg: "WORD", Usage: "own argument"},
		},
		Run: func(_ context.Context, c Call[testRequest]) (any, error) {
			dt, err := os.ReadFile(filepath.Join(c.Flags["final"], "name"))
			if err != nil {
				return nil, err
			}
			return testAnswer{Reply: c.Request.Greeting + ", " + string(dt) + " (" + c.Flags["mode"] + ")"}, nil
		},
	}
}

func echoExec() Exec {
	return Exec{
		Image:      llb.Image("frontend"),
		Subcommand: "echo",
		Request:    testRequest{Greeting: "hello"},
		Mounts: []Mount{
			{Flag: "final", Dir: "/hardenkit/final", State: llb.Image("app")},
			{Flag: "extra", Dir: "/hardenkit/context", State: llb.Local("context"), HashContent: true},
		},
		Args: []string{"--mode", "loud"},
		Name: "[hardenkit] echo",
		Opts: []llb.RunOption{llb.IgnoreCache},
	}
}

// ops decodes a marshalled definition: its exec, and the files its
// Mkfile actions write, by name.
func ops(t *testing.T, def *pb.Definition) (*pb.ExecOp, map[string][]byte) {
	t.Helper()
	var exec *pb.ExecOp
	files := map[string][]byte{}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if e := op.GetExec(); e != nil {
			exec = e
		}
		for _, a := range op.GetFile().GetActions() {
			if mk := a.GetMkfile(); mk != nil {
				files[mk.Path] = mk.Data
			}
		}
	}
	if exec == nil {
		t.Fatal("the definition has no exec")
	}
	return exec, files
}

// fakeClient runs the step of a definition in the test process: the exec's
// mount points become local directories (inputs all hold the same
// fixture), and the answer is read from the output directory.
type fakeClient struct {
	gwclient.Client
	t     *testing.T
	cmd   Command[testRequest]
	input string
}

func (f fakeClient) Solve(ctx context.Context, req gwclient.SolveRequest) (*gwclient.Result, error) {
	exec, files := ops(f.t, req.Definition)
	dir, out := f.t.TempDir(), f.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, requestFile), files["/"+requestFile], 0o644); err != nil {
		return nil, err
	}
	args := slices.Clone(exec.Meta.Args[2:])
	for i, a := range args {
		switch {
		case a == inDir+"/"+requestFile:
			args[i] = filepath.Join(dir, requestFile)
		case a == OutDir:
			args[i] = out
		case strings.HasPrefix(a, "/hardenkit/"):
			args[i] = f.input
		}
	}
	if err := f.cmd.Main(ctx, args, &bytes.Buffer{}); err != nil {
		return nil, err
	}
	res := gwclient.NewResult()
	res.SetRef(dirRef{dir: out})
	return res, nil
}

// dirRef is a solved reference backed by a local directory.
type dirRef struct {
	gwclient.Reference
	dir string
}

func (r dirRef) ReadFile(_ context.Context, req gwclient.ReadRequest) ([]byte, error) {
	dt, err := os.ReadFile(filepath.Join(r.dir, req.Filename))
	if err != nil {
		return nil, err
	}
	if rg := req.Range; rg != nil {
		dt = dt[min(rg.Offset, len(dt)):min(rg.Offset+rg.Length, len(dt))]
	}
	return dt, nil
}

func TestAnswerRoundTrip(t *testing.T) {
	input := t.TempDir()
	if err := os.WriteFile(filepath.Join(input, "name"), []byte("world"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := fakeClient{t: t, cmd: echo(), input: input}
	var got testAnswer
	if err := Answer(t.Context(), c, echoExec(), &got); err != nil {
		t.Fatal(err)
	}
	if want := "hello, world (loud)"; got.Reply != want {
		t.Errorf("reply = %q, want %q", got.Reply, want)
	}

	// A step that fails fails the call, naming the step.
	c.input = filepath.Join(input, "missing")
	err := Answer(t.Context(), c, echoExec(), &got)
	if err == nil || !strings.Contains(err.Error(), `in-build step "[hardenkit] echo" failed`) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want the step's failure", err)
	}
}

// execOf is e's exec and the files its definition writes.
func execOf(t *testing.T, e Exec) (*pb.ExecOp, map[string][]byte) {
	t.Helper()
	st, err := e.Output()
	if err != nil {
		t.Fatal(err)
	}
	def, err := st.Marshal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ops(t, def.ToPB())
}

func TestOutputDefinition(t *testing.T) {
	exec, files := execOf(t, echoExec())
	wantArgs := []string{BinaryPath, "echo", "--request", "/hardenkit/in/request.json",
		"--final", "/hardenkit/final", "--extra", "/hardenkit/context", "--mode", "loud", "--out", OutDir}
	if !slices.Equal(exec.Meta.Args, wantArgs) {
		t.Errorf("args = %q, want %q", exec.Meta.Args, wantArgs)
	}
	if exec.Network != pb.NetMode_NONE || exec.Meta.User != "0:0" {
		t.Errorf("network %v, user %q: want none, 0:0", exec.Network, exec.Meta.User)
	}
	if got := string(files["/"+requestFile]); got != `{"greeting":"hello"}` {
		t.Errorf("request = %s", got)
	}
	type mount struct {
		readonly bool
		cache    pb.MountContentCache
	}
	want := map[string]mount{
		"/":                  {readonly: true},
		"/hardenkit/in":      {readonly: true},
		"/hardenkit/final":   {readonly: true, cache: pb.MountContentCache_OFF},
		"/hardenkit/context": {readonly: true},
		OutDir:               {},
	}
	got := map[string]mount{}
	for _, m := range exec.Mounts {
		got[m.Dest] = mount{readonly: m.Readonly, cache: m.ContentCache}
		if m.Dest == OutDir && m.Output < 0 {
			t.Errorf("%s is not an output", OutDir)
		}
	}
	if len(got) != len(want) {
		t.Errorf("mounts = %+v, want %+v", got, want)
	}
	for dest, w := range want {
		if g, ok := got[dest]; !ok || g != w {
			t.Errorf("mount %s = %+v (present %v), want %+v", dest, g, ok, w)
		}
	}
}

func TestOutputWithoutRequest(t *testing.T) {
	e := echoExec()
	e.Request, e.Mounts, e.Args = nil, nil, nil
	exec, files := execOf(t, e)
	if want := []string{BinaryPath, "echo", "--out", OutDir}; !slices.Equal(exec.Meta.Args, want) || len(files) != 0 {
		t.Errorf("args %q, files %v: want %q and no request", exec.Meta.Args, files, want)
	}
}

func TestMainRejectsBadInvocations(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	usage := "usage: echo --request FILE --final DIR [--extra DIR] --mode WORD --out DIR"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no args", nil, usage},
		{"no request", []string{"--final", dir, "--mode", "x", "--out", dir}, usage},
		{"missing required flag", []string{"--request", bad, "--final", dir, "--out", dir}, usage},
		{"extra argument", []string{"--request", bad, "--final", dir, "--mode", "x", "--out", dir, "more"}, usage},
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
		{"missing request", []string{"--request", filepath.Join(dir, "none.json"), "--final", dir, "--mode", "x", "--out", dir}, "reading the request: open"},
		{"bad request", []string{"--request", bad, "--final", dir, "--mode", "x", "--out", dir}, "reading the request: decoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := echo().Main(t.Context(), tt.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Main(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestMainWritesNoAnswerForNil(t *testing.T) {
	out := t.TempDir()
	cmd := Command[struct{}]{Name: "quiet", Run: func(context.Context, Call[struct{}]) (any, error) { return nil, nil }}
	if err := cmd.Main(t.Context(), []string{"--out", out}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, AnswerFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an answer was written: %v", err)
	}
}
