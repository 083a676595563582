package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// healthProbeDockerfile is a distroless-style image with a health check:
// the probe is copied from the frontend image, as docs/healthcheck.md
// shows. %s is the pinned busybox reference, %s the HEALTHCHECK line.
const healthProbeDockerfile = `ARG PROBE_IMAGE
FROM ${PROBE_IMAGE} AS probe

FROM %s
COPY index.html /www/index.html
COPY server /usr/local/bin/server
COPY --from=probe /bin/hardenkit-probe /usr/local/bin/hardenkit-probe
EXPOSE 27120
%s
ENTRYPOINT ["/usr/local/bin/server", "-addr", "127.0.0.1:27120", "-root", "/www"]
`

// TestHealthProbe: the frontend image's static probe works as the
// HEALTHCHECK of a hardened image (strict policy), checked by running the
// image's own health check command under runc against the running server
// and against a closed port; and a curl health check fails at its line
// with HK2024 and the probe rewrite.
func TestHealthProbe(t *testing.T) {
	ctx := context.Background()
	server, err := os.ReadFile(filepath.Join("..", "examples", "static-site", "bin", "server"))
	if err != nil {
		t.Fatal(err)
	}
	busybox := "busybox@" + digestOf(t, env.BaseBusybox)
	contextFor := func(healthcheck string) string {
		dir := t.TempDir()
		files := map[string][]byte{
			"Dockerfile": []byte(fmt.Sprintf(healthProbeDockerfile, busybox, healthcheck)),
			"index.html": []byte("<p>probed</p>\n"),
			"server":     server,
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	hardened := func(dir string) (*buildResult, error) {
		return build(ctx, t, gateway, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"),
			attrs: map[string]string{"build-arg:HARDENKIT_MODE": "enforce", "build-arg:PROBE_IMAGE": env.Frontend}})
	}

	t.Run("probe in a hardened image", func(t *testing.T) {
		t.Parallel()
		res, err := hardened(contextFor(`HEALTHCHECK --interval=10s CMD ["/usr/local/bin/hardenkit-probe", "http", "http://127.0.0.1:27120/"]`))
		if err != nil {
			t.Fatalf("hardened build: %v\n%s", err, tail(res.progress, 40))
		}
		bundle := unpackImage(t, res.oci, "")
		hc := bundle.config.Healthcheck
		want := []string{"CMD", "/usr/local/bin/hardenkit-probe", "http", "http://127.0.0.1:27120/"}
		if hc == nil || !slices.Equal(hc.Test, want) {
			t.Fatalf("image health check = %+v, want %q", hc, want)
		}
		if _, err := os.Stat(filepath.Join(bundle.rootfs(), "bin", "sh")); err == nil {
			t.Errorf("the hardened image still has /bin/sh")
		}

		healthcheck := func(args []string) (int, string) {
			out, err := bundle.runImage(ctx, t, runSpec{args: args})
			var ee *exec.ExitError
			switch {
			case errors.As(err, &ee):
				return ee.ExitCode(), out
			case err != nil:
				t.Fatalf("runc %q: %v\n%s", args, err, out)
			}
			return 0, out
		}
		// Before the server runs, the check reports unhealthy.
		if code, out := healthcheck(hc.Test[1:]); code != 1 || !strings.Contains(out, "unhealthy") {
			t.Errorf("health check with no server: exit %d, want 1 and \"unhealthy\":\n%s", code, out)
		}
		c := bundle.startImage(ctx, t, runSpec{})
		if status, body, err := c.httpGet(ctx, 27120, "/", time.Minute); err != nil || status != 200 || !strings.Contains(body, "probed") {
			t.Fatalf("GET /: %d %v\n%s", status, err, body)
		}
		if code, out := healthcheck(hc.Test[1:]); code != 0 || out != "" {
			t.Errorf("health check of the running server: exit %d, want 0 and no output:\n%s", code, out)
		}
		if code, out := healthcheck([]string{"/usr/local/bin/hardenkit-probe", "tcp", "127.0.0.1:27120"}); code != 0 {
			t.Errorf("tcp check of the running server: exit %d:\n%s", code, out)
		}
	})

	t.Run("curl -f health check is rewritten to the probe", func(t *testing.T) {
		t.Parallel()
		res, err := hardened(contextFor(`HEALTHCHECK CMD curl -fs http://127.0.0.1:27120/ || exit 1`))
		if err != nil {
			t.Fatalf("hardened build: %v\n%s", err, tail(res.progress, 40))
		}
		// The evidence records the rewrite (the harness's progress leaves
		// out warnings that come after their vertex is done).
		r := complianceOf(t, res.oci)["HK2024"]
		if r.Result != "warn" || !strings.Contains(r.String(), "rewritten to the static probe") {
			t.Errorf("compliance HK2024 = %s, want a warning recording the rewrite", r)
		}
		bundle := unpackImage(t, res.oci, "")
		want := []string{"CMD", "/usr/local/bin/hardenkit-probe", "-timeout", "30s", "http", "http://127.0.0.1:27120/"}
		if hc := bundle.config.Healthcheck; hc == nil || !slices.Equal(hc.Test, want) {
			t.Fatalf("image health check = %+v, want %q", hc, want)
		}
		// The other subtest serves on 27120; here the rewritten check runs
		// in the hardened image against a closed port and says unhealthy.
		closed := append(slices.Clone(want[1:len(want)-1]), "http://127.0.0.1:27129/")
		out, err := bundle.runImage(ctx, t, runSpec{args: closed})
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "unhealthy") {
			t.Errorf("the rewritten health check with no server: %v, want exit 1 and \"unhealthy\":\n%s", err, out)
		}
	})

	t.Run("curl without -f names the probe", func(t *testing.T) {
		t.Parallel()
		// Without -f curl is healthy on a 500, the probe is not: not the
		// same meaning, so HK2024 refuses with the advice.
		dir := contextFor(`HEALTHCHECK CMD curl -s http://127.0.0.1:27120/ || exit 1`)
		res, err := hardened(dir)
		if err == nil {
			t.Fatal("a shell-form curl health check without -f built hardened")
		}
		if len(res.oci) != 0 {
			t.Errorf("a failed build exported %d bytes", len(res.oci))
		}
		want := fmt.Sprintf("Dockerfile:%d", instructionLine(t, filepath.Join(dir, "Dockerfile"), "HEALTHCHECK"))
		if lines := sourceLines(err); !slices.Contains(lines, want) {
			t.Errorf("error points at %v, want %s", lines, want)
		}
		for _, w := range []string{"HK2024", "/bin/hardenkit-probe", `HEALTHCHECK CMD ["/usr/local/bin/hardenkit-probe", "http", "http://127.0.0.1:27120/"]`} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error lacks %q:\n%v", w, err)
			}
		}
	})
}
