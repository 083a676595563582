package tooling

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/hardenkit/hardenkit/pkg/elfdeps"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Reasons a Match gives. Reasons with a path append it after the colon.
const (
	// ReasonName: the base name is in a list.
	ReasonName = "name"
	// ReasonBusyboxBinary: an ELF file carrying a multi-call marker.
	ReasonBusyboxBinary = "busybox-binary"
	// ReasonBusyboxApplet: a symlink or hard link to, or a copy of, a
	// multi-call binary.
	ReasonBusyboxApplet = "busybox-applet"
	// ReasonSameContentAs: a hard link to or copy of the named match.
	ReasonSameContentAs = "same-content-as:"
	// ReasonLinkTargetOf: the file a name-matched symlink resolves to.
	ReasonLinkTargetOf = "link-target-of:"
	// ReasonSymlinkTo: a symlink, anywhere, that resolves to the named
	// match.
	ReasonSymlinkTo = "symlink-to:"
	// ReasonPackageManagerData: a cache, index or module directory of a
	// package manager.
	ReasonPackageManagerData = "package-manager-data"
	// ReasonShellBinary: an ELF file carrying the strings every POSIX
	// shell carries (shellSignature), whatever its name.
	ReasonShellBinary = "shell-binary"
	// ReasonSimilarTo: the same program (Compare) as a tool of this tree
	// or a Known tool, followed by how and where that tool is from.
	ReasonSimilarTo = "similar-to:"
	// ReasonPackage: a path only tool packages own (their metadata says
	// so: pkg/keep), followed by the package and why.
	ReasonPackage = "package:"
)

// shellSignature are strings a POSIX shell's binary holds all of in its
// read-only data: the prompt and option-parsing variables it initialises
// (dash's var.c, bash's variables.c, mksh, zsh, yash, posh and BusyBox
// ash alike). A renamed, patched or re-linked shell still has them;
// interpreters of other languages (perl, python3) do not set OPTIND and
// PS2. IFS is not among them: perl and python name it too, and dash keeps
// its default in writable data.
var shellSignature = []string{"PS1", "PS2", "OPTIND"}

// maxMultiCallSize is the largest file searched for multi-call markers.
// BusyBox with every applet is about 2.5 MB and toybox about 1 MB, so a
// bigger file is not one; a renamed copy of a bigger tool is still caught
// by its hash.
const maxMultiCallSize = 16 << 20

// scanChunk is how much of a file is searched per read.
const scanChunk = 1 << 20

const parallelism = 8

// Match is one path the tooling control removes.
type Match struct {
	// Path is the tree path; for package manager data it may be a
	// directory standing for everything below it.
	Path string
	// Category is the tool's category.
	Category Category
	// Reason is how it was found: one of the Reason constants, those
	// ending in ":" followed by a path.
	Reason string
	// Tool is the tool the match stands for: the base name for a name
	// match, "busybox" or "toybox" for multi-call binaries and their
	// applets, the original's tool for links and copies, the pattern for
	// package manager data.
	Tool string
}

// detector carries one Detect call's state.
type detector struct {
	t     *rootfs.Tree
	src   rootfs.Source
	lists Lists

	matched   map[string]Match
	multicall map[string]bool // path → is a multi-call binary
}

