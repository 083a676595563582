package tooling

// Similarity of executables: a tool copied under a new name with bytes
// appended (a NUL, a signature, an archive) or a few bytes patched is
// still the same program, although its SHA-256 is not the original's. An
// ELF file's code and read-only data are its program; what an attacker
// can change without breaking it is little of either. A Fingerprint holds
//
//   - the SHA-256 of the whole file (an exact copy, ELF or not);
//   - the .text section cut into at most maxBlocks equal blocks (at least
//     minBlock bytes each), each block's digest: patching bytes changes
//     the blocks they fall in, appending bytes changes none, since
//     sections do not move;
//   - digests of the read-only data sections (.rodata, .dynstr, .dynsym,
//     .data.rel.ro) with their sizes.
//
// Two files are the same program (Compare) when their .text sections have
// the same size of at least minText bytes and at least textThreshold of
// their blocks are equal, or when at least two data sections of at least
// minDataSection bytes each are equal. The thresholds are documented in
// docs/distroless.md. Out of reach by construction: a program recompiled
// (other code, other addresses), packed (UPX) or written by the user.

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/hardenkit/hardenkit/pkg/elfdeps"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Similarity thresholds (docs/distroless.md, "Similarity").
const (
	// minText is the smallest .text section compared block-wise: below
	// it, every tiny program is alike.
	minText = 1024
	// minBlock and maxBlocks size the .text blocks: the block is the
	// .text size over maxBlocks, at least minBlock bytes (a page).
	minBlock  = 4096
	maxBlocks = 64
	// textThreshold is the share of equal .text blocks that makes two
	// programs the same.
	textThreshold = 0.5
	// minDataSection is the smallest data section that counts, and
	// minDataSections how many must be equal.
	minDataSection  = 512
	minDataSections = 2
	// maxFingerprinted is the largest file fingerprinted: larger
	// executables (a JDK's modules file, a bundled runtime) are not tools.
	maxFingerprinted = 256 << 20
)

// dataSections are the read-only data sections a Fingerprint digests.
var dataSections = []string{".rodata", ".dynstr", ".dynsym", ".data.rel.ro"}

// Section is the size and digest of one section.
type Section struct {
	Size   uint64 `json:"size"`
	Digest string `json:"digest"`
}

// Fingerprint describes a file so that copies and near-copies of it can be
// recognised (see Compare).
type Fingerprint struct {
	// Size is the file's size and SHA256 its digest.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// TextSize is the .text section's size, TextBlocks the first 8 bytes
	// of each block's SHA-256; both zero for a file that is not ELF.
	TextSize   uint64   `json:"textSize,omitempty"`
	TextBlocks []uint64 `json:"textBlocks,omitempty"`
	// Sections are the data sections present, by name.
	Sections map[string]Section `json:"sections,omitempty"`
}

// Known is a tool known from elsewhere in the build — another stage, a
// base image, the frontend's catalog — that a file of the analysed tree
// may be a copy of. One without a Category is a program that is no tool
// (a package's command there, perl or python3): Detect ignores it, and
// pkg/keep judges a copy of it as that package's executable.
type Known struct {
	// Tool and Category are what the tool is.
	Tool     string   `json:"tool"`
	Category Category `json:"category"`
	// Origin says where it is known from and why it is a tool ("stage
	// builder /usr/bin/socat: package socat, section net").
	Origin string      `json:"origin"`
	Print  Fingerprint `json:"print"`
}

// FingerprintFile fingerprints the regular file e of src.
func FingerprintFile(ctx context.Context, src rootfs.Source, e rootfs.Entry) (Fingerprint, error) {
	sum, err := rootfs.SHA256(ctx, src, e.Path)
	if err != nil {
		return Fingerprint{}, err
	}
	fp := Fingerprint{Size: e.Size, SHA256: sum}
	f, ok, err := openELF(ctx, src, e)
	if err != nil || !ok {
		return fp, err
	}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS && s.Type != elf.SHT_STRTAB && s.Type != elf.SHT_DYNSYM {
			continue
		}
		switch {
		case s.Name == ".text" && s.Size >= minText:
			if fp.TextBlocks, err = textBlocks(ctx, src, e.Path, s); err != nil {
				return Fingerprint{}, err
			}
			fp.TextSize = s.Size
		case isDataSection(s.Name) && s.Size >= minDataSection:
			b, err := src.ReadFile(ctx, e.Path, int64(s.Offset), int64(s.Size))
			if err != nil {
				return Fingerprint{}, fmt.Errorf("reading %s of %s: %w", s.Name, e.Path, err)
			}
			d := sha256.Sum256(b)
			if fp.Sections == nil {
				fp.Sections = map[string]Section{}
			}
			fp.Sections[s.Name] = Section{Size: s.Size, Digest: hex.EncodeToString(d[:16])}
		}
	}
	return fp, nil
}

