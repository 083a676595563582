// Command scanbench measures the throughput of image inspection (the
// secret scan and the other HK3xxx checks) in MB/s on two trees — the
// Debian minbase root filesystem of the dev environment and a generated
// 500 MB application-like tree — four ways, in the same run:
//
//	A  in-build scanner: the frontend image's own binary run as an LLB
//	   exec step over the tree, mounted read-only (frontend/inspect/scanstep)
//	B  gateway walk: inspect.Run over the solved tree, read through
//	   BuildKit's gateway ReadDir/ReadFile (rootfs.ReferenceSource)
//	C  the gitleaks CLI (`gitleaks dir`, built from the module's gitleaks)
//	   on the tree in a local directory; on the synthetic tree, on its first
//	   50 MiB (-gitleaks-sample) with the times scaled to the whole tree,
//	   as gitleaks needs about a CPU-second per MB of it
//	D  inspect.ScanDir on the same local directory, in this process
//
// and prints seconds and MB/s for each with the throughput ratios A/B,
// A/C and D/C (higher = faster). MB are 10^6 bytes of regular files.
// Times are wall clock, the median of -runs runs; nothing is asserted.
// The CPU time of C and D is printed too: the machine may be shared.
//
//	make bench   (starts the dev environment, then runs this)
//	. out/bench-env.sh && go run ./integration/cmd/scanbench -runs 3
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanbench:", err)
		os.Exit(1)
	}
}

