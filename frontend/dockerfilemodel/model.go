// Package dockerfilemodel is hardenkit's one reading of a Dockerfile: the
// text is parsed once per build with BuildKit's parser, and every part of
// the frontend that needs to know the Dockerfile — the static rules,
// redaction, hardening, ONBUILD checks and the context scan — reads it
// from here. It never converts a Dockerfile to LLB: dockerfile2llb does
// that, and the model resolves stages, ARGs and the shipped stage the way
// dockerfile2llb does, so that what is checked is what is built.
package dockerfilemodel

import (
	"bytes"
	"errors"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// File is a parsed Dockerfile. It is immutable once parsed, so one File
// serves every platform of a build at once.
type File struct {
	data []byte
	res  *parser.Result
}

// Parse parses dt with BuildKit's parser and checks that its instructions
// parse and that it has a stage. Errors keep BuildKit's
// *parser.LocationError so callers can show the snippet.
func Parse(dt []byte) (*File, error) {
	res, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		return nil, err
	}
	f := &File{data: dt, res: res}
	stages, _, err := f.Instructions()
	if err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		return nil, parser.WithLocation(errors.New("dockerfile contains no stages to build"), res.AST.Location())
	}
	return f, nil
}

// Data is the Dockerfile's text; callers must not modify it.
func (f *File) Data() []byte { return f.data }

// AST is the parsed syntax tree; callers must not modify it.
func (f *File) AST() *parser.Node { return f.res.AST }

// EscapeToken is the Dockerfile's escape character.
func (f *File) EscapeToken() rune { return f.res.EscapeToken }

// Instructions returns the stages and the global ARGs as BuildKit's
// instructions package reads them from the tree. Each call returns fresh
// values that the caller may expand in place: expanding a RUN's mounts
// or an ARG's value writes into the command.
func (f *File) Instructions() ([]instructions.Stage, []instructions.ArgCommand, error) {
	// A nil linter panics on `# check=` comments; an empty one reports
	// nothing (dockerfile2llb reports its own lint).
	return instructions.Parse(f.res.AST, &linter.Linter{})
}