// openELF parses e's ELF headers; ok is false for a file that is not ELF
// or whose headers do not parse (it is then compared by SHA256 only).
func openELF(ctx context.Context, src rootfs.Source, e rootfs.Entry) (*elf.File, bool, error) {
	if !e.IsRegular() || e.Size <= 64 || e.Size > maxFingerprinted {
		return nil, false, nil
	}
	isELF, err := elfdeps.IsELF(ctx, src, e.Path)
	if err != nil || !isELF {
		return nil, false, err
	}
	f, err := elf.NewFile(rootfs.ReaderAt(ctx, src, e.Path, e.Size))
	if err != nil {
		return nil, false, ctx.Err()
	}
	return f, true, nil
}

func isDataSection(name string) bool {
	for _, d := range dataSections {
		if d == name {
			return true
		}
	}
	return false
}

// blockSize is the .text block size for a section of size n.
func blockSize(n uint64) uint64 {
	b := (n + maxBlocks - 1) / maxBlocks
	return max(minBlock, (b+minBlock-1)/minBlock*minBlock)
}

func textBlocks(ctx context.Context, src rootfs.Source, p string, s *elf.Section) ([]uint64, error) {
	bs := blockSize(s.Size)
	var out []uint64
	for off := uint64(0); off < s.Size; off += bs {
		n := min(bs, s.Size-off)
		b, err := src.ReadFile(ctx, p, int64(s.Offset+off), int64(n))
		if err != nil {
			return nil, fmt.Errorf("reading .text of %s: %w", p, err)
		}
		d := sha256.Sum256(b)
		out = append(out, binary.BigEndian.Uint64(d[:8]))
	}
	return out, nil
}

// Compare says whether a and b are the same program, and how: "identical"
// (same bytes), "code" (the share of equal .text blocks, at least
// textThreshold) or "data" (equal data sections).
func Compare(a, b Fingerprint) (how string, score float64, same bool) {
	if a.SHA256 != "" && a.SHA256 == b.SHA256 {
		return "identical", 1, true
	}
	if a.TextSize >= minText && a.TextSize == b.TextSize && len(a.TextBlocks) == len(b.TextBlocks) && len(a.TextBlocks) > 0 {
		eq := 0
		for i := range a.TextBlocks {
			if a.TextBlocks[i] == b.TextBlocks[i] {
				eq++
			}
		}
		score = float64(eq) / float64(len(a.TextBlocks))
		if score >= textThreshold {
			return "code", score, true
		}
	}
	eq := 0
	for name, s := range a.Sections {
		if o, ok := b.Sections[name]; ok && o == s && s.Size >= minDataSection {
			eq++
		}
	}
	if eq >= minDataSections {
		return "data", float64(eq) / float64(len(dataSections)), true
	}
	return "", score, false
}

// sizes are the sizes a fingerprint can match on without reading the
// candidate's content: its file size (an exact copy), its .text size and
// its data sections' sizes.
type sizes struct {
	file map[int64]bool
	text map[uint64]bool
	data map[Section]bool // Digest empty: name-less (size only)
}

func newSizes(fps []Fingerprint) sizes {
	s := sizes{file: map[int64]bool{}, text: map[uint64]bool{}, data: map[Section]bool{}}
	for _, fp := range fps {
		s.file[fp.Size] = true
		if fp.TextSize > 0 {
			s.text[fp.TextSize] = true
		}
		for _, sec := range fp.Sections {
			s.data[Section{Size: sec.Size}] = true
		}
	}
	return s
}

