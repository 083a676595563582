package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
)

// TestSmokeTest: the in-build smoke test (HK2060) fails a hardened build
// whose program dlopen()s a library hardening left out, at the ENTRYPOINT
// line, with the program's last output and the removed library named
// (distroless.removed lists the base image's loadable files the rebase
// leaves out); the same build passes with HK2060 at warn and the statement records the
// failed run; and a healthy server passes, with its health check or its
// listening port, and the statement records the runs.
func TestSmokeTest(t *testing.T) {
	ctx := context.Background()
	enforce := func(dir string) (*buildResult, error) {
		return build(ctx, t, gateway, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"),
			attrs: map[string]string{"build-arg:HARDENKIT_MODE": "enforce", "build-arg:PROBE_IMAGE": env.Frontend}})
	}
	dlopen := filepath.Join("testdata", "smoke", "dlopen")

	t.Run("removed dlopen library fails the build", func(t *testing.T) {
		res, err := enforce(dlopen)
		if err == nil {
			t.Fatalf("the hardened build of a program that cannot load its library passed\n%s", tail(res.progress, 40))
		}
		if len(res.oci) != 0 {
			t.Errorf("a failed build exported %d bytes", len(res.oci))
		}
		msg := err.Error()
		for _, want := range []string{"HK2060", "the hardened image does not run as the unhardened one does",
			"exited with 1", "while the plain image's kept running",
			"| cannot load the compression plugin: libz.so.1: cannot open shared object file",
			"removed by hardening and named in that output:", "/libz.so.1 ["} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q:\n%s", want, msg)
			}
		}
		want := fmt.Sprintf("Dockerfile:%d", instructionLine(t, filepath.Join(dlopen, "Dockerfile"), "ENTRYPOINT"))
		if lines := sourceLines(err); !slices.Contains(lines, want) {
			t.Errorf("error points at %v, want %s", lines, want)
		}
		for _, name := range []string{"[hardenkit] smoke test: plain image", "[hardenkit] smoke test: hardened image"} {
			if !strings.Contains(res.progress, name) {
				t.Errorf("the progress does not show %q", name)
			}
		}
	})

	t.Run("at warn the statement records the failed run", func(t *testing.T) {
		dir := t.TempDir()
		if out, err := exec.Command("cp", "-a", dlopen+"/.", dir).CombinedOutput(); err != nil {
			t.Fatalf("copying: %v\n%s", err, out)
		}
		appendFile(t, filepath.Join(dir, "hardenkit.yaml"), "  HK2060: warn\n")
		res, err := enforce(dir)
		if err != nil {
			t.Fatalf("build with HK2060 at warn: %v\n%s", err, tail(res.progress, 40))
		}
		s := compliancePredicate(t, res.oci).Smoke
		if s == nil || s.Result != compliance.SmokeWarn || s.Plain == nil || s.Hardened == nil {
			t.Fatalf("smoke record %+v, want warn with both runs", s)
		}
		if !s.Plain.Running || !slices.Equal(s.Plain.Ports, []int{27130}) || s.Hardened.Running || s.Hardened.ExitCode != 1 {
			t.Errorf("plain %+v, hardened %+v: want plain listening on 27130, hardened exited 1", *s.Plain, *s.Hardened)
		}
		if r := complianceOf(t, res.oci)["HK2060"]; r.Result != "warn" || len(r.Findings) != 1 {
			t.Errorf("statement's HK2060: %s, want warn with one finding", r)
		}
		d := compliancePredicate(t, res.oci).Distroless
		if d == nil || !slices.ContainsFunc(d.Removed, func(r compliance.Removal) bool {
			return strings.HasSuffix(r.Path, "/libz.so.1") && r.Why == compliance.RemovedLoadable
		}) {
			t.Error("distroless.removed does not list libz.so.1 as loadable")
		}
	})

	server, err := os.ReadFile(filepath.Join("..", "examples", "static-site", "bin", "server"))
	if err != nil {
		t.Fatal(err)
	}
	busybox := "busybox@" + digestOf(t, env.BaseBusybox)
	for _, tc := range []struct {
		name, healthcheck, health string
	}{
		{"healthy server passes", `HEALTHCHECK --interval=10s CMD ["/usr/local/bin/hardenkit-probe", "http", "http://127.0.0.1:27120/"]`, "healthy"},
		{"listening server passes", `HEALTHCHECK NONE`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range map[string][]byte{
				"Dockerfile": []byte(fmt.Sprintf(healthProbeDockerfile, busybox, tc.healthcheck)),
				"index.html": []byte("<p>smoke</p>\n"),
				"server":     server,
			} {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			res, err := enforce(dir)
			if err != nil {
				t.Fatalf("hardened build: %v\n%s", err, tail(res.progress, 40))
			}
			s := compliancePredicate(t, res.oci).Smoke
			if s == nil || s.Result != compliance.SmokePass || s.Plain == nil || s.Hardened == nil {
				t.Fatalf("smoke record %+v, want pass with both runs", s)
			}
			if !s.Hardened.Running || s.Hardened.Health != tc.health || !slices.Equal(s.Hardened.Ports, []int{27120}) {
				t.Errorf("hardened run %+v: want running, health %q, port 27120", *s.Hardened, tc.health)
			}
		})
	}
}

