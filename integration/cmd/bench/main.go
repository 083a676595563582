// Command bench measures what hardening costs and saves, against plain
// BuildKit in the same run: for each example it builds the image with
// BuildKit's dockerfile.v0 (buildctl) and with hardenkit, cold (--no-cache)
// and cached, and prints image sizes and build times with their ratios.
//
//	make bench   (starts the dev environment, then runs this)
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/ocitar"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	addr, hardenkit, buildctl, examples string
	runs                                int
}

func run(ctx context.Context, args []string, w io.Writer) error {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", os.Getenv("BUILDKIT_HOST"), "buildkitd address")
	fs.StringVar(&c.hardenkit, "hardenkit", "bin/hardenkit", "hardenkit CLI")
	fs.StringVar(&c.buildctl, "buildctl", "bin/buildctl", "buildctl CLI")
	fs.StringVar(&c.examples, "examples", "examples", "directory of example build contexts")
	fs.IntVar(&c.runs, "runs", 1, "builds per measurement (the median is reported)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.addr == "" {
		return errors.New("no buildkitd: set BUILDKIT_HOST or -addr (make bench starts the dev environment)")
	}
	dirs, err := filepath.Glob(filepath.Join(c.examples, "*", "Dockerfile"))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "hardenkit-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "example\tplain size\thardened size\tsize ratio\tplain cold\thardened cold\tcold ratio\tplain cached\thardened cached\tcached ratio\t")
	for _, df := range dirs {
		dir := filepath.Dir(df)
		name := filepath.Base(dir)
		r, err := measure(ctx, c, dir, filepath.Join(tmp, name))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.3f\t%s\t%s\t%.2f\t%s\t%s\t%.2f\t\n", name,
			mib(r.plainSize), mib(r.hardSize), float64(r.hardSize)/float64(r.plainSize),
			secs(r.plainCold), secs(r.hardCold), r.hardCold.Seconds()/r.plainCold.Seconds(),
			secs(r.plainCached), secs(r.hardCached), r.hardCached.Seconds()/r.plainCached.Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "sizes: bytes of the flattened root filesystem; times: median wall clock of", c.runs, "build(s); ratio = hardened / plain")
	return nil
}

type result struct {
	plainSize, hardSize                          int64
	plainCold, hardCold, plainCached, hardCached time.Duration
}

func measure(ctx context.Context, c config, dir, out string) (result, error) {
	var r result
	plain := func(noCache bool) []string {
		a := []string{"--addr", c.addr, "build", "--progress", "quiet", "--frontend", "dockerfile.v0",
			"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--output", "type=oci,dest=" + out + "-plain.tar"}
		if noCache {
			a = append(a, "--no-cache")
		}
		return a
	}
	hard := func(noCache bool) []string {
		a := []string{"build", "--addr", c.addr, "--progress", "quiet", "--output", "type=oci,dest=" + out + "-hardened.tar"}
		if noCache {
			a = append(a, "--no-cache")
		}
		return append(a, dir)
	}
	var err error
	if r.plainCold, err = median(ctx, c.runs, c.buildctl, plain(true)); err != nil {
		return r, err
	}
	if r.plainCached, err = median(ctx, c.runs, c.buildctl, plain(false)); err != nil {
		return r, err
	}
	if r.hardCold, err = median(ctx, c.runs, c.hardenkit, hard(true)); err != nil {
		return r, err
	}
	if r.hardCached, err = median(ctx, c.runs, c.hardenkit, hard(false)); err != nil {
		return r, err
	}
	if r.plainSize, err = rootfsSize(out + "-plain.tar"); err != nil {
		return r, err
	}
	if r.hardSize, err = rootfsSize(out + "-hardened.tar"); err != nil {
		return r, err
	}
	return r, nil
}

func median(ctx context.Context, n int, bin string, args []string) (time.Duration, error) {
	var ds []time.Duration
	for range max(n, 1) {
		start := time.Now()
		cmd := exec.CommandContext(ctx, bin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("%s %v: %w\n%s", bin, args, err, out.String())
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], nil
}

func rootfsSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	l, err := ocitar.Read(f)
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
