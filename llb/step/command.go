package step

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Command is the step side of an in-build step: what
// `hardenkit-frontend <Name>` runs inside the build.
type Command[Req any] struct {
	// Name is the subcommand (Exec.Subcommand).
	Name string
	// Request says the step reads a JSON request (--request FILE) into a
	// Req.
	Request bool
	// Flags are the step's string flags: its mounted directories
	// (Mount.Flag) and its own arguments (Exec.Args).
	Flags []Flag
	// Run runs the step. Its answer, unless nil, is written as JSON to
	// AnswerFile in the output directory. An error fails the step (and the
	// build); a step reports what its analysis found in its answer
	// instead, for the frontend to act on.
	Run func(ctx context.Context, call Call[Req]) (any, error)
}

// Flag is a string flag of a step.
type Flag struct {
	// Name is the flag's name, without dashes.
	Name string
	// Arg names its value in the usage line ("DIR", "SECONDS").
	Arg string
	// Usage says what it is.
	Usage string
	// Optional flags may be absent; the others are required.
	Optional bool
}

// Call is one invocation of a step, as Command.Run receives it.
type Call[Req any] struct {
	// Request is the decoded request; its zero value when the command
	// reads none.
	Request Req
	// Flags are the values of Command.Flags, by name; "" when absent.
	Flags map[string]string
	// Out is the output directory.
	Out string
	// Stderr is shown in the build's progress: counts, never a
	// finding's subject.
	Stderr io.Writer
}

// Main parses args (the arguments after the subcommand), decodes the
// request, runs the step and writes its answer.
func (c Command[Req]) Main(ctx context.Context, args []string, stderr io.Writer) error {
	call, err := c.parse(args, stderr)
	if err != nil {
		return err
	}
	answer, err := c.Run(ctx, call)
	if err != nil {
		return err
	}
	if answer == nil {
		return nil
	}
	out, err := json.Marshal(answer)
	if err != nil {
		return fmt.Errorf("encoding the answer: %w", err)
	}
	if err := os.WriteFile(filepath.Join(call.Out, AnswerFile), out, 0o644); err != nil {
		return fmt.Errorf("writing the answer: %w", err)
	}
	return nil
}

// parse reads the flags and the request.
func (c Command[Req]) parse(args []string, stderr io.Writer) (Call[Req], error) {
	fl := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	reqPath := fl.String(requestFlag, "", "request JSON")
	out := fl.String(outFlag, "", "output directory")
	values := make(map[string]*string, len(c.Flags))
	for _, f := range c.Flags {
		values[f.Name] = fl.String(f.Name, "", f.Usage)
	}
	if err := fl.Parse(args); err != nil {
		return Call[Req]{}, err
	}
	call := Call[Req]{Out: *out, Flags: make(map[string]string, len(c.Flags)), Stderr: stderr}
	ok := *out != "" && (*reqPath != "") == c.Request && fl.NArg() == 0
	for _, f := range c.Flags {
		call.Flags[f.Name] = *values[f.Name]
		ok = ok && (f.Optional || call.Flags[f.Name] != "")
	}
	if !ok {
		return Call[Req]{}, errors.New(c.usage())
	}
	if c.Request {
		if err := ReadJSON(*reqPath, &call.Request); err != nil {
			return Call[Req]{}, fmt.Errorf("reading the request: %w", err)
		}
	}
	return call, nil
}

// usage is the step's usage line, its flags in the order Exec writes them.
func (c Command[Req]) usage() string {
	words := []string{"usage:", c.Name}
	if c.Request {
		words = append(words, "--"+requestFlag+" FILE")
	}
	for _, f := range c.Flags {
		w := "--" + f.Name + " " + f.Arg
		if f.Optional {
			w = "[" + w + "]"
		}
		words = append(words, w)
	}
	return strings.Join(append(words, "--"+outFlag+" DIR"), " ")
}

// ReadJSON decodes the JSON file path into v: a step's request, or the
// answer of an earlier step mounted as its input (ReadAnswer).
func ReadJSON(path string, v any) error {
	dt, err := os.ReadFile(path)
	if err != nil {
		return err // names path
	}
	if err := json.Unmarshal(dt, v); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}

// ReadAnswer decodes the answer of an earlier step whose output is
// mounted at dir into v.
func ReadAnswer(dir string, v any) error {
	return ReadJSON(filepath.Join(dir, AnswerFile), v)
}
