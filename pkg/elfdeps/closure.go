// Package elfdeps computes what an executable needs from its image at run
// time: the program interpreter and shared libraries named by its ELF
// dynamic section, found the way glibc's or musl's loader would find them
// in that image, and the interpreters of scripts. It reads only the parts
// of each file it needs, through a rootfs.Source.
package elfdeps

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// DefaultPath is the PATH a container gets when its image sets none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// maxScriptDepth is how many interpreters may be chained through shebang
// lines, Linux's BINPRM_MAX_RECURSION.
const maxScriptDepth = 4

// parallelism bounds the files parsed at once.
const parallelism = 8

// Option adjusts Closure.
type Option func(*config)

type config struct {
	path        string
	libraryPath string
}

// WithPath sets the PATH used to find the program of a
// "#!/usr/bin/env prog" script; the default is DefaultPath.
func WithPath(p string) Option {
	return func(c *config) { c.path = p }
}

// WithLibraryPath sets LD_LIBRARY_PATH as the image's environment does;
// glibc searches it after RPATH and before RUNPATH.
func WithLibraryPath(p string) Option {
	return func(c *config) { c.libraryPath = p }
}

// Result is the closure of a set of roots.
type Result struct {
	// Paths are every tree path needed, sorted: the roots, interpreters
	// and libraries, and each symlink crossed on the way to them (a
	// "/lib64/ld-linux-x86-64.so.2" link and its target, a merged-/usr
	// "/lib" link). Parent directories are not included.
	Paths []string
	// Missing are the DT_NEEDED names, program interpreters and script
	// interpreters that could not be found, sorted. They are reported
	// rather than fatal: the object may never be loaded.
	Missing []string
	// NeededBy maps each Missing name to the sorted paths that need it.
	NeededBy map[string][]string
	// Reasons says, for every path in Paths, why it is needed.
	Reasons map[string]string
	// Interpreters are the resolved script interpreters reached through
	// shebang lines, sorted.
	Interpreters []string
	// Invalid are files that start with the ELF magic but could not be
	// parsed; they are kept as plain files.
	Invalid []string

	static map[string]bool
}

// IsStatic reports whether the ELF object at p (a root, a resolved path or
// any library in the closure) needs nothing at load time: no program
// interpreter and no DT_NEEDED. It is false for non-ELF files and paths
// outside the closure.
func (r Result) IsStatic(p string) bool {
	return r.static[rootfs.Clean(p)]
}

// loaderKind says whose search rules apply to a process.
type loaderKind struct {
	musl     bool
	muslArch string
}

// item is one file to examine.
type item struct {
	// phys is the resolved path.
	phys string
	// origin is $ORIGIN for this object: for a library, the directory it
	// was found in, not where its symlinks lead; for a program, the
	// directory of its resolved path, as the kernel reports it.
	origin string
	// proc is the identity of the process the object is loaded into;
	// nil for a root, which starts its own process.
	proc *ident
	// loader is the process's loader kind.
	loader loaderKind
	// rpaths are the expanded search paths inherited from the objects
	// that loaded this one, nearest first.
	rpaths [][]string
	// depth counts shebang interpreters above this file.
	depth int
}

type found struct{ path, reason string }

type missing struct{ name, by string }

type itemResult struct {
	add          []found
	next         []item
	missing      []missing
	isELF        bool
	static       bool
	invalid      bool
	interpreters []string
}

