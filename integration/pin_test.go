package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/hardenkit/hardenkit/integration/devenv"
	"github.com/hardenkit/hardenkit/pkg/daemon"
)

// freshDaemon starts a buildkitd with its own empty state (no cache) and
// the dev environment's registry mirror, stopped when the test ends.
func freshDaemon(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	state, err := os.MkdirTemp("", "hk-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := daemon.Ensure(ctx, daemon.Config{
		StateDir:     state,
		Binary:       filepath.Join(binaries.dir, "buildkitd"),
		ExtraConfig:  devenv.BuildkitdConfig(env.Registry),
		MaxUsedSpace: devenv.CacheLimit,
	})
	if err != nil {
		os.RemoveAll(state)
		t.Fatalf("starting buildkitd %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := daemon.Stop(context.Background(), state); err != nil {
			t.Errorf("stopping buildkitd %s: %v", name, err)
		}
		os.RemoveAll(state)
	})
	return d.Addr
}

// pinDownload is a small file on the Debian mirror the builds already use.
const pinDownload = "https://deb.debian.org/debian/dists/bookworm/Release.gpg"

// downloadDigest fetches pinDownload from the test, not through BuildKit.
func downloadDigest(ctx context.Context, t *testing.T) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pinDownload, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("downloading %s: %v", pinDownload, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("downloading %s: %s", pinDownload, resp.Status)
	}
	d, err := digest.SHA256.FromReader(resp.Body)
	if err != nil {
		t.Fatalf("downloading %s: %v", pinDownload, err)
	}
	return d.String()
}