type config struct {
	addr, frontend, debianImage, debianTar, gitleaks, work string
	trees                                                  string
	sizeMiB, gitleaksSampleMiB                             int64
	runs                                                   int
	progress                                               bool
	budget                                                 time.Duration
	log                                                    io.Writer
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := config{log: stderr}
	tarPath, _ := secretstest.DebianMinbaseTar()
	fs := flag.NewFlagSet("scanbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", os.Getenv("BUILDKIT_HOST"), "buildkitd address")
	fs.StringVar(&c.frontend, "frontend", os.Getenv("HARDENKIT_FRONTEND"), "frontend image holding the in-build scanner (A)")
	fs.StringVar(&c.debianImage, "debian-image", os.Getenv("HARDENKIT_BASE_DEBIAN"), "Debian minbase image BuildKit scans (A, B); empty: send the extracted -debian-tar as a local source")
	fs.StringVar(&c.debianTar, "debian-tar", tarPath, "Debian minbase rootfs tarball the dev environment caches (C, D)")
	fs.StringVar(&c.gitleaks, "gitleaks", "", "gitleaks binary; empty: build it from the module (go build github.com/zricethezav/gitleaks/v8)")
	fs.StringVar(&c.work, "work", "", "directory for the extracted and generated trees; empty: a temporary directory, removed afterwards")
	fs.StringVar(&c.trees, "trees", "debian,synthetic", "trees to measure, comma-separated")
	fs.Int64Var(&c.sizeMiB, "size", 500, "size of the synthetic tree, MiB")
	fs.Int64Var(&c.gitleaksSampleMiB, "gitleaks-sample", 50, "gitleaks needs about a CPU-second per MB of the synthetic tree: it scans the tree's first directories up to this many MiB (whole directories, the same mix of files) and its times are scaled to the whole tree; 0: the whole tree")
	fs.BoolVar(&c.progress, "progress", false, "show BuildKit's progress (plain) on stderr")
	fs.IntVar(&c.runs, "runs", 3, "runs per measurement (the median is reported)")
	fs.DurationVar(&c.budget, "budget", 90*time.Second, "stop repeating a measurement once its runs took this long (at least one run is made)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if benchPolicy, err = policy.Baseline("strict"); err != nil {
		return err
	}
	if c.addr == "" {
		return errors.New("no buildkitd: set BUILDKIT_HOST or -addr (make bench starts the dev environment)")
	}
	if c.frontend == "" {
		return errors.New("no frontend image for the in-build scanner: set HARDENKIT_FRONTEND or -frontend")
	}

	work := c.work
	if work == "" {
		d, err := os.MkdirTemp("", "hardenkit-scanbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if c.gitleaks == "" {
		c.gitleaks = filepath.Join(work, "gitleaks")
		fmt.Fprintln(c.log, "scanbench: building gitleaks from the module")
		if err := goBuild(ctx, c.gitleaks, "github.com/zricethezav/gitleaks/v8"); err != nil {
			return err
		}
	}
	bk, err := dialBuildkit(ctx, c.addr)
	if err != nil {
		return err
	}
	defer bk.Close()

	var rows []row
	for _, name := range strings.Split(c.trees, ",") {
		t, err := prepare(ctx, c, strings.TrimSpace(name), work)
		if err != nil {
			return err
		}
		r, err := measure(ctx, c, bk, t)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		rows = append(rows, r)
		for _, d := range []string{t.dir, t.sample} {
			if err := os.RemoveAll(d); err != nil {
				return err
			}
		}
	}
	return report(stdout, c, rows)
}

// tree is one tree to scan: a local directory for C and D and the same
// content as an LLB state for A and B.
type tree struct {
	name string
	// dir is the tree extracted or generated locally.
	dir string
	// bytes is the size of its regular files (hard links counted as
	// often as they occur, as the scanners read them).
	bytes int64
	// files is the number of regular files.
	files int
	// remote describes where A and B read the tree from.
	remote remoteTree
	// planted counts the planted secrets by kind; nil for the Debian tree.
	planted map[string]int
	// sample, when not empty, is the part of the tree gitleaks scans:
	// hard links to its first directories, sampleBytes of regular files.
	sample      string
	sampleBytes int64
}

func prepare(ctx context.Context, c config, name, work string) (tree, error) {
	t := tree{name: name, dir: filepath.Join(work, name)}
	if err := os.RemoveAll(t.dir); err != nil {
		return t, err
	}
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return t, err
	}
	switch name {
	case "debian":
		if _, err := os.Stat(c.debianTar); err != nil {
			return t, fmt.Errorf("the Debian minbase rootfs is not cached (%w): run `go run ./integration/cmd/devenv up` once", err)
		}
		fmt.Fprintf(c.log, "scanbench: extracting %s\n", c.debianTar)
		if err := secretstest.ExtractTar(c.debianTar, t.dir); err != nil {
			return t, err
		}
		if c.debianImage != "" {
			t.remote = remoteTree{image: c.debianImage}
		} else {
			t.remote = remoteTree{local: t.dir}
		}
	case "synthetic":
		fmt.Fprintf(c.log, "scanbench: generating a %d MiB tree\n", c.sizeMiB)
		s, err := secretstest.WriteSynthetic(t.dir, c.sizeMiB<<20)
		if err != nil {
			return t, err
		}
		t.planted = s.Planted
		t.remote = remoteTree{local: t.dir}
		if c.gitleaksSampleMiB > 0 && c.gitleaksSampleMiB < c.sizeMiB {
			t.sample = t.dir + ".sample"
			if t.sampleBytes, err = linkSample(t.dir, t.sample, c.gitleaksSampleMiB<<20); err != nil {
				return t, err
			}
		}
	default:
		return t, fmt.Errorf("unknown tree %q (debian, synthetic)", name)
	}
	loaded, err := rootfs.Load(ctx, rootfs.DirSource(t.dir))
	if err != nil {
		return t, err
	}
	t.bytes, t.files = regularBytes(loaded)
	return t, nil
}

// linkSample hard-links the first top-level directories of dir, in name
// order, into sample until they hold at least limit bytes of regular
// files, and returns how many they hold.
func linkSample(dir, sample string, limit int64) (int64, error) {
	if err := os.RemoveAll(sample); err != nil {
		return 0, err
	}
	tops, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, top := range tops {
		if n >= limit {
			break
		}
		err := filepath.WalkDir(filepath.Join(dir, top.Name()), func(p string, e iofs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			dst := filepath.Join(sample, rel)
			if e.IsDir() {
				return os.MkdirAll(dst, 0o755)
			}
			fi, err := e.Info()
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("%s: not a regular file", p)
			}
			n += fi.Size()
			return os.Link(p, dst)
		})
		if err != nil {
			return 0, fmt.Errorf("linking a sample of %s: %w", dir, err)
		}
	}
	return n, nil
}

// regularBytes sums the sizes of t's regular files.
func regularBytes(t *rootfs.Tree) (int64, int) {
	var n int64
	var files int
	for _, e := range t.Entries() {
		if e.IsRegular() {
			n += e.Size
			files++
		}
	}
	return n, files
}