// Closure returns everything the roots need at run time from t: for an
// ELF file its program interpreter (PT_INTERP) and DT_NEEDED libraries,
// recursively, searched like the loader would (RPATH of the loading chain,
// LD_LIBRARY_PATH, RUNPATH with $ORIGIN/$LIB/$PLATFORM, /etc/ld.so.conf
// and its includes, then the default and multiarch directories; musl's
// /etc/ld-musl-ARCH.path instead for musl programs), accepting only
// libraries of the same ELF class, byte order and machine; for a script
// its "#!" interpreter, and for "#!/usr/bin/env prog" both env and prog
// found on PATH. Roots are followed through symlinks in the tree; a root
// that does not exist is an error.
func Closure(ctx context.Context, t *rootfs.Tree, src rootfs.Source, roots []string, opts ...Option) (Result, error) {
	cfg := config{path: DefaultPath}
	for _, o := range opts {
		o(&cfg)
	}
	c := &closer{t: t, src: src, cfg: cfg, idents: map[string]identCache{}, objects: map[string]objCache{}}
	res := Result{NeededBy: map[string][]string{}, Reasons: map[string]string{}, static: map[string]bool{}}
	add := func(p, reason string) {
		if _, ok := res.Reasons[p]; !ok {
			res.Reasons[p] = reason
		}
	}
	visited := map[string]bool{}
	var queue []item
	rootPhys := map[string]string{}
	for _, r := range roots {
		r = rootfs.Clean(r)
		rl, ok := t.ResolveLinks(r, true)
		if !ok {
			return Result{}, fmt.Errorf("closure root %s: not found in the image", r)
		}
		rootPhys[r] = rl.Path
		for _, l := range rl.Links {
			add(l, "symlink on the way to root "+r)
		}
		add(rl.Path, "root")
		if !visited[rl.Path] {
			visited[rl.Path] = true
			queue = append(queue, item{phys: rl.Path, origin: path.Dir(rl.Path)})
		}
	}
	missingBy := map[string]map[string]bool{}
	for len(queue) > 0 {
		results := make([]itemResult, len(queue))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(parallelism)
		for i, it := range queue {
			g.Go(func() error {
				r, err := c.process(gctx, it)
				results[i] = r
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return Result{}, err
		}
		// Merge in queue order so that reasons and the loading chain of a
		// library reached twice do not depend on goroutine scheduling.
		var next []item
		for i, r := range results {
			it := queue[i]
			for _, f := range r.add {
				add(f.path, f.reason)
			}
			for _, m := range r.missing {
				if missingBy[m.name] == nil {
					missingBy[m.name] = map[string]bool{}
				}
				missingBy[m.name][m.by] = true
			}
			if r.isELF {
				res.static[it.phys] = r.static
			}
			if r.invalid {
				res.Invalid = append(res.Invalid, it.phys)
			}
			res.Interpreters = append(res.Interpreters, r.interpreters...)
			for _, n := range r.next {
				if !visited[n.phys] {
					visited[n.phys] = true
					next = append(next, n)
				}
			}
		}
		queue = next
	}
	for r, phys := range rootPhys {
		if s, ok := res.static[phys]; ok {
			res.static[r] = s
		}
	}
	for p := range res.Reasons {
		res.Paths = append(res.Paths, p)
	}
	sort.Strings(res.Paths)
	for name, by := range missingBy {
		res.Missing = append(res.Missing, name)
		for p := range by {
			res.NeededBy[name] = append(res.NeededBy[name], p)
		}
		sort.Strings(res.NeededBy[name])
	}
	sort.Strings(res.Missing)
	res.Interpreters = rootfs.Unique(sortedCopy(res.Interpreters))
	sort.Strings(res.Invalid)
	return res, nil
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

type identCache struct {
	id  ident
	ok  bool
	err error
}

type objCache struct {
	obj *object
	err error
}

// closer holds what one Closure call has learned about the tree, shared by
// its parallel workers.
type closer struct {
	t   *rootfs.Tree
	src rootfs.Source
	cfg config

	mu      sync.Mutex
	idents  map[string]identCache
	objects map[string]objCache

	ldOnce sync.Once
	ldDirs []string
	ldErr  error
}

func (c *closer) ident(ctx context.Context, phys string) (ident, bool, error) {
	c.mu.Lock()
	v, ok := c.idents[phys]
	c.mu.Unlock()
	if ok {
		return v.id, v.ok, v.err
	}
	id, isELF, err := readIdent(ctx, c.src, phys)
	if ctx.Err() == nil {
		c.mu.Lock()
		c.idents[phys] = identCache{id, isELF, err}
		c.mu.Unlock()
	}
	return id, isELF, err
}

func (c *closer) object(ctx context.Context, phys string, size int64) (*object, error) {
	c.mu.Lock()
	v, ok := c.objects[phys]
	c.mu.Unlock()
	if ok {
		return v.obj, v.err
	}
	o, err := parseObject(ctx, c.src, phys, size)
	if ctx.Err() == nil {
		c.mu.Lock()
		c.objects[phys] = objCache{o, err}
		c.mu.Unlock()
	}
	return o, err
}

func (c *closer) ldSoConf(ctx context.Context) ([]string, error) {
	c.ldOnce.Do(func() { c.ldDirs, c.ldErr = ldSoConfDirs(ctx, c.t, c.src) })
	return c.ldDirs, c.ldErr
}

// process examines one file: an ELF object's dependencies, or a script's
// interpreters.
func (c *closer) process(ctx context.Context, it item) (itemResult, error) {
	var r itemResult
	e, ok := c.t.Lookup(it.phys)
	if !ok || !e.IsRegular() || e.Size < 4 {
		return r, nil
	}
	id, isELF, err := c.ident(ctx, it.phys)
	if err != nil {
		return r, err
	}
	if !isELF {
		return c.script(ctx, it)
	}
	o, err := c.object(ctx, it.phys, e.Size)
	if errors.Is(err, errInvalid) {
		r.invalid = true
		return r, nil
	}
	if err != nil {
		return r, err
	}
	r.isELF, r.static = true, o.static()
	proc, loader := it.proc, it.loader
	if proc == nil {
		proc = &id
		loader = loaderFor(o.interp)
	}
	if o.interp != "" {
		rl, ok := c.t.ResolveLinks(o.interp, true)
		if !ok {
			r.missing = append(r.missing, missing{o.interp, it.phys})
		} else {
			for _, l := range rl.Links {
				r.add = append(r.add, found{l, "symlink on the way to the interpreter of " + it.phys})
			}
			r.add = append(r.add, found{rl.Path, "program interpreter of " + it.phys})
			r.next = append(r.next, item{phys: rl.Path, origin: path.Dir(o.interp), proc: proc, loader: loader, depth: it.depth})
		}
	}
	if len(o.needed) == 0 {
		return r, nil
	}
	dirs, childRpaths, err := c.searchDirs(ctx, it, o, *proc, loader)
	if err != nil {
		return r, err
	}
	for _, name := range o.needed {
		cand, rl, ok, err := c.find(ctx, name, dirs, *proc)
		if err != nil {
			return r, err
		}
		if !ok {
			r.missing = append(r.missing, missing{name, it.phys})
			continue
		}
		for _, l := range rl.Links {
			r.add = append(r.add, found{l, "symlink on the way to " + name + " needed by " + it.phys})
		}
		r.add = append(r.add, found{rl.Path, "DT_NEEDED " + name + " of " + it.phys})
		r.next = append(r.next, item{phys: rl.Path, origin: path.Dir(cand), proc: proc, loader: loader, rpaths: childRpaths, depth: it.depth})
	}
	return r, nil
}

func loaderFor(interp string) loaderKind {
	base := path.Base(interp)
	if strings.HasPrefix(base, "ld-musl-") {
		arch := strings.TrimPrefix(base, "ld-musl-")
		if i := strings.Index(arch, ".so"); i >= 0 {
			arch = arch[:i]
		}
		return loaderKind{musl: true, muslArch: arch}
	}
	return loaderKind{}
}

// searchDirs returns the directories to search for o's DT_NEEDED entries,
// in loader order, and the RPATH chain o's own dependencies inherit.
func (c *closer) searchDirs(ctx context.Context, it item, o *object, proc ident, loader loaderKind) ([]string, [][]string, error) {
	expand := func(list []string) []string {
		var out []string
		for _, entry := range list {
			for _, d := range splitPathList(entry) {
				out = append(out, expandDSTs(d, it.origin, proc)...)
			}
		}
		return out
	}
	var dirs []string
	var own []string
	if loader.musl {
		// musl treats RUNPATH like RPATH and walks the loading chain for
		// both, after LD_LIBRARY_PATH.
		own = expand(append(append([]string(nil), o.rpath...), o.runpath...))
		dirs = append(dirs, splitPathList(c.cfg.libraryPath)...)
		dirs = append(dirs, own...)
		for _, p := range it.rpaths {
			dirs = append(dirs, p...)
		}
		sys := muslDefaultDirs
		if text, ok, err := readText(ctx, c.t, c.src, "/etc/ld-musl-"+loader.muslArch+".path"); err != nil {
			return nil, nil, err
		} else if ok {
			sys = splitPathList(text)
		}
		dirs = append(dirs, sys...)
	} else {
		own = expand(o.rpath)
		if len(o.runpath) == 0 {
			// Without RUNPATH, glibc searches the RPATH of this object and
			// then of each object up the loading chain.
			dirs = append(dirs, own...)
			for _, p := range it.rpaths {
				dirs = append(dirs, p...)
			}
		}
		dirs = append(dirs, splitPathList(c.cfg.libraryPath)...)
		dirs = append(dirs, expand(o.runpath)...)
		ld, err := c.ldSoConf(ctx)
		if err != nil {
			return nil, nil, err
		}
		dirs = append(dirs, ld...)
		dirs = append(dirs, defaultDirs(proc)...)
	}
	childRpaths := it.rpaths
	if len(own) > 0 {
		childRpaths = append([][]string{own}, it.rpaths...)
	}
	return rootfs.Unique(dirs), childRpaths, nil
}

// find looks for a DT_NEEDED name in dirs and returns the candidate path,
// its resolution, and whether a compatible object was found.
func (c *closer) find(ctx context.Context, name string, dirs []string, proc ident) (string, rootfs.Resolution, bool, error) {
	candidates := dirs
	if strings.Contains(name, "/") {
		// A name with a slash is a path; the loader would take a relative
		// one from its working directory, which we take to be "/".
		candidates = []string{""}
	}
	for _, d := range candidates {
		cand := rootfs.Clean(path.Join(d, name))
		rl, ok := c.t.ResolveLinks(cand, true)
		if !ok {
			continue
		}
		if e, _ := c.t.Lookup(rl.Path); !e.IsRegular() {
			continue
		}
		id, isELF, err := c.ident(ctx, rl.Path)
		if err != nil {
			return "", rootfs.Resolution{}, false, err
		}
		if isELF && proc.compatible(id) {
			return cand, rl, true, nil
		}
	}
	return "", rootfs.Resolution{}, false, nil
}