// Detect finds the tools of l in t. The result is sorted by path and has
// at most one Match per path; a Match on a directory covers the subtree.
// Only executables are matched by name: regular files and symlinks in a
// bin or sbin directory, or whose (resolved) file has an execute bit.
func Detect(ctx context.Context, t *rootfs.Tree, src rootfs.Source, l Lists) ([]Match, error) {
	d := &detector{t: t, src: src, lists: l, matched: map[string]Match{}, multicall: map[string]bool{}}
	entries := t.Entries()
	var candidates []rootfs.Entry
	for _, e := range entries {
		if d.executableLocation(e) {
			candidates = append(candidates, e)
		}
	}
	d.byName(candidates)
	if err := d.byMarker(ctx, candidates); err != nil {
		return nil, err
	}
	if err := d.multiCallCopies(ctx); err != nil {
		return nil, err
	}
	d.linkTargets(candidates)
	d.hardlinks(entries)
	if err := d.copies(ctx, candidates); err != nil {
		return nil, err
	}
	if err := d.similar(ctx, candidates); err != nil {
		return nil, err
	}
	d.hardlinks(entries)
	d.symlinks(entries)
	d.data()
	d.installerModules(entries)

	out := make([]Match, 0, len(d.matched))
	for _, m := range d.matched {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// executableLocation reports whether e is a file a name match applies to.
func (d *detector) executableLocation(e rootfs.Entry) bool {
	if !e.IsRegular() && !e.IsSymlink() {
		return false
	}
	switch path.Base(path.Dir(e.Path)) {
	case "bin", "sbin":
		return true
	}
	if e.IsRegular() {
		return e.IsExecutable()
	}
	phys, ok := d.t.Resolve(e.Path)
	if !ok {
		return false
	}
	target, _ := d.t.Lookup(phys)
	return target.IsRegular() && target.IsExecutable()
}

func (d *detector) add(m Match) {
	if _, ok := d.matched[m.Path]; !ok {
		d.matched[m.Path] = m
	}
}

// derived builds the Match for a path found through another match.
func (d *detector) derived(p string, from Match, reason string) Match {
	if d.multicall[from.Path] {
		reason = ReasonBusyboxApplet
	}
	return Match{Path: p, Category: from.Category, Reason: reason, Tool: from.Tool}
}

func (d *detector) byName(candidates []rootfs.Entry) {
	for _, e := range candidates {
		base := path.Base(e.Path)
		cat, ok := d.lists.Category(base)
		if !ok {
			continue
		}
		m := Match{Path: e.Path, Category: cat, Reason: ReasonName, Tool: base}
		d.add(m)
		if isMultiCallName(base) && e.IsRegular() {
			d.multicall[e.Path] = true
		}
	}
}

// linkTargets matches the files name-matched symlinks lead to: removing
// the link alone would leave the tool under its real name. It runs after
// the marker search so that a multi-call binary reached through an applet
// name is still reported as the binary.
func (d *detector) linkTargets(candidates []rootfs.Entry) {
	for _, e := range candidates {
		m, ok := d.matched[e.Path]
		if !ok || !e.IsSymlink() {
			continue
		}
		phys, ok := d.t.Resolve(e.Path)
		if !ok {
			continue
		}
		if target, _ := d.t.Lookup(phys); target.IsRegular() {
			d.add(Match{Path: phys, Category: m.Category, Reason: ReasonLinkTargetOf + e.Path, Tool: m.Tool})
			if path.Base(e.Path) == m.Tool && isMultiCallName(m.Tool) {
				d.multicall[phys] = true
			}
		}
	}
}

func isMultiCallName(name string) bool {
	for _, mc := range multiCall {
		if mc.name == name {
			return true
		}
	}
	return false
}

// byMarker searches executable ELF files for multi-call markers and for
// the shell signature.
func (d *detector) byMarker(ctx context.Context, candidates []rootfs.Entry) error {
	if !d.contentEnabled() {
		return nil
	}
	var files []rootfs.Entry
	for _, e := range candidates {
		if e.IsRegular() && !e.IsHardlink() && e.Size > 64 && e.Size <= maxMultiCallSize {
			if _, done := d.matched[e.Path]; !done {
				files = append(files, e)
			}
		}
	}
	found := make([]Match, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for i, e := range files {
		g.Go(func() error {
			m, ok, err := ByContent(gctx, d.src, e, d.lists)
			if ok {
				found[i] = m
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, m := range found {
		if m.Path == "" {
			continue
		}
		d.add(m)
		if m.Reason == ReasonBusyboxBinary {
			d.multicall[m.Path] = true
		}
	}
	return nil
}

func (d *detector) contentEnabled() bool {
	if len(d.lists.Shells) > 0 {
		return true
	}
	for _, mc := range multiCall {
		if _, ok := d.lists.Category(mc.name); ok {
			return true
		}
	}
	return false
}

// ByContent reports whether the file e is a tool by its content alone,
// whatever its name and mode: a BusyBox or toybox multi-call binary (its
// marker strings), or a shell (shellSignature). It reads only ELF files
// up to maxMultiCallSize; a category whose list is empty is not looked
// for. The returned Match has e's path.
func ByContent(ctx context.Context, src rootfs.Source, e rootfs.Entry, l Lists) (Match, bool, error) {
	if !e.IsRegular() || e.Size <= 64 || e.Size > maxMultiCallSize {
		return Match{}, false, nil
	}
	type sig struct {
		tool   string
		cat    Category
		reason string
		all    bool
		marks  []string
	}
	var sigs []sig
	var markers []string
	for _, mc := range multiCall {
		if cat, ok := l.Category(mc.name); ok {
			sigs = append(sigs, sig{mc.name, cat, ReasonBusyboxBinary, false, mc.markers})
			markers = append(markers, mc.markers...)
		}
	}
	if len(l.Shells) > 0 {
		sigs = append(sigs, sig{"shell", Shell, ReasonShellBinary, true, shellSignature})
		markers = append(markers, shellSignature...)
	}
	if len(sigs) == 0 {
		return Match{}, false, nil
	}
	seen, err := findMarkers(ctx, src, e, markers)
	if err != nil {
		return Match{}, false, err
	}
	for _, s := range sigs {
		hit := s.all
		for _, m := range s.marks {
			if s.all {
				hit = hit && seen[m]
			} else {
				hit = hit || seen[m]
			}
		}
		if hit {
			return Match{Path: e.Path, Category: s.cat, Reason: s.reason, Tool: s.tool}, true, nil
		}
	}
	return Match{}, false, nil
}

// multiCallCopies turns all but one of a set of identical multi-call
// binaries into applets: a hard link across directories or a copy of
// BusyBox is one more name for the same binary. The one kept as the binary
// is the one carrying the multi-call name, else the first by path.
func (d *detector) multiCallCopies(ctx context.Context) error {
	bySize := map[int64][]string{}
	for p := range d.multicall {
		e, _ := d.t.Lookup(p)
		if e.IsRegular() && !e.IsHardlink() {
			bySize[e.Size] = append(bySize[e.Size], p)
		}
	}
	need := map[string]bool{}
	for _, ps := range bySize {
		if len(ps) > 1 {
			for _, p := range ps {
				need[p] = true
			}
		}
	}
	if len(need) == 0 {
		return nil
	}
	hashes, err := d.hashAll(ctx, need)
	if err != nil {
		return err
	}
	byHash := map[string][]string{}
	for p, h := range hashes {
		byHash[h] = append(byHash[h], p)
	}
	for _, ps := range byHash {
		if len(ps) < 2 {
			continue
		}
		sort.Strings(ps)
		canon := ps[0]
		for _, p := range ps {
			if isMultiCallName(path.Base(p)) {
				canon = p
				break
			}
		}
		for _, p := range ps {
			if p == canon {
				continue
			}
			m := d.matched[p]
			if m.Reason == ReasonBusyboxBinary {
				m.Reason = ReasonBusyboxApplet
				m.Category, m.Tool = d.matched[canon].Category, d.matched[canon].Tool
				d.matched[p] = m
			}
		}
	}
	return nil
}

// findMarkers reports which markers the ELF file e contains. Only the
// read-only data sections are searched when the file has section headers,
// which is where C string literals and Go strings live; files without them
// are searched whole. A file that is not ELF contains none.
func findMarkers(ctx context.Context, src rootfs.Source, e rootfs.Entry, markers []string) (map[string]bool, error) {
	seen := map[string]bool{}
	isELF, err := elfdeps.IsELF(ctx, src, e.Path)
	if err != nil || !isELF {
		return seen, err
	}
	type span struct{ off, size int64 }
	spans := []span{{0, e.Size}}
	if f, err := elf.NewFile(rootfs.ReaderAt(ctx, src, e.Path, e.Size)); err == nil {
		var ro []span
		for _, s := range f.Sections {
			if s.Type == elf.SHT_PROGBITS && strings.HasPrefix(s.Name, ".rodata") {
				ro = append(ro, span{int64(s.Offset), int64(s.Size)})
			}
		}
		if len(ro) > 0 {
			spans = ro
		}
	} else if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	longest := 0
	for _, m := range markers {
		longest = max(longest, len(m))
	}
	for _, s := range spans {
		var carry []byte
		for off := s.off; off < s.off+s.size; off += scanChunk {
			n := min(int64(scanChunk), s.off+s.size-off)
			b, err := src.ReadFile(ctx, e.Path, off, n)
			if err != nil {
				return nil, fmt.Errorf("scanning %s: %w", e.Path, err)
			}
			// Keep the tail of the previous chunk so a marker split
			// across two reads is still seen.
			buf := append(carry, b...)
			for _, m := range markers {
				if !seen[m] && bytes.Contains(buf, []byte(m)) {
					seen[m] = true
				}
			}
			if len(seen) == len(markers) {
				return seen, nil
			}
			if len(buf) >= longest {
				carry = append([]byte(nil), buf[len(buf)-longest+1:]...)
			} else {
				carry = buf
			}
			if int64(len(b)) < n {
				break
			}
		}
	}
	return seen, nil
}

// hardlinks extends matches to every name of the same inode, as far as
// the tree records hard links (within one directory).
func (d *detector) hardlinks(entries []rootfs.Entry) {
	family := map[string][]string{} // first name → all names
	for _, e := range entries {
		if e.IsHardlink() {
			family[e.Linkname] = append(family[e.Linkname], e.Path)
		}
	}
	keys := make([]string, 0, len(family))
	for k := range family {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, first := range keys {
		members := append([]string{first}, family[first]...)
		var from *Match
		for _, p := range members {
			if m, ok := d.matched[p]; ok && !strings.HasPrefix(m.Reason, ReasonSameContentAs) {
				from = &m
				break
			}
		}
		if from == nil {
			continue
		}
		for _, p := range members {
			if d.multicall[from.Path] {
				d.multicall[p] = true
			}
			d.add(d.derived(p, *from, ReasonSameContentAs+from.Path))
		}
	}
}

// copies finds renamed copies of matched files: executables whose size
// equals a matched file's and whose SHA-256 then does too. Only files of
// a matching size are hashed.
func (d *detector) copies(ctx context.Context, candidates []rootfs.Entry) error {
	bySize := map[int64][]string{} // size → matched regular files, sorted
	for p, m := range d.matched {
		e, _ := d.t.Lookup(p)
		if e.IsRegular() && e.Size > 0 && m.Reason != ReasonPackageManagerData {
			bySize[e.Size] = append(bySize[e.Size], p)
		}
	}
	if len(bySize) == 0 {
		return nil
	}
	var suspects []rootfs.Entry
	need := map[string]bool{}
	for _, e := range candidates {
		if _, done := d.matched[e.Path]; done || !e.IsRegular() {
			continue
		}
		if ms, ok := bySize[e.Size]; ok {
			suspects = append(suspects, e)
			need[e.Path] = true
			for _, p := range ms {
				need[p] = true
			}
		}
	}
	if len(suspects) == 0 {
		return nil
	}
	hashes, err := d.hashAll(ctx, need)
	if err != nil {
		return err
	}
	for _, ms := range bySize {
		sort.Strings(ms)
	}
	for _, e := range suspects {
		for _, p := range bySize[e.Size] {
			if hashes[p] == hashes[e.Path] {
				d.add(d.derived(e.Path, d.matched[p], ReasonSameContentAs+p))
				if d.multicall[p] {
					d.multicall[e.Path] = true
				}
				break
			}
		}
	}
	return nil
}

func (d *detector) hashAll(ctx context.Context, paths map[string]bool) (map[string]string, error) {
	var mu sync.Mutex
	out := make(map[string]string, len(paths))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for p := range paths {
		g.Go(func() error {
			h, err := rootfs.SHA256(gctx, d.src, p)
			if err != nil {
				return err
			}
			mu.Lock()
			out[p] = h
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// symlinks matches every symlink, wherever it is, that resolves to a
// matched file: BusyBox applet links, /etc/alternatives entries.
func (d *detector) symlinks(entries []rootfs.Entry) {
	for _, e := range entries {
		if !e.IsSymlink() {
			continue
		}
		if _, done := d.matched[e.Path]; done {
			continue
		}
		phys, ok := d.t.Resolve(e.Path)
		if !ok {
			continue
		}
		if m, ok := d.matched[phys]; ok {
			if target, _ := d.t.Lookup(phys); target.IsRegular() {
				d.add(d.derived(e.Path, m, ReasonSymlinkTo+phys))
			}
		}
	}
}

// data matches package manager data paths. Only the topmost match of a
// subtree is reported.
func (d *detector) data() {
	for _, pat := range d.lists.PackageManagerData {
		if rootfs.ValidatePattern(pat) != nil {
			continue
		}
		root := literalPrefix(pat)
		paths := d.t.Below(root)
		if _, ok := d.t.Lookup(root); ok {
			paths = append([]string{root}, paths...)
		}
		covered := ""
		for _, p := range paths {
			if covered != "" && rootfs.IsUnder(p, covered) {
				continue
			}
			if !rootfs.Match(pat, p) {
				continue
			}
			covered = p
			if d.coveredByData(p) {
				continue
			}
			d.add(Match{Path: p, Category: PackageManager, Reason: ReasonPackageManagerData, Tool: pat})
		}
	}
}

// installerModules are language package installers recognised by the
// layout of their module directory, wherever it was copied: pip (its
// __main__.py and _internal package make `python3 -m pip` work from any
// directory on sys.path) and npm (bin/npm-cli.js under an npm directory).
var installerModules = []struct {
	name  string
	marks []string
}{
	{"pip", []string{"__main__.py", "_internal"}},
	{"npm", []string{"bin/npm-cli.js", "lib/npm.js"}},
}

// installerModules matches relocated installer modules: the path lists
// know where pip and npm are installed, not where a Dockerfile copies
// them to.
func (d *detector) installerModules(entries []rootfs.Entry) {
	if len(d.lists.PackageManagerData) == 0 {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || d.coveredByData(e.Path) {
			continue
		}
		for _, im := range installerModules {
			if path.Base(e.Path) != im.name {
				continue
			}
			all := true
			for _, m := range im.marks {
				_, ok := d.t.Lookup(path.Join(e.Path, m))
				all = all && ok
			}
			if all {
				d.add(Match{Path: e.Path, Category: PackageManager, Reason: ReasonPackageManagerData, Tool: im.name + " (module layout)"})
			}
		}
	}
}

func (d *detector) coveredByData(p string) bool {
	for _, q := range append(rootfs.Parents(p), p) {
		if m, ok := d.matched[q]; ok && m.Reason == ReasonPackageManagerData {
			return true
		}
	}
	return false
}

// literalPrefix is the directory above a pattern's first wildcard segment.
func literalPrefix(pat string) string {
	out := "/"
	for _, seg := range strings.Split(strings.Trim(rootfs.Clean(pat), "/"), "/") {
		if seg == "" || strings.ContainsAny(seg, "*?[\\") {
			break
		}
		out = path.Join(out, seg)
	}
	return out
}