// timing is one measurement: the median of its runs and what the scan
// found.
type timing struct {
	median time.Duration
	runs   int
	// secrets is the number of secret findings: HK3052 for the
	// inspection, the report's leaks for gitleaks.
	secrets int
	// findings is the number of findings of every rule (inspection only).
	findings int
	// cpu is the median CPU time (user + system) of the runs, where this
	// process can see it: C (the gitleaks process) and D (this process).
	cpu time.Duration
	err error
}

type row struct {
	tree       tree
	a, b, c, d timing
	// remoteBytes is the size of the tree BuildKit holds (B's walk).
	remoteBytes int64
}

// benchPolicy is the policy every inspection runs with: the strict
// baseline, the default policy of a build. It is set by run.
var benchPolicy *policy.Policy

// benchImage is the image config the inspection runs with: it only
// matters to the config checks, which cost nothing next to the scan.
func benchImage() *dockerspec.DockerOCIImage {
	img := &dockerspec.DockerOCIImage{}
	img.Platform = ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	img.Config.User = "65532:65532"
	img.Config.Entrypoint = []string{"/bin/true"}
	return img
}

func measure(ctx context.Context, c config, bk buildkit, t tree) (row, error) {
	r := row{tree: t}
	fmt.Fprintf(c.log, "scanbench: %s: %.1f MB in %d files\n", t.name, float64(t.bytes)/1e6, t.files)

	fmt.Fprintf(c.log, "scanbench: %s: D inspect.ScanDir\n", t.name)
	r.d = repeat(c, func() (timing, error) {
		cpu0 := selfCPU()
		res, err := inspect.ScanDirScope(ctx, t.dir, benchImage(), benchPolicy, inspect.ScopeFilesystem)
		tm := countFindings(res)
		tm.cpu = selfCPU() - cpu0
		return tm, err
	})

	fmt.Fprintf(c.log, "scanbench: %s: C gitleaks dir\n", t.name)
	dir := cmp.Or(t.sample, t.dir)
	r.c = repeat(c, func() (timing, error) { return runGitleaks(ctx, c.gitleaks, dir) })
	if t.sample != "" {
		scale := float64(t.bytes) / float64(t.sampleBytes)
		r.c.median = time.Duration(float64(r.c.median) * scale)
		r.c.cpu = time.Duration(float64(r.c.cpu) * scale)
	}

	var err error
	r.a, r.b, r.remoteBytes, err = bk.measure(ctx, c, t)
	if err != nil {
		return r, err
	}
	return r, nil
}

// repeat runs f up to c.runs times, fewer once the runs took c.budget,
// and returns the median time and CPU time and the last run's findings.
func repeat(c config, f func() (timing, error)) timing {
	var ds, cpus []time.Duration
	var last timing
	var total time.Duration
	for range max(c.runs, 1) {
		start := time.Now()
		tm, err := f()
		d := time.Since(start)
		if err != nil {
			return timing{err: err}
		}
		last = tm
		ds = append(ds, d)
		cpus = append(cpus, tm.cpu)
		total += d
		fmt.Fprintf(c.log, "scanbench:   %.2fs\n", d.Seconds())
		if total >= c.budget {
			break
		}
	}
	slices.Sort(ds)
	slices.Sort(cpus)
	last.median = ds[len(ds)/2]
	last.cpu = cpus[len(cpus)/2]
	last.runs = len(ds)
	return last
}

// countFindings counts res's findings.
func countFindings(res inspect.Result) timing {
	var tm timing
	for _, f := range res.Findings {
		tm.findings++
		if f.Rule == "HK3052" {
			tm.secrets++
		}
	}
	return tm
}

// runGitleaks scans dir with `gitleaks dir` and counts the leaks it
// reports. The report (redacted) goes to a temporary file, never to the
// output.
func runGitleaks(ctx context.Context, bin, dir string) (timing, error) {
	rep, err := os.CreateTemp("", "scanbench-gitleaks-*.json")
	if err != nil {
		return timing{}, err
	}
	rep.Close()
	defer os.Remove(rep.Name())
	cmd := exec.CommandContext(ctx, bin, "dir", "--no-banner", "--no-color", "--log-level", "error",
		"--exit-code", "0", "--redact", "--report-format", "json", "--report-path", rep.Name(), dir)
	// gitleaks looks for a .gitleaksignore in its working directory.
	cmd.Dir = os.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return timing{}, fmt.Errorf("gitleaks dir %s: %w\n%s", dir, err, out.String())
	}
	dt, err := os.ReadFile(rep.Name())
	if err != nil {
		return timing{}, err
	}
	var leaks []json.RawMessage
	if err := json.Unmarshal(dt, &leaks); err != nil {
		return timing{}, fmt.Errorf("gitleaks report: %w", err)
	}
	return timing{secrets: len(leaks), findings: -1, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, nil
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// goBuild builds the Go package pkg of this module as out.
func goBuild(ctx context.Context, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s %s: %w\n%s", out, pkg, err, b.String())
	}
	return nil
}

