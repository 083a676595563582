package keep

// The exec chain: what runs when the container starts.
//
// The image config's ENTRYPOINT + CMD (and an exec-form HEALTHCHECK) is a
// command line, and more than its first word runs. A process wrapper (an
// init reaper such as tini or dumb-init, env, nice, setpriv, chpst, …)
// runs the command after its options; an interpreter runs the script named
// as its argument (`python3 /app/run.py`); an entrypoint script runs the
// command it is given (`docker-entrypoint.sh postgres`). Shipping only the
// first word's closure builds an image that passes and then fails with
// "exec python3 failed". So every element that resolves to a program in
// the image is followed:
//
//   - program positions — the first word and, through the wrappers'
//     option grammar (pkg/shellscript.Chain), the command each wrapper
//     runs — are found like execvp would: on PATH, or from WORKDIR for a
//     relative path with a slash. Each ships with its closure or, when it
//     is a tool hardenkit removes, fails the build by name;
//   - an argument naming a file path (absolute, or relative to WORKDIR)
//     whose content runs (an ELF executable or a "#!" script) ships with
//     its closure, and fails by name when it is a tool;
//   - a bare-word argument found on PATH (the `postgres` handed to an
//     entrypoint script) ships with its closure unless it is a tool: a bare
//     word may as well be an option's value (`-k sync`), so a tool there
//     is left out, not a reason to refuse the build.

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/elfdeps"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// Runnable is an element of a command line that resolves to a file the
// image runs.
type Runnable struct {
	// Arg is the element as written.
	Arg string
	// Index is its position in the command line.
	Index int
	// Path is where it is found in the tree, unresolved, as execvp would
	// use it.
	Path string
	// Program says the element is in a program position: the first word,
	// or the command a wrapper runs after its options. Otherwise it is an
	// argument the program runs or reads.
	Program bool
	// ByPath says a bare-word argument was found on PATH, not named as a
	// file: it may be a value rather than a program (see above).
	ByPath bool

	// executed: the kernel executes the argument itself (an ELF file, or a
	// bare word an entrypoint script hands to exec), so its "#!" line and
	// loader matter; a script an interpreter reads is not.
	executed bool
}

// ExecChain returns the elements of argv that run in the image, in argv
// order, and the program positions that name nothing the image can run.
// workDir resolves relative paths ("" is "/"); pathEnv is the image's
// PATH ("" is elfdeps.DefaultPath).
func ExecChain(ctx context.Context, t *rootfs.Tree, src rootfs.Source, argv []string, workDir, pathEnv string) ([]Runnable, []string, error) {
	if pathEnv == "" {
		pathEnv = elfdeps.DefaultPath
	}
	programs := map[int]bool{}
	for _, i := range shellscript.Chain(argv) {
		programs[i] = true
	}
	var runs []Runnable
	var missing []string
	for i, a := range argv {
		if programs[i] {
			if p, ok := elfdeps.LookPath(t, fromWorkDir(a, workDir), pathEnv); ok && a != "" {
				runs = append(runs, Runnable{Arg: a, Index: i, Path: p, Program: true})
			} else {
				missing = append(missing, a)
			}
			continue
		}
		run, ok, err := argumentRuns(ctx, t, src, a, workDir, pathEnv)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			run.Index = i
			runs = append(runs, run)
		}
	}
	return runs, missing, nil
}

// fromWorkDir makes a relative path with a slash ("./server", "bin/app")
// absolute from the working directory, as the runtime resolves it; a bare
// name is left for the PATH search.
func fromWorkDir(name, workDir string) string {
	if strings.Contains(name, "/") && !path.IsAbs(name) {
		return path.Join("/", workDir, name)
	}
	return name
}

// argumentRuns reports whether the argument a names a file whose content
// runs: a path (absolute or from WORKDIR) to an ELF executable or a "#!"
// script, or a bare word found on PATH.
func argumentRuns(ctx context.Context, t *rootfs.Tree, src rootfs.Source, a, workDir, pathEnv string) (Runnable, bool, error) {
	if a == "" || strings.HasPrefix(a, "-") || strings.ContainsAny(a, "=$ \t\n:") {
		return Runnable{}, false, nil
	}
	file := a
	if !path.IsAbs(file) {
		file = path.Join("/", workDir, a)
	}
	if phys, ok := t.Resolve(file); ok {
		if e, _ := t.Lookup(phys); e.IsRegular() && e.Size >= 2 {
			b, err := src.ReadFile(ctx, phys, 0, headerSize)
			if err != nil {
				return Runnable{}, false, fmt.Errorf("reading %s: %w", phys, err)
			}
			if h := parseHeader(b); h.exec {
				return Runnable{Arg: a, Path: rootfs.Clean(file), executed: h.elf}, true, nil
			}
		}
	}
	if strings.Contains(a, "/") {
		return Runnable{}, false, nil
	}
	if p, ok := elfdeps.LookPath(t, a, pathEnv); ok {
		return Runnable{Arg: a, Path: p, ByPath: true, executed: true}, true, nil
	}
	return Runnable{}, false, nil
}

