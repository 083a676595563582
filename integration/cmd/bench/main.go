// Command bench measures what hardening costs and saves, against plain
// BuildKit in the same run, the way users build: buildctl with BuildKit's
// dockerfile.v0, once for the Dockerfile as it is and once with
// `# syntax=<hardenkit frontend image>` as its first line. For each example,
// a Debian image with one small dynamically linked binary, and a 1 GiB /
// 102,400-file image, it prints image sizes, cold (--no-cache) and cached
// build times with their ratios, the wall time of hardenkit's own steps
// and the throughput of that hardening pass, and whether the ratios meet
// the targets of issue 16.
//
//	make bench   (starts the dev environment, then runs this)
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/hardenkit/hardenkit/pkg/ocilayout"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	addr, frontend, buildctl, examples string
	runs                               int
	big                                bool
	only                               string
}

// benchCase is one build context measured both ways.
type benchCase struct {
	name string
	// context is the build context; dockerfile the directory holding its
	// Dockerfile (and the policy beside it).
	context, dockerfile string
	// compression of the exported layers; large cases skip compressing
	// 1 GiB of random bytes, which would measure gzip, not the build.
	compression string
	// once: measured with one build each way, whatever -runs says (every
	// cold build of the large case leaves about 4 GB in the build cache).
	once bool
}