func report(w io.Writer, c config, rows []row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tree\tsize MB\tfiles\tA s\tA MB/s\tB s\tB MB/s\tC s\tC MB/s\tD s\tD MB/s\tA/B\tA/C\tD/C\t")
	for _, r := range rows {
		mb := float64(r.tree.bytes) / 1e6
		cells := []string{r.tree.name, fmt.Sprintf("%.1f", mb), fmt.Sprint(r.tree.files)}
		for i, t := range []timing{r.a, r.b, r.c, r.d} {
			if t.err != nil {
				cells = append(cells, "error", "error")
				continue
			}
			mark := ""
			if i == 2 && r.tree.sample != "" {
				mark = "*"
			}
			cells = append(cells, fmt.Sprintf("%.2f%s", t.median.Seconds(), mark), fmt.Sprintf("%.1f%s", mb/t.median.Seconds(), mark))
		}
		for _, p := range [][2]timing{{r.a, r.b}, {r.a, r.c}, {r.d, r.c}} {
			if p[0].err != nil || p[1].err != nil {
				cells = append(cells, "-")
				continue
			}
			// Throughput ratio: the inverse of the time ratio.
			cells = append(cells, fmt.Sprintf("%.2f", p[1].median.Seconds()/p[0].median.Seconds()))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "A in-build scanner (LLB exec, tree mounted read-only)  B gateway ReadDir/ReadFile walk  C gitleaks dir (CLI)  D inspect.ScanDir (library, local dir)")
	fmt.Fprintln(w, "MB = 10^6 bytes of regular files; s = median wall clock; ratios are of throughput (higher = the first is faster)")
	var errs []error
	for _, r := range rows {
		fmt.Fprintf(w, "%s: runs A %d, B %d, C %d, D %d; secrets found: A %d, B %d, C %d (gitleaks leaks), D %d; findings of all rules: A %d, B %d, D %d",
			r.tree.name, r.a.runs, r.b.runs, r.c.runs, r.d.runs, r.a.secrets, r.b.secrets, r.c.secrets, r.d.secrets, r.a.findings, r.b.findings, r.d.findings)
		if r.tree.planted != nil {
			kinds := make([]string, 0, len(r.tree.planted))
			for k, n := range r.tree.planted {
				kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
			}
			slices.Sort(kinds)
			fmt.Fprintf(w, "; planted: %s", strings.Join(kinds, ", "))
		}
		fmt.Fprintln(w)
		if r.tree.sample != "" {
			fmt.Fprintf(w, "%s: * gitleaks scanned a %.1f MB sample (the first directories, the same mix of files; its leaks above are the sample's) and its times are scaled to the whole tree (-gitleaks-sample 0 scans it all)\n",
				r.tree.name, float64(r.tree.sampleBytes)/1e6)
		}
		if r.c.err == nil && r.d.err == nil && r.c.cpu > 0 && r.d.cpu > 0 {
			fmt.Fprintf(w, "%s: CPU seconds (the machine may be shared): C %.2f, D %.2f; D/C by CPU time %.2f\n",
				r.tree.name, r.c.cpu.Seconds(), r.d.cpu.Seconds(), r.c.cpu.Seconds()/r.d.cpu.Seconds())
		}
		if r.b.err == nil && r.remoteBytes != r.tree.bytes {
			fmt.Fprintf(w, "%s: note: the tree BuildKit holds has %.1f MB of regular files, the local one %.1f MB\n",
				r.tree.name, float64(r.remoteBytes)/1e6, float64(r.tree.bytes)/1e6)
		}
		for i, t := range []timing{r.a, r.b, r.c, r.d} {
			if t.err != nil {
				errs = append(errs, fmt.Errorf("%s: %c: %w", r.tree.name, 'A'+i, t.err))
			}
		}
	}
	return errors.Join(errs...)
}