func appendFile(t *testing.T, name, text string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// TestSmokeTestCLI: `hardenkit build`, which runs the frontend in-process,
// runs the smoke test too, with its own static binary served through the
// client session: a healthy server passes and the compliance statement
// records both runs, and the dlopen breakage fails with HK2060 at the
// ENTRYPOINT, naming the library, as through the frontend image.
func TestSmokeTestCLI(t *testing.T) {
	ctx := context.Background()
	cliBuild := func(dir string) ([]byte, string, error) {
		dest := filepath.Join(t.TempDir(), "image.tar")
		out, err := buildWithCLI(ctx, t, dir, filepath.Join(dir, "Dockerfile"), dest, []string{"PROBE_IMAGE=" + env.Frontend})
		if err != nil {
			return nil, out, err
		}
		oci, rerr := os.ReadFile(dest)
		if rerr != nil {
			t.Fatal(rerr)
		}
		return oci, out, nil
	}

	t.Run("healthy server passes", func(t *testing.T) {
		server, err := os.ReadFile(filepath.Join("..", "examples", "static-site", "bin", "server"))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		hc := `HEALTHCHECK --interval=10s CMD ["/usr/local/bin/hardenkit-probe", "http", "http://127.0.0.1:27120/"]`
		for name, data := range map[string][]byte{
			"Dockerfile": []byte(fmt.Sprintf(healthProbeDockerfile, "busybox@"+digestOf(t, env.BaseBusybox), hc)),
			"index.html": []byte("<p>smoke</p>\n"),
			"server":     server,
		} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		oci, out, err := cliBuild(dir)
		if err != nil {
			t.Fatalf("hardenkit build: %v\n%s", err, tail(out, 40))
		}
		for _, name := range []string{"[hardenkit] hardenkit's binary for the smoke test", "[hardenkit] smoke test: hardened image"} {
			if !strings.Contains(out, name) {
				t.Errorf("the progress does not show %q\n%s", name, tail(out, 40))
			}
		}
		s := compliancePredicate(t, oci).Smoke
		if s == nil || s.Result != compliance.SmokePass || s.Plain == nil || s.Hardened == nil {
			t.Fatalf("smoke record %+v, want pass with both runs", s)
		}
		if !s.Hardened.Running || s.Hardened.Health != "healthy" || !slices.Equal(s.Hardened.Ports, []int{27120}) {
			t.Errorf("hardened run %+v: want running, healthy, port 27120", *s.Hardened)
		}
	})

	t.Run("removed dlopen library fails the build", func(t *testing.T) {
		dlopen := filepath.Join("testdata", "smoke", "dlopen")
		_, out, err := cliBuild(dlopen)
		if err == nil {
			t.Fatalf("hardenkit build of a program that cannot load its library passed\n%s", tail(out, 40))
		}
		for _, want := range []string{"HK2060", "the hardened image does not run as the unhardened one does",
			"| cannot load the compression plugin: libz.so.1: cannot open shared object file",
			fmt.Sprintf("Dockerfile:%d", instructionLine(t, filepath.Join(dlopen, "Dockerfile"), "ENTRYPOINT"))} {
			if !strings.Contains(out, want) {
				t.Errorf("hardenkit build's output lacks %q:\n%s", want, tail(out, 40))
			}
		}
	})
}