func run(ctx context.Context, args []string, w io.Writer) error {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", os.Getenv("BUILDKIT_HOST"), "buildkitd address")
	fs.StringVar(&c.frontend, "frontend", os.Getenv("HARDENKIT_FRONTEND"), "hardenkit frontend image, as in # syntax=")
	fs.StringVar(&c.buildctl, "buildctl", "bin/buildctl", "buildctl CLI")
	fs.StringVar(&c.examples, "examples", "examples", "directory of example build contexts")
	fs.IntVar(&c.runs, "runs", 1, "builds per measurement (the median is reported)")
	fs.BoolVar(&c.big, "big", true, "also measure a 1 GiB / 102,400-file image")
	fs.StringVar(&c.only, "cases", "", "measure only the cases whose name matches this regular expression")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.addr == "" || c.frontend == "" {
		return errors.New("no buildkitd or frontend image: set BUILDKIT_HOST and HARDENKIT_FRONTEND (make bench starts the dev environment)")
	}
	tmp, err := os.MkdirTemp("", "hardenkit-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	cases, err := exampleCases(c.examples)
	if err != nil {
		return err
	}
	gen, err := generatedCases(tmp, c.big)
	if err != nil {
		return err
	}
	cases = append(cases, gen...)
	if c.only != "" {
		re, err := regexp.Compile(c.only)
		if err != nil {
			return fmt.Errorf("-cases: %w", err)
		}
		cases = slices.DeleteFunc(cases, func(bc benchCase) bool { return !re.MatchString(bc.name) })
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tplain size\thardened size\tplain cold\thardenkit cold\tcold ratio\tplain cached\thardenkit cached\tcached ratio\tsteps (cold)\tanalysis (cold)\tanalysis MB/s\tsteps MB/s\t")
	var verdicts []string
	for _, bc := range cases {
		r, err := measure(ctx, c, bc, filepath.Join(tmp, bc.name))
		if err != nil {
			return fmt.Errorf("%s: %w", bc.name, err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%.2f\t%s\t%s\t%.0f\t%.0f\t\n", bc.name,
			mib(r.plainSize), mib(r.hardSize),
			secs(r.plainCold), secs(r.hardCold), ratio(r.hardCold, r.plainCold),
			secs(r.plainCached), secs(r.hardCached), ratio(r.hardCached, r.plainCached),
			secs(r.steps.all), secs(r.steps.analysis), r.throughput(false), r.throughput(true))
		verdicts = append(verdicts, r.verdict(bc.name))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "sizes: bytes of the flattened root filesystem; times: median of %d build(s) with buildctl (the 1 GiB case: one), plain and hardenkit alternating; ratio = hardenkit / plain\n", c.runs)
	fmt.Fprintln(w, "steps: wall time during which any [hardenkit] step ran in the cold build (BuildKit's copies that write the hardened layer included); analysis: the steps that run hardenkit's code over a filesystem (list the base, decide, verify, inspect, SBOM); MB/s: hardened filesystem bytes / that time")
	fmt.Fprintln(w, "targets: cached ≤ 1.05× (or ≤ +0.3 s), cold ≤ 1.25× (or ≤ +2 s under 5 s plain), hardening ≥ 100 MB/s on the large tree")
	for _, v := range verdicts {
		fmt.Fprintln(w, v)
	}
	return nil
}

// exampleCases are the examples, each with its own policy.
func exampleCases(dir string) ([]benchCase, error) {
	dfs, err := filepath.Glob(filepath.Join(dir, "*", "Dockerfile"))
	if err != nil {
		return nil, err
	}
	var out []benchCase
	for _, df := range dfs {
		d := filepath.Dir(df)
		out = append(out, benchCase{name: filepath.Base(d), context: d, dockerfile: d})
	}
	return out, nil
}

// generatedCases writes the build contexts that are not examples: a
// Debian image that ships one small dynamically linked binary, and (big)
// a Debian image with 1 GiB of application data in 102,400 files.
func generatedCases(tmp string, big bool) ([]benchCase, error) {
	bin, err := exec.LookPath("true")
	if err != nil {
		return nil, fmt.Errorf("a small dynamically linked binary for the Debian case: %w", err)
	}
	app, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	write := func(name, dockerfile string) (benchCase, error) {
		dir := filepath.Join(tmp, "ctx-"+name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return benchCase{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, "app"), app, 0o755); err != nil {
			return benchCase{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
			return benchCase{}, err
		}
		// The builtin strict policy requires pinned bases; the benchmark
		// measures time, not pinning.
		pol := "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: bench\nbaseline: strict\nrules:\n  HK1001: warn\n"
		if err := os.WriteFile(filepath.Join(dir, "hardenkit.yaml"), []byte(pol), 0o644); err != nil {
			return benchCase{}, err
		}
		return benchCase{name: name, context: dir, dockerfile: dir}, nil
	}
	one, err := write("debian+binary", "FROM debian:bookworm\nCOPY app /usr/local/bin/app\nUSER 65532:65532\nENTRYPOINT [\"/usr/local/bin/app\"]\n")
	if err != nil {
		return nil, err
	}
	out := []benchCase{one}
	if big {
		// 100 directories of 1,024 files of 10 KiB: split writes them in
		// one process per directory.
		b, err := write("1GiB-102400-files", "FROM debian:bookworm\n"+
			"RUN mkdir /data && cd /data && for d in $(seq 100); do mkdir d$d && (cd d$d && head -c 10485760 /dev/urandom | split -b 10240 -a 4 - f); done\n"+
			"COPY app /usr/local/bin/app\nUSER 65532:65532\nENTRYPOINT [\"/usr/local/bin/app\"]\n")
		if err != nil {
			return nil, err
		}
		b.compression, b.once = "uncompressed", true
		out = append(out, b)
	}
	return out, nil
}

type result struct {
	plainSize, hardSize                          int64
	plainCold, hardCold, plainCached, hardCached time.Duration
	// steps are the wall times of hardenkit's own steps in the cold build.
	steps stepTimes
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

// throughput is MB/s of the hardening pass — hardenkit's analysis steps —
// over the hardened filesystem; all counts BuildKit's copies too.
func (r result) throughput(all bool) float64 {
	d := r.steps.analysis
	if all {
		d = r.steps.all
	}
	if d <= 0 {
		return 0
	}
	return float64(r.hardSize) / 1e6 / d.Seconds()
}

// verdict says whether r meets the targets.
func (r result) verdict(name string) string {
	ok := func(b bool) string {
		if b {
			return "meets"
		}
		return "MISSES"
	}
	cached := ratio(r.hardCached, r.plainCached) <= 1.05 || r.hardCached-r.plainCached <= 300*time.Millisecond
	cold := ratio(r.hardCold, r.plainCold) <= 1.25 || (r.plainCold < 5*time.Second && r.hardCold-r.plainCold <= 2*time.Second)
	s := fmt.Sprintf("%s: cached %s target (%+.2fs), cold %s target (%+.2fs)", name,
		ok(cached), (r.hardCached - r.plainCached).Seconds(), ok(cold), (r.hardCold - r.plainCold).Seconds())
	if r.hardSize > 512<<20 {
		s += fmt.Sprintf(", hardening pass (analysis) %.0f MB/s %s ≥ 100 MB/s (%.0f MB/s with the layer copies)", r.throughput(false), ok(r.throughput(false) >= 100), r.throughput(true))
	}
	return s
}

func measure(ctx context.Context, c config, bc benchCase, out string) (result, error) {
	var r result
	hkDir, err := syntaxDockerfile(bc, out+"-df", c.frontend)
	if err != nil {
		return r, err
	}
	args := func(dockerfile, dest string, noCache bool) []string {
		output := "type=oci,dest=" + dest
		if bc.compression != "" {
			output += ",compression=" + bc.compression
		}
		a := []string{"--addr", c.addr, "build", "--progress", "rawjson", "--frontend", "dockerfile.v0",
			"--local", "context=" + bc.context, "--local", "dockerfile=" + dockerfile, "--output", output}
		if noCache {
			a = append(a, "--no-cache")
		}
		return a
	}
	plainTar, hardTar := out+"-plain.tar", out+"-hardened.tar"
	var plainCold, hardCold, plainCached, hardCached, stepsAll, stepsAnalysis []time.Duration
	runs := max(c.runs, 1)
	if bc.once {
		runs = 1
	}
	for range runs {
		d, _, err := build(ctx, c.buildctl, args(bc.dockerfile, plainTar, true))
		if err != nil {
			return r, err
		}
		plainCold = append(plainCold, d)
		d, steps, err := build(ctx, c.buildctl, args(hkDir, hardTar, true))
		if err != nil {
			return r, err
		}
		hardCold = append(hardCold, d)
		stepsAll, stepsAnalysis = append(stepsAll, steps.all), append(stepsAnalysis, steps.analysis)
	}
	for range runs {
		d, _, err := build(ctx, c.buildctl, args(bc.dockerfile, plainTar, false))
		if err != nil {
			return r, err
		}
		plainCached = append(plainCached, d)
		d, _, err = build(ctx, c.buildctl, args(hkDir, hardTar, false))
		if err != nil {
			return r, err
		}
		hardCached = append(hardCached, d)
	}
	r.plainCold, r.hardCold, r.plainCached, r.hardCached = median(plainCold), median(hardCold), median(plainCached), median(hardCached)
	r.steps = stepTimes{all: median(stepsAll), analysis: median(stepsAnalysis)}
	if r.plainSize, err = rootfsSize(plainTar); err != nil {
		return r, err
	}
	if r.hardSize, err = rootfsSize(hardTar); err != nil {
		return r, err
	}
	os.Remove(plainTar)
	os.Remove(hardTar)
	return r, nil
}

// syntaxDockerfile writes bc's Dockerfile with `# syntax=frontend` as its
// first line into dir, with the policy that is beside it, and returns dir.
func syntaxDockerfile(bc benchCase, dir, frontend string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	df, err := os.ReadFile(filepath.Join(bc.dockerfile, "Dockerfile"))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), append([]byte("# syntax="+frontend+"\n"), df...), 0o644); err != nil {
		return "", err
	}
	pol, err := os.ReadFile(filepath.Join(bc.dockerfile, "hardenkit.yaml"))
	switch {
	case err == nil:
		if err := os.WriteFile(filepath.Join(dir, "hardenkit.yaml"), pol, 0o644); err != nil {
			return "", err
		}
	case !errors.Is(err, os.ErrNotExist):
		return "", err
	}
	return dir, nil
}

// build runs one buildctl build and returns its wall time and the wall
// time during which any [hardenkit] step ran.
func build(ctx context.Context, buildctl string, args []string) (time.Duration, stepTimes, error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, buildctl, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, stepTimes{}, err
	}
	if err := cmd.Start(); err != nil {
		return 0, stepTimes{}, err
	}
	steps, tail, perr := hardenkitSteps(stderr)
	if err := cmd.Wait(); err != nil {
		return 0, stepTimes{}, fmt.Errorf("buildctl %s: %w\n%s", strings.Join(args, " "), err, tail)
	}
	if perr != nil {
		return 0, stepTimes{}, perr
	}
	return time.Since(start), steps, nil
}

// analysisSteps are the name prefixes of the steps that run hardenkit's
// own code over a filesystem; the other [hardenkit] steps are BuildKit
// copies and files the frontend writes.
var analysisSteps = []string{"[hardenkit] list the base", "[hardenkit] decide what ships", "[hardenkit] verify the hardened filesystem",
	"[hardenkit] inspect the hardened image", "[hardenkit] SBOM of the hardened image"}

func isAnalysis(name string) bool {
	return slices.ContainsFunc(analysisSteps, func(p string) bool { return strings.HasPrefix(name, p) })
}

// span is when one vertex ran.
type span struct{ start, end time.Time }

// stepTimes are the wall times covered by [hardenkit] steps that ran.
type stepTimes struct {
	// all covers every [hardenkit] step; analysis the analysis steps.
	all, analysis time.Duration
}

// hardenkitSteps reads buildctl's rawjson progress and returns the wall
// time covered by [hardenkit] vertices that ran (not cached), and the last
// lines of non-JSON output for errors.
func hardenkitSteps(r io.Reader) (stepTimes, string, error) {
	spans := map[string]span{}
	analysis := map[string]bool{}
	var other []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var st client.SolveStatus
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
			other = append(other, sc.Text())
			continue
		}
		for _, v := range st.Vertexes {
			if !strings.HasPrefix(v.Name, "[hardenkit]") || v.Cached || v.Started == nil || v.Completed == nil {
				continue
			}
			spans[v.Digest.String()] = span{*v.Started, *v.Completed}
			analysis[v.Digest.String()] = isAnalysis(v.Name)
		}
		for _, l := range st.Logs {
			other = append(other, strings.TrimRight(string(l.Data), "\n"))
		}
	}
	if len(other) > 30 {
		other = other[len(other)-30:]
	}
	var all, an []span
	for d, s := range spans {
		all = append(all, s)
		if analysis[d] {
			an = append(an, s)
		}
	}
	return stepTimes{all: covered(all), analysis: covered(an)}, strings.Join(other, "\n"), sc.Err()
}

// covered is the wall time during which any of list ran.
func covered(list []span) time.Duration {
	slices.SortFunc(list, func(a, b span) int { return a.start.Compare(b.start) })
	var total time.Duration
	var cur span
	for i, s := range list {
		switch {
		case i == 0:
			cur = s
		case s.start.After(cur.end):
			total += cur.end.Sub(cur.start)
			cur = s
		case s.end.After(cur.end):
			cur.end = s.end
		}
	}
	if len(list) > 0 {
		total += cur.end.Sub(cur.start)
	}
	return total
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func rootfsSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	l, err := ocilayout.Read(f)
	if err != nil {
		return 0, err
	}
	img, err := l.Single()
	if err != nil {
		return 0, err
	}
	files, err := img.Files()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, f := range files {
		n += f.Size
	}
	return n, nil
}

func mib(n int64) string          { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
