// Command hardenkit-probe is a health check for distroless images: a small
// static program (standard library only) that an exec-form HEALTHCHECK can
// run where there is no shell, curl or wget. It ships in the frontend image
// at /bin/hardenkit-probe, so a Dockerfile takes it from there:
//
//	COPY --from=<registry>/hardenkit/frontend:<ver> /bin/hardenkit-probe /usr/local/bin/hardenkit-probe
//	HEALTHCHECK CMD ["/usr/local/bin/hardenkit-probe", "http", "http://127.0.0.1:8080/healthz"]
//
// Modes:
//
//	hardenkit-probe http URL   GET URL; healthy on a 2xx or 3xx answer
//	hardenkit-probe tcp ADDR   healthy when ADDR (host:port) accepts a connection
//	hardenkit-probe exec PROG [ARG…]   healthy when PROG exits 0
//
// The exit status is what HEALTHCHECK expects: 0 healthy, 1 unhealthy, and
// 2 for a usage error. One line on stderr says why a check failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Exit codes of a Docker HEALTHCHECK command.
const (
	exitHealthy   = 0
	exitUnhealthy = 1
	exitUsage     = 2
)

// errUsage marks a command line the probe cannot run.
var errUsage = errors.New("usage: hardenkit-probe [-timeout D] http URL | tcp HOST:PORT | exec PROG [ARG...]")

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stderr))
}

// run parses args, runs one check and returns the exit code.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("hardenkit-probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 5*time.Second, "how long the check may take")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	err := check(ctx, fs.Args())
	switch {
	case err == nil:
		return exitHealthy
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "hardenkit-probe: unhealthy: %v\n", err)
		return exitUnhealthy
	}
}

// check runs the check args names.
func check(ctx context.Context, args []string) error {
	if len(args) < 2 {
		return errUsage
	}
	mode, target := args[0], args[1]
	switch mode {
	case "http":
		if len(args) != 2 || !(strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://")) {
			return errUsage
		}
		return checkHTTP(ctx, target)
	case "tcp":
		if len(args) != 2 {
			return errUsage
		}
		return checkTCP(ctx, target)
	case "exec":
		return checkExec(ctx, args[1:])
	default:
		return errUsage
	}
}

// checkHTTP is healthy on a 2xx or 3xx answer; redirects are not followed,
// as a health endpoint that redirects is answering.
func checkHTTP(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	req.Header.Set("User-Agent", "hardenkit-probe")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	// Drain a little so keep-alive servers see a complete exchange.
	io.CopyN(io.Discard, resp.Body, 64<<10)
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// checkTCP is healthy when addr accepts a connection.
func checkTCP(ctx context.Context, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// checkExec is healthy when the program exits 0 within the timeout; its
// output goes to the probe's, which Docker keeps as the check's log.
func checkExec(ctx context.Context, argv []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", argv[0], err)
	}
	return nil
}