// mayMatch reports whether the file e could match one of s: by size, or
// (for ELF) by the size of its .text or of a data section. It reads only
// ELF headers.
func (s sizes) mayMatch(ctx context.Context, src rootfs.Source, e rootfs.Entry) (bool, error) {
	if s.file[e.Size] {
		return true, nil
	}
	f, ok, err := openELF(ctx, src, e)
	if err != nil || !ok {
		return false, err
	}
	for _, sec := range f.Sections {
		if sec.Name == ".text" && s.text[sec.Size] {
			return true, nil
		}
		if isDataSection(sec.Name) && sec.Size >= minDataSection && s.data[Section{Size: sec.Size}] {
			return true, nil
		}
	}
	return false, nil
}

// reference is a fingerprinted tool a candidate is compared with.
type reference struct {
	print  Fingerprint
	from   Match  // the tree's own match, when the tool is in the tree
	origin string // where a Known tool is from
}

// similar matches the executables that are the same program as a tool
// matched so far in the tree or as a Known tool (see Compare).
func (d *detector) similar(ctx context.Context, candidates []rootfs.Entry) error {
	var todo []rootfs.Entry
	for _, e := range candidates {
		if _, done := d.matched[e.Path]; !done && e.IsRegular() && !e.IsHardlink() && e.Size > 64 {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	refs, err := d.references(ctx)
	if err != nil || len(refs) == 0 {
		return err
	}
	prints := make([]Fingerprint, len(refs))
	for i, r := range refs {
		prints[i] = r.print
	}
	sz := newSizes(prints)
	found := make([]*Match, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for i, e := range todo {
		g.Go(func() error {
			m, err := d.compare(gctx, e, refs, sz)
			found[i] = m
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("comparing executables with known tools: %w", err)
	}
	for _, m := range found {
		if m != nil {
			d.add(*m)
		}
	}
	return nil
}

// compare fingerprints e when its sizes allow a match and returns the
// match with the most similar reference, if any.
func (d *detector) compare(ctx context.Context, e rootfs.Entry, refs []reference, sz sizes) (*Match, error) {
	if ok, err := sz.mayMatch(ctx, d.src, e); err != nil || !ok {
		return nil, err
	}
	fp, err := FingerprintFile(ctx, d.src, e)
	if err != nil {
		return nil, err
	}
	var best *Match
	bestScore := 0.0
	for _, r := range refs {
		how, score, same := Compare(fp, r.print)
		if !same || score <= bestScore {
			continue
		}
		bestScore = score
		var m Match
		if r.origin == "" {
			m = d.derived(e.Path, r.from, ReasonSimilarTo+r.from.Path)
		} else {
			m = Match{Path: e.Path, Category: r.from.Category, Tool: r.from.Tool, Reason: ReasonSimilarTo + r.origin}
		}
		if how != "identical" {
			m.Reason += fmt.Sprintf(" (%s, %.0f%%)", how, score*100)
		}
		best = &m
	}
	return best, nil
}

// references fingerprints the regular files matched so far and adds the
// Known tools of the categories being looked for.
func (d *detector) references(ctx context.Context) ([]reference, error) {
	var refs []reference
	for _, k := range d.lists.Known {
		if d.lists.Enabled(k.Category) {
			refs = append(refs, reference{print: k.Print, from: Match{Category: k.Category, Tool: k.Tool}, origin: k.Origin})
		}
	}
	var own []Match
	for _, m := range d.matched {
		e, _ := d.t.Lookup(m.Path)
		if e.IsRegular() && !e.IsHardlink() && e.Size > 64 && m.Reason != ReasonPackageManagerData {
			own = append(own, m)
		}
	}
	sort.Slice(own, func(i, j int) bool { return own[i].Path < own[j].Path })
	prints := make([]Fingerprint, len(own))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for i, m := range own {
		g.Go(func() error {
			e, _ := d.t.Lookup(m.Path)
			fp, err := FingerprintFile(gctx, d.src, e)
			prints[i] = fp
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("fingerprinting tools: %w", err)
	}
	for i, m := range own {
		refs = append(refs, reference{print: prints[i], from: m})
	}
	return refs, nil
}