// TestPin takes an application as its community writes it (two Debian
// stages, each `apt-get install`ing two packages, an ADD of a URL, no
// pins), which the strict
// policy rejects, and shows the path to a build: the rejection names
// `hardenkit pin`; `hardenkit check --fix` shows the diff and writes
// nothing; `hardenkit pin` rewrites only the pinned words; the pinned
// Dockerfile passes the static rules and builds under strict; a second pin
// changes nothing; and the pinned Dockerfile builds bit for bit the same on
// a fresh daemon.
func TestPin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, f := range []string{"Dockerfile", "app.c"} {
		dt, err := os.ReadFile(filepath.Join("..", "examples", "debian-app", f))
		if err != nil {
			t.Fatal(err)
		}
		// The builder stage also downloads a file (HK1010); it does not
		// ship, so the image stays the example's.
		if f == "Dockerfile" {
			dt = []byte(strings.Replace(string(dt), "COPY app.c /src/app.c\n", "COPY app.c /src/app.c\nADD "+pinDownload+" /src/Release.gpg\n", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, f), dt, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dockerfile := filepath.Join(dir, "Dockerfile")
	orig, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	hk := func(args ...string) (string, error) {
		return run(ctx, t, nil, binaries.hardenkit, args...)
	}

	// The strict policy (no hardenkit.yaml here) rejects it, pointing to pin.
	out, err := hk("check", dir)
	if err == nil {
		t.Fatalf("hardenkit check passed the unpinned Dockerfile:\n%s", out)
	}
	for _, want := range []string{"HK1001", "HK1030", "HK1010", "`hardenkit pin` writes"} {
		if !strings.Contains(out, want) {
			t.Errorf("hardenkit check output does not say %q:\n%s", want, out)
		}
	}

	// The dry run prints the diff and leaves the file alone.
	out, err = hk("check", "--fix", "--addr", env.BuildkitAddr, dir)
	if err != nil {
		t.Fatalf("hardenkit check --fix: %v\n%s", err, out)
	}
	if dt, _ := os.ReadFile(dockerfile); string(dt) != string(orig) {
		t.Fatalf("hardenkit check --fix changed the Dockerfile:\n%s", dt)
	}
	for _, want := range []string{"-FROM debian:bookworm AS build\n", "+FROM debian:bookworm@sha256:", "+RUN apt-get update && apt-get install -y --no-install-recommends tcc="} {
		if !strings.Contains(out, want) {
			t.Errorf("check --fix diff lacks %q:\n%s", want, out)
		}
	}

	out, err = hk("pin", "--addr", env.BuildkitAddr, "--progress", "plain", dir)
	if err != nil {
		t.Fatalf("hardenkit pin: %v\n%s", err, out)
	}
	pinned, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pinned Dockerfile:\n%s", pinned)
	t.Run("only pinned words change", func(t *testing.T) {
		a, b := strings.Split(string(orig), "\n"), strings.Split(string(pinned), "\n")
		if len(a) != len(b) {
			t.Fatalf("pin changed the line count: %d -> %d", len(a), len(b))
		}
		// Each changed line is the old line with pins inserted after names.
		debDigest := strings.TrimPrefix(env.BaseDebian, env.Registry+"/library/debian@")
		pinWord := regexp.MustCompile(`@sha256:[0-9a-f]{64}|=[0-9][0-9A-Za-z.+~:-]*|--checksum=sha256:[0-9a-f]{64} `)
		changed := 0
		for i := range a {
			if a[i] == b[i] {
				continue
			}
			changed++
			if stripped := pinWord.ReplaceAllString(b[i], ""); stripped != a[i] {
				t.Errorf("line %d: %q -> %q is not an insertion of pins", i+1, a[i], b[i])
			}
			if strings.HasPrefix(a[i], "FROM") && !strings.Contains(b[i], "debian:bookworm@"+debDigest) {
				t.Errorf("line %d: %q is not pinned to the registry's debian:bookworm %s", i+1, b[i], debDigest)
			}
		}
		if changed != 5 { // two FROMs, two RUNs, the ADD
			t.Errorf("%d lines changed, want 5", changed)
		}
		if want := "ADD --checksum=" + downloadDigest(ctx, t) + " " + pinDownload; !strings.Contains(string(pinned), want) {
			t.Errorf("the ADD is not pinned to the digest of what the URL serves, %q", want)
		}
		for _, p := range []string{"tcc=", "libc6-dev=", "curl=", "ca-certificates="} {
			if !strings.Contains(string(pinned), p) {
				t.Errorf("%s is not pinned", strings.TrimSuffix(p, "="))
			}
		}
	})

	out, err = hk("check", dir)
	if err != nil {
		t.Fatalf("hardenkit check (strict) fails the pinned Dockerfile: %v\n%s", err, out)
	}

	t.Run("second pin is a no-op", func(t *testing.T) {
		out, err := hk("pin", "--addr", env.BuildkitAddr, dir)
		if err != nil {
			t.Fatalf("hardenkit pin: %v\n%s", err, out)
		}
		if !strings.Contains(out, "nothing to pin") {
			t.Errorf("second pin says:\n%s", out)
		}
		if dt, _ := os.ReadFile(dockerfile); string(dt) != string(pinned) {
			t.Errorf("second pin changed the Dockerfile:\n%s", dt)
		}
	})

	// The pinned Dockerfile builds under strict, here and on a fresh
	// daemon with no cache, to the same image.
	var digests []string
	for i, addr := range []string{env.BuildkitAddr, freshDaemon(ctx, t, "pin")} {
		dest := filepath.Join(t.TempDir(), "image.tar")
		out, err := hk("build", "--addr", addr, "--progress", "plain", "--output", "type=oci,dest="+dest, dir)
		if err != nil {
			t.Fatalf("hardenkit build of the pinned Dockerfile on daemon %d: %v\n%s", i, err, out)
		}
		img := readImage(t, dest)
		digests = append(digests, img.Descriptor.Digest.String())
		if i > 0 {
			continue
		}
		var comp struct {
			Predicate struct {
				Policy struct{ Name string }         `json:"policy"`
				Rules  []struct{ ID, Result string } `json:"rules"`
			} `json:"predicate"`
		}
		if err := json.Unmarshal(readAttestations(t, dest, img)["https://hardenkit.dev/attestations/compliance/v1"][0], &comp); err != nil {
			t.Fatal(err)
		}
		results := map[string]string{}
		for _, r := range comp.Predicate.Rules {
			results[r.ID] = r.Result
		}
		if comp.Predicate.Policy.Name != "strict" || results["HK1001"] != "pass" || results["HK1030"] != "pass" {
			t.Errorf("compliance attestation: policy %q, HK1001=%q HK1030=%q; want strict, pass, pass",
				comp.Predicate.Policy.Name, results["HK1001"], results["HK1030"])
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("the pinned Dockerfile built to %s on the dev daemon but %s on a fresh one", digests[0], digests[1])
	}
	t.Logf("pinned image %s on both daemons", digests[0])
}

// TestPinLanguagePackages reads pip, npm and gem versions from a stage
// built by the daemon. No language registry is reachable offline, so
// stand-in commands "install" by leaving exactly the metadata the real
// managers leave (package.json, dist-info, gemspec); what is under test is
// where pin looks in a built filesystem, through the gateway, with the
// other candidate places absent.
func TestPinLanguagePackages(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	df := `FROM debian:bookworm
RUN printf '#!/bin/sh\nexit 0\n' > /usr/local/bin/npm && cp /usr/local/bin/npm /usr/local/bin/pip && cp /usr/local/bin/npm /usr/local/bin/gem \
 && chmod +x /usr/local/bin/npm /usr/local/bin/pip /usr/local/bin/gem \
 && mkdir -p /app/node_modules/express /opt/venv/lib/python3.11/site-packages/Flask-3.0.3.dist-info /var/lib/gems/3.1.0/specifications \
 && echo '{"name":"express","version":"4.21.2"}' > /app/node_modules/express/package.json \
 && touch /var/lib/gems/3.1.0/specifications/sinatra-4.1.1.gemspec
ENV VIRTUAL_ENV=/opt/venv
WORKDIR /app
RUN npm install express && pip install flask && gem install sinatra
`
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(ctx, t, nil, binaries.hardenkit, "pin", "--addr", env.BuildkitAddr, "--progress", "plain", dir)
	if err != nil {
		t.Fatalf("hardenkit pin: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "RUN npm install express@4.21.2 && pip install flask==3.0.3 && gem install sinatra:4.1.1\n"; !strings.HasSuffix(string(got), want) {
		t.Errorf("pinned Dockerfile ends:\n%s\nwant %q", got[strings.LastIndex(strings.TrimSuffix(string(got), "\n"), "\n")+1:], want)
	}
}
