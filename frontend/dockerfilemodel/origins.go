package dockerfilemodel

import (
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// step is one instruction of the shipped stage's chain that can write
// files: a COPY or ADD (dest set) or a RUN.
type step struct {
	text   string
	ranges []parser.Range
	// dest is the absolute destination of a COPY or ADD; "" for RUN.
	dest string
	// run marks a RUN.
	run bool
}

// Origins says which Dockerfile instruction wrote a path of the shipped
// image, from the instructions alone: the last COPY or ADD whose
// destination covers the path, else the last RUN of the stage chain (it
// could have), else the base image. It reads no file, so naming an
// instruction costs nothing per finding.
type Origins struct {
	dockerfile string
	steps      []step
	base       string
	from       []parser.Range
}

// Origins reads the instructions of the exported stage and the stages it
// is built on, oldest first; dockerfile is the Dockerfile's name as the
// descriptions give it.
func (v *View) Origins(dockerfile string) (Origins, error) {
	chain, err := v.chain()
	if err != nil {
		return Origins{}, err
	}
	first := v.stages[chain[0]]
	o := Origins{dockerfile: dockerfile, from: first.Location}
	if o.base, err = v.base(chain[0]); err != nil {
		return Origins{}, err
	}
	for _, i := range chain {
		wd := "/"
		for _, c := range v.stages[i].Commands {
			switch c := c.(type) {
			case *instructions.WorkdirCommand:
				if !strings.Contains(c.Path, "$") {
					wd = path.Join(wd, c.Path)
				}
			case *instructions.RunCommand:
				o.steps = append(o.steps, step{text: c.String(), ranges: c.Location(), run: true})
			case *instructions.CopyCommand:
				o.steps = append(o.steps, copyStep(c.String(), c.Location(), wd, c.DestPath))
			case *instructions.AddCommand:
				o.steps = append(o.steps, copyStep(c.String(), c.Location(), wd, c.DestPath))
			}
		}
	}
	return o, nil
}

// copyStep is a COPY or ADD to dest, relative to the working directory wd.
// Its destination covers dest itself and everything below it, which is
// what a copy into a directory or onto a file can write.
func copyStep(text string, ranges []parser.Range, wd, dest string) step {
	if strings.Contains(dest, "$") {
		// Not expanded here: the step cannot be matched to a path, and a
		// wrong attribution is worse than the RUN fallback.
		return step{text: text, ranges: ranges}
	}
	abs := dest
	if !strings.HasPrefix(abs, "/") {
		abs = path.Join(wd, dest)
	}
	return step{text: text, ranges: ranges, dest: rootfs.Clean(abs)}
}

// covers reports whether s (a COPY or ADD) may have written p.
func (s step) covers(p string) bool {
	if s.dest == "" {
		return false
	}
	return rootfs.IsUnder(p, s.dest)
}

// names reports whether s is a RUN whose text names p as a whole path:
// "mknod /app/mem c 1 1" names /app/mem, not /app/me or /app.
func (s step) names(p string) bool {
	if !s.run || p == "/" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(s.text[i:], p)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(p)
		if end < len(s.text) && s.text[end] == '/' {
			end++ // "mkdir /app/" names /app
		}
		if (start == 0 || !isPathByte(s.text[start-1])) && (end == len(s.text) || !isPathByte(s.text[end])) {
			return true
		}
		i = start + 1
	}
}

// isPathByte reports whether b can continue a path in a shell command.
func isPathByte(b byte) bool {
	return b == '/' || b == '.' || b == '_' || b == '-' || b == '+' || b == '~' ||
		'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// Of describes the instruction that created or last changed p, and its
// Dockerfile ranges (nil for the base image): the last COPY or ADD whose
// destination covers p or RUN that names p, else the last RUN (which could
// have written it), else the base image.
func (o Origins) Of(p string) (string, []parser.Range) {
	p = rootfs.Clean(p)
	for i := len(o.steps) - 1; i >= 0; i-- {
		switch s := o.steps[i]; {
		case s.dest != "" && s.covers(p):
			return fmt.Sprintf("written by %s (%s:%d)", oneLine(s.text), o.dockerfile, firstLine(s.ranges)), s.ranges
		case s.names(p):
			return fmt.Sprintf("written or changed by %s (%s:%d), the last instruction that names it", oneLine(s.text), o.dockerfile, firstLine(s.ranges)), s.ranges
		}
	}
	for i := len(o.steps) - 1; i >= 0; i-- {
		if s := o.steps[i]; s.run {
			return fmt.Sprintf("no COPY or ADD writes it: from the base image %s, or changed by %s (%s:%d)", o.base, oneLine(s.text), o.dockerfile, firstLine(s.ranges)), s.ranges
		}
	}
	return fmt.Sprintf("from the base image %s (%s:%d)", o.base, o.dockerfile, firstLine(o.from)), o.from
}

// oneLine shortens an instruction to its first line, at most 80 bytes.
func oneLine(s string) string {
	s, _, cut := strings.Cut(s, "\n")
	if len(s) > 80 {
		s, cut = s[:77], true
	}
	if cut {
		s += "…"
	}
	return s
}
