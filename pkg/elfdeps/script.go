package elfdeps

import (
	"bytes"
	"context"
	"path"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// shebangMax is how much of a script the kernel reads to find its
// interpreter (BINPRM_BUF_SIZE).
const shebangMax = 256

// script finds the interpreters of a "#!" script. Like the kernel, it
// takes the interpreter up to the first blank and the rest of the line as
// one argument; "env" is followed to the program it runs.
func (c *closer) script(ctx context.Context, it item) (itemResult, error) {
	var r itemResult
	head, err := c.src.ReadFile(ctx, it.phys, 0, shebangMax)
	if err != nil {
		return r, err
	}
	if !bytes.HasPrefix(head, []byte("#!")) || it.depth >= maxScriptDepth {
		return r, nil
	}
	line := string(head[2:])
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(strings.ReplaceAll(line, "\t", " "))
	interp, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	if interp == "" {
		return r, nil
	}
	c.addProgram(&r, it, interp, "script interpreter of "+it.phys)
	if path.Base(interp) != "env" || arg == "" {
		return r, nil
	}
	prog := envProgram(arg)
	if !strings.Contains(prog, "/") {
		if p, ok := c.lookPath(prog); ok {
			prog = p
		} else {
			r.missing = append(r.missing, missing{prog, it.phys})
			return r, nil
		}
	}
	c.addProgram(&r, it, prog, "program env runs for "+it.phys)
	return r, nil
}

// addProgram records an interpreter and queues it as a new process.
func (c *closer) addProgram(r *itemResult, it item, p, reason string) {
	rl, ok := c.t.ResolveLinks(p, true)
	if !ok {
		r.missing = append(r.missing, missing{p, it.phys})
		return
	}
	for _, l := range rl.Links {
		r.add = append(r.add, found{l, "symlink on the way to " + p})
	}
	r.add = append(r.add, found{rl.Path, reason})
	r.interpreters = append(r.interpreters, rl.Path)
	r.next = append(r.next, item{phys: rl.Path, origin: path.Dir(rl.Path), depth: it.depth + 1})
}

// envProgram returns the program "env ARG" runs. Without -S the kernel
// hands env the rest of the line as one argument, which env takes as the
// program name, spaces and all, so "python3 -u" is looked up (and not
// found) as written. With -S env splits it, skipping options and
// NAME=value assignments.
func envProgram(arg string) string {
	if !strings.HasPrefix(arg, "-S") && !strings.HasPrefix(arg, "--split-string") {
		return arg
	}
	fields := strings.Fields(arg)
	for i, f := range fields {
		if i == 0 {
			if rest := strings.TrimPrefix(f, "-S"); rest != f && rest != "" {
				// "-Sprog" glues the program to the option.
				return rest
			}
			continue
		}
		if strings.HasPrefix(f, "-") || strings.Contains(f, "=") {
			continue
		}
		return f
	}
	return arg
}

// lookPath finds an executable regular file named name on the configured
// PATH, as execvp would inside the image.
func (c *closer) lookPath(name string) (string, bool) {
	return LookPath(c.t, name, c.cfg.path)
}

// LookPath finds name on pathList (a PATH value) in t and returns the path
// it was found at, unresolved, as execvp would use it. The file it
// resolves to must be a regular file with an execute bit.
func LookPath(t *rootfs.Tree, name, pathList string) (string, bool) {
	if strings.Contains(name, "/") {
		p := rootfs.Clean(name)
		return p, isExec(t, p)
	}
	for _, dir := range strings.Split(pathList, ":") {
		if dir == "" || !path.IsAbs(dir) {
			continue
		}
		p := path.Join(dir, name)
		if isExec(t, p) {
			return p, true
		}
	}
	return "", false
}

func isExec(t *rootfs.Tree, p string) bool {
	phys, ok := t.Resolve(p)
	if !ok {
		return false
	}
	e, _ := t.Lookup(phys)
	return e.IsRegular() && e.IsExecutable()
}
