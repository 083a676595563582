package tooling

// Copies of programs that are not tools. A package's executable that the
// image does not run is left out (pkg/keep's allowlist), but a copy of it
// under another name, which no package owns, used to ship as "added by the
// final stage": `COPY --from=debian:bookworm /usr/bin/perl /app/bin/worker`
// is perl whatever it is called, and the final base's own /usr/bin/perl,
// which does not ship, was never compared with it, since similar.go only
// compares with tools. Programs compares a file with every program of a
// set (a tree's package commands) and BestKnown with the programs another
// source of the build knows (Known without a Category), by the same
// measure (Compare).

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Programs is a set of a tree's regular files that a file may be a copy or
// near-copy of. It reads lazily: the first Similar reads the ELF headers of
// every file once, and each Similar fingerprints only the files whose sizes
// can match, so a tree with hundreds of commands costs little when nothing
// is a copy.
type Programs struct {
	src   rootfs.Source
	files []rootfs.Entry

	once   sync.Once
	shapes []shape
	err    error

	mu     sync.Mutex
	prints map[string]Fingerprint
}

// shape is what a file's ELF headers say about its sizes: its .text and
// data sections (name → size).
type shape struct {
	text uint64
	data map[string]uint64
}

// NewPrograms returns the set of files (regular files of src).
func NewPrograms(src rootfs.Source, files []rootfs.Entry) *Programs {
	return &Programs{src: src, files: files, prints: map[string]Fingerprint{}}
}

// Similar returns the file of the set that fp is the same program as (the
// most similar one, Compare), how, and the score.
func (p *Programs) Similar(ctx context.Context, fp Fingerprint) (rootfs.Entry, string, float64, bool, error) {
	// A file that is not ELF can only be an exact copy: no header needs
	// reading for it.
	isELF := fp.TextSize > 0 || len(fp.Sections) > 0
	if isELF {
		p.once.Do(func() { p.err = p.readShapes(ctx) })
		if p.err != nil {
			return rootfs.Entry{}, "", 0, false, p.err
		}
	}
	var best rootfs.Entry
	bestHow, bestScore, found := "", 0.0, false
	for i, e := range p.files {
		if e.Size != fp.Size && (!isELF || !p.shapes[i].mayMatch(fp)) {
			continue
		}
		other, err := p.print(ctx, e)
		if err != nil {
			return rootfs.Entry{}, "", 0, false, err
		}
		if how, score, same := Compare(fp, other); same && score > bestScore {
			best, bestHow, bestScore, found = e, how, score, true
		}
	}
	return best, bestHow, bestScore, found, nil
}

// mayMatch reports whether a file of shape s can be the same program as
// the ELF file fp: same .text size, or a data section of the same name
// and size.
func (s shape) mayMatch(fp Fingerprint) bool {
	if fp.TextSize > 0 && s.text == fp.TextSize {
		return true
	}
	for name, sec := range fp.Sections {
		if s.data[name] == sec.Size {
			return true
		}
	}
	return false
}

func (p *Programs) readShapes(ctx context.Context) error {
	p.shapes = make([]shape, len(p.files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for i, e := range p.files {
		g.Go(func() error {
			f, ok, err := openELF(gctx, p.src, e)
			if err != nil || !ok {
				return err
			}
			s := shape{data: map[string]uint64{}}
			for _, sec := range f.Sections {
				switch {
				case sec.Name == ".text" && sec.Size >= minText:
					s.text = sec.Size
				case isDataSection(sec.Name) && sec.Size >= minDataSection:
					s.data[sec.Name] = sec.Size
				}
			}
			p.shapes[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("reading the headers of programs: %w", err)
	}
	return nil
}

// print fingerprints e once.
func (p *Programs) print(ctx context.Context, e rootfs.Entry) (Fingerprint, error) {
	p.mu.Lock()
	fp, ok := p.prints[e.Path]
	p.mu.Unlock()
	if ok {
		return fp, nil
	}
	fp, err := FingerprintFile(ctx, p.src, e)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("fingerprinting %s: %w", e.Path, err)
	}
	p.mu.Lock()
	p.prints[e.Path] = fp
	p.mu.Unlock()
	return fp, nil
}

// BestKnown returns the entry of known that fp is most similar to among
// those accept takes (Compare), with how and the score.
func BestKnown(fp Fingerprint, known []Known, accept func(Known) bool) (Known, string, float64, bool) {
	var best Known
	bestHow, bestScore, found := "", 0.0, false
	for _, k := range known {
		if !accept(k) {
			continue
		}
		if how, score, same := Compare(fp, k.Print); same && score > bestScore {
			best, bestHow, bestScore, found = k, how, score, true
		}
	}
	return best, bestHow, bestScore, found
}