// chainRole says how a command line's runnables are treated: the
// entrypoint's fail the build when they are tools; a health check's are
// HK2024's business and are only allowed.
type chainRole struct {
	what  string // "entrypoint" or "health check"
	argv  []string
	fatal bool
}

// followChain keeps every runnable of a command line with its closure and
// its interpreters' runtimes, and allows them to execute.
func (r *rebaser) followChain(ctx context.Context, role chainRole, env closureEnv) error {
	runs, missing, err := ExecChain(ctx, r.t, r.in.Src, role.argv, r.in.WorkingDir, env.pathEnv)
	if err != nil {
		return fmt.Errorf("rebase: %s: %w", role.what, err)
	}
	if role.fatal {
		if len(runs) == 0 || runs[0].Index != 0 {
			return fmt.Errorf("rebase: %s: %w", role.argv[0], ErrEntrypointNotFound)
		}
		for _, m := range missing {
			r.notes = append(r.notes, fmt.Sprintf("the %s %s runs %q, which the image does not contain: the container fails as the unhardened one would",
				role.what, strings.Join(role.argv, " "), m))
		}
	}
	for _, run := range runs {
		if err := r.followRunnable(ctx, role, run, env); err != nil {
			return err
		}
	}
	return nil
}

// followRunnable keeps one runnable's closure, or refuses it when the
// entrypoint runs a removed tool (see the file comment for which
// arguments are refused and which only left out).
func (r *rebaser) followRunnable(ctx context.Context, role chainRole, run Runnable, env closureEnv) error {
	res, err := elfdeps.Closure(ctx, r.t, r.in.Src, []string{run.Path}, elfdeps.WithPath(env.pathEnv), elfdeps.WithLibraryPath(r.in.LibraryPath))
	if err != nil {
		return fmt.Errorf("rebase: %s closure of %s: %w", role.what, run.Arg, err)
	}
	// The runnable's own resolution comes first, so that "/bin/sh" is
	// reported as being a shell rather than as needing dash.
	own, _ := r.t.ResolveLinks(run.Path, true)
	ownPaths := append(append([]string(nil), own.Links...), own.Path)
	skip, refuse := r.chainTools(role, run, ownPaths, res.Paths, env)
	if refuse != nil {
		return refuse
	}
	if skip == nil {
		return nil
	}
	label := role.what + " " + run.Arg
	if run.Index > 0 {
		label = fmt.Sprintf("%s (argument %d of the %s)", run.Arg, run.Index, role.what)
	}
	// Closure paths are not explicit: the closure already lists every
	// link it crosses, and a merged-/usr "/lib" link on the way to libc
	// must not bring all of /usr/lib.
	for _, p := range res.Paths {
		if skip[p] {
			continue
		}
		r.kept.add(p, label+": "+res.Reasons[p])
		r.trusted[p], r.allowed[p] = true, true
		if role.fatal {
			r.entry[p] = run.Arg
		}
		r.allow(p, label+": "+res.Reasons[p])
	}
	if role.fatal {
		r.entryExes[own.Path] = true
		r.entryLinks = append(r.entryLinks, own.Links...)
	}
	if run.Program || run.executed {
		// An argument script's "#!" line is not used when an interpreter
		// reads it (`python3 manage.py`), so only what is executed reports
		// what it lacks.
		addUnresolved(env.unresolved, res)
	}
	phys, _ := r.t.Resolve(run.Path)
	r.runtimes(append([]string{phys}, res.Interpreters...))
	if role.fatal {
		r.interps = append(append(r.interps, phys), res.Interpreters...)
		if run.Program {
			r.programs = append(r.programs, phys)
		}
		if run.Program || run.executed {
			r.scriptInterps = append(r.scriptInterps, res.Interpreters...)
		}
	}
	return nil
}

// chainTools checks a runnable of the entrypoint against the tools
// hardenkit removes. It returns the error refusing the build when what
// runs is or needs one; nil skip when the runnable is not followed at all
// (a bare word that is a tool: as likely a value as a program); else the
// closure paths to leave out: the "#!" interpreter of a script an
// interpreter reads is never executed. A health check's runnables are not
// checked: its tools are HK2024's business.
func (r *rebaser) chainTools(role chainRole, run Runnable, ownPaths, closure []string, env closureEnv) (map[string]bool, error) {
	skip := map[string]bool{}
	if !role.fatal {
		return skip, nil
	}
	for i, p := range append(append([]string(nil), ownPaths...), closure...) {
		if r.policy[p] {
			continue
		}
		m, removed := env.removed(p)
		if !removed {
			continue
		}
		direct := i < len(ownPaths)
		switch {
		case run.ByPath:
			return nil, nil
		case direct || run.Program || run.executed:
			return nil, &EntrypointError{Entrypoint: run.Arg, Position: run.Index, Needs: p, Direct: direct, Match: m}
		default:
			skip[p] = true
		}
	}
	return skip, nil
}
