package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/errdefs"

	"github.com/hardenkit/hardenkit/pkg/ocilayout"
)

// hardenedExamples are the examples whose hardened image is run by a
// follow-up build: selftest is an exec-form command that must succeed in it.
// runc runs the same self-test from the exported image, as a container
// runtime would (cmd replaced, entrypoint and user kept), and a server
// example is started and asked for its page.
var hardenedExamples = []struct {
	dir      string
	selftest string
	runcCmd  []string // replaces the image's cmd under runc
	serve    []string // args that start the server on 127.0.0.1:18080
}{
	{dir: "debian-app", selftest: `["/usr/local/bin/app", "--selftest"]`, runcCmd: []string{"--selftest"}},
	{dir: "python-app", selftest: `["python3", "/app/app.py", "--selftest"]`, runcCmd: []string{"--selftest"}},
	{dir: "static-site", selftest: `["/server", "-selftest", "-root", "/www"]`, runcCmd: []string{"-selftest"},
		serve: []string{"/server", "-addr", "127.0.0.1:18080", "-root", "/www"}},
}

// TestHardenedExamplesRun builds each example with hardenkit (enforce
// mode), checks the image holds no shell, package manager, network tool or
// setuid file and stamps every file with the epoch, then runs the
// application in a follow-up build FROM the hardened image.
func TestHardenedExamplesRun(t *testing.T) {
	for _, ex := range hardenedExamples {
		t.Run(ex.dir, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir, err := filepath.Abs(filepath.Join("..", "examples", ex.dir))
			if err != nil {
				t.Fatal(err)
			}
			ref := fmt.Sprintf("%s/hardenkit-it/%s:hardened", env.Registry, ex.dir)
			out, err := run(ctx, t, nil, binaries.hardenkit, "build", "--addr", env.BuildkitAddr, "--progress", "plain",
				"--output", "type=image,name="+ref+",push=true", dir)
			if err != nil {
				t.Fatalf("hardenkit build: %v\n%s", err, out)
			}
			dest := filepath.Join(t.TempDir(), "image.tar")
			if out, err := buildWithCLI(ctx, t, dir, filepath.Join(dir, "Dockerfile"), dest, nil); err != nil {
				t.Fatalf("hardenkit build: %v\n%s", err, out)
			}
			img := readImage(t, dest)
			files, err := img.Files()
			if err != nil {
				t.Fatal(err)
			}
			assertHardened(t, img, files)
			assertEvidence(t, dest, img)
			assertImagetoolsEvidence(ctx, t, ref)

			// The application runs from the hardened image, with no shell.
			follow := t.TempDir()
			df := fmt.Sprintf("FROM %s\nRUN %s\n", ref, ex.selftest)
			if err := os.WriteFile(filepath.Join(follow, "Dockerfile"), []byte(df), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := build(ctx, t, stock, buildRequest{contextDir: follow, dockerfile: filepath.Join(follow, "Dockerfile"), noExport: true,
				attrs: map[string]string{"no-cache": ""}})
			if err != nil {
				t.Fatalf("running %s in the hardened image: %v\n%s", ex.selftest, err, res.progress)
			}
			if !strings.Contains(res.progress, "selftest ok") {
				t.Errorf("selftest printed nothing:\n%s", res.progress)
			}

			// And from the exported image under runc, with nothing but its
			// own files.
			oci, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			bundle := unpackImage(t, oci, "")
			runcOut, err := bundle.runImage(ctx, t, runSpec{cmd: ex.runcCmd})
			if err != nil || !strings.Contains(runcOut, "selftest ok") {
				t.Errorf("runc %v: %v\n%s", ex.runcCmd, err, runcOut)
			}
			if ex.serve != nil {
				c := bundle.startImage(ctx, t, runSpec{args: ex.serve})
				status, body, err := c.httpGet(ctx, 18080, "/", 30*time.Second)
				if err != nil || status != 200 || !strings.Contains(body, "1.0.0") {
					t.Errorf("GET / from the hardened static-site under runc: %d %v\n%s", status, err, body)
				}
			}
		})
	}
}

// assertEvidence checks the attestations hardenkit attaches: an SPDX SBOM
// of exactly what ships, a CycloneDX SBOM and the compliance statement.
func assertEvidence(t *testing.T, tarPath string, img *ocilayout.Image) {
	t.Helper()
	atts := readAttestations(t, tarPath, img)
	for _, pt := range []string{"https://spdx.dev/Document", "https://cyclonedx.org/bom", "https://hardenkit.dev/attestations/compliance/v1"} {
		if len(atts[pt]) != 1 {
			t.Fatalf("%d %s attestations, want 1 (have %d types)", len(atts[pt]), pt, len(atts))
		}
	}
	var spdx struct {
		Predicate struct {
			Packages []struct{ Name string } `json:"packages"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(atts["https://spdx.dev/Document"][0], &spdx); err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]bool{}
	for _, p := range spdx.Predicate.Packages {
		pkgs[p.Name] = true
	}
	for _, gone := range []string{"apt", "dpkg", "curl", "bash", "dash", "busybox"} {
		if pkgs[gone] {
			t.Errorf("SBOM lists %s, which does not ship", gone)
		}
	}
	files, err := img.Files()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["/usr/lib/x86_64-linux-gnu/libc.so.6"]; ok && !pkgs["libc6"] {
		t.Errorf("libc6 ships but the SBOM does not list it (%d packages)", len(pkgs))
	}
	var comp struct {
		Predicate struct {
			Policy          struct{ Name, Digest string }   `json:"policy"`
			Mode            string                          `json:"mode"`
			SourceDateEpoch int64                           `json:"sourceDateEpoch"`
			Rules           []struct{ ID, Result string }   `json:"rules"`
			BaseImages      []struct{ Name, Digest string } `json:"baseImages"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(atts["https://hardenkit.dev/attestations/compliance/v1"][0], &comp); err != nil {
		t.Fatal(err)
	}
	for _, b := range comp.Predicate.BaseImages {
		if b.Name != "scratch" && !strings.HasPrefix(b.Digest, "sha256:") {
			t.Errorf("base image %s recorded without its digest (%q)", b.Name, b.Digest)
		}
	}
	created, _ := time.Parse(time.RFC3339, img.Config["created"].(string))
	p := comp.Predicate
	if p.Policy.Name != "examples" || !strings.HasPrefix(p.Policy.Digest, "sha256:") || p.Mode != "enforce" || p.SourceDateEpoch != created.Unix() {
		t.Errorf("compliance statement policy %+v mode %q epoch %d (created %s)", p.Policy, p.Mode, p.SourceDateEpoch, created)
	}
	results := map[string]string{}
	for _, r := range p.Rules {
		results[r.ID] = r.Result
	}
	if results["HK2030"] != "pass" || results["HK1001"] != "warn" {
		t.Errorf("rule results HK2030=%q HK1001=%q, want pass and warn", results["HK2030"], results["HK1001"])
	}
}

// assertImagetoolsEvidence reads the pushed image's SBOM and provenance the
// way users do, with docker buildx imagetools inspect.
func assertImagetoolsEvidence(ctx context.Context, t *testing.T, ref string) {
	t.Helper()
	envv := buildxConfig(ctx, t)
	out, err := run(ctx, t, envv, "docker", "buildx", "imagetools", "inspect", "--format", "{{json .SBOM}}", ref)
	if err != nil {
		t.Fatalf("imagetools inspect .SBOM: %v\n%s", err, out)
	}
	var sbom struct {
		SPDX struct {
			SPDXID   string
			Packages []struct {
				Name string `json:"name"`
			} `json:"packages"`
		}
	}
	if err := json.Unmarshal([]byte(out), &sbom); err != nil || sbom.SPDX.SPDXID != "SPDXRef-DOCUMENT" {
		t.Fatalf("imagetools .SBOM is not our SPDX document (%v):\n%.500s", err, out)
	}
	for _, p := range sbom.SPDX.Packages {
		if p.Name == "curl" || p.Name == "apt" || p.Name == "dpkg" {
			t.Errorf("imagetools SBOM lists %s", p.Name)
		}
	}
	out, err = run(ctx, t, envv, "docker", "buildx", "imagetools", "inspect", "--format", "{{json .Provenance}}", ref)
	if err != nil {
		t.Fatalf("imagetools inspect .Provenance: %v\n%s", err, out)
	}
	var prov struct {
		SLSA struct {
			BuildDefinition struct {
				BuildType string `json:"buildType"`
			} `json:"buildDefinition"`
		}
	}
	if err := json.Unmarshal([]byte(out), &prov); err != nil || prov.SLSA.BuildDefinition.BuildType == "" {
		t.Errorf("imagetools .Provenance has no SLSA build definition (%v):\n%.500s", err, out)
	}
}

// readAttestations returns the in-toto statements attached to img in the
// OCI tarball, by predicate type.
func readAttestations(t *testing.T, tarPath string, img *ocilayout.Image) map[string][][]byte {
	t.Helper()
	dt, err := os.ReadFile(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ocilayout.Read(bytes.NewReader(dt))
	if err != nil {
		t.Fatal(err)
	}
	atts, err := l.Attestations(img.Descriptor.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return atts
}

// shippedTools are names no hardened image may contain.
var shippedTools = []string{"sh", "bash", "dash", "ash", "busybox", "apt", "apt-get", "dpkg", "curl", "wget", "nc", "gdb", "strace"}

func assertHardened(t *testing.T, img *ocilayout.Image, files map[string]ocilayout.File) {
	t.Helper()
	cfg := img.Config["config"].(map[string]any)
	if u, _ := cfg["User"].(string); u == "" || strings.HasPrefix(u, "0:") || strings.HasSuffix(u, ":0") || u == "0" || u == "root" {
		t.Errorf("image User = %q, want a non-root numeric user", u)
	}
	if len(img.Manifest.Layers) != 1 {
		t.Errorf("%d layers, want the one reproducible layer", len(img.Manifest.Layers))
	}
	created, _ := img.Config["created"].(string)
	epoch, err := time.Parse(time.RFC3339, created)
	if err != nil {
		t.Fatalf("config created = %q: %v", created, err)
	}
	for _, h := range img.Config["history"].([]any) {
		if hc := h.(map[string]any)["created"]; hc != created {
			t.Errorf("history created %v, config created %s", hc, created)
		}
	}
	for p, f := range files {
		base := filepath.Base(p)
		for _, tool := range shippedTools {
			if base == tool && f.Type != tar.TypeDir {
				t.Errorf("%s ships", p)
			}
		}
		if f.Type == tar.TypeReg && f.Mode&0o6000 != 0 {
			t.Errorf("%s keeps setuid/setgid bits (%o)", p, f.Mode)
		}
		if f.ModTime != epoch.Unix() {
			t.Errorf("%s has mtime %d, want SOURCE_DATE_EPOCH %d", p, f.ModTime, epoch.Unix())
		}
		if bytes.Contains(f.Content, []byte("BusyBox v")) {
			t.Errorf("%s is a busybox binary under another name", p)
		}
	}
}

// TestReproducibleAcrossDaemons builds each example with --no-cache on two
// freshly started buildkitd instances and compares image manifest digests.
// No client flag asks for reproducibility: hardenkit provides it.
func TestReproducibleAcrossDaemons(t *testing.T) {
	ctx := context.Background()
	var addrs []string
	for i := range 2 {
		addrs = append(addrs, freshDaemon(ctx, t, fmt.Sprintf("repro%d", i)))
	}
	for _, ex := range hardenedExamples {
		t.Run(ex.dir, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join("..", "examples", ex.dir))
			if err != nil {
				t.Fatal(err)
			}
			var digests []string
			var evidence [][2][]byte
			for _, addr := range addrs {
				dest := filepath.Join(t.TempDir(), "image.tar")
				out, err := run(ctx, t, nil, binaries.hardenkit, "build", "--addr", addr, "--no-cache", "--progress", "plain",
					"--output", "type=oci,dest="+dest, dir)
				if err != nil {
					t.Fatalf("hardenkit build on %s: %v\n%s", addr, err, out)
				}
				img := readImage(t, dest)
				digests = append(digests, img.Descriptor.Digest.String())
				atts := readAttestations(t, dest, img)
				evidence = append(evidence, [2][]byte{atts["https://spdx.dev/Document"][0], atts["https://hardenkit.dev/attestations/compliance/v1"][0]})
			}
			if digests[0] != digests[1] {
				t.Errorf("manifest digests differ between two daemons: %s vs %s", digests[0], digests[1])
			}
			if !bytes.Equal(evidence[0][0], evidence[1][0]) {
				t.Error("SBOM attestations differ between two daemons")
			}
			// The statements record how long each step took: that, and
			// only that, differs between two builds.
			if !bytes.Equal(withoutTimings(t, evidence[0][1]), withoutTimings(t, evidence[1][1])) {
				t.Error("compliance attestations differ between two daemons (timings aside)")
			}
			t.Logf("%s: %s on both daemons", ex.dir, digests[0])
		})
	}
}

// withoutTimings returns the in-toto statement stmt with its predicate's
// timings removed, after checking that they name hardenkit's steps.
func withoutTimings(t *testing.T, stmt []byte) []byte {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal(stmt, &st); err != nil {
		t.Fatalf("compliance statement: %v", err)
	}
	pred, _ := st["predicate"].(map[string]any)
	timings, _ := pred["timings"].([]any)
	steps := map[string]bool{}
	for _, x := range timings {
		if m, ok := x.(map[string]any); ok {
			steps[fmt.Sprint(m["step"])] = true
		}
	}
	for _, want := range []string{"policy", "convert", "decide", "verify", "inspect", "sbom"} {
		if !steps[want] {
			t.Errorf("compliance statement's timings %v lack step %q", timings, want)
		}
	}
	delete(pred, "timings")
	out, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHardeningViolations checks each violation fails the build with a
// BuildKit source-mapped error at the offending Dockerfile line.
func TestHardeningViolations(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		policy     string
		wantRule   string
		wantLine   int
	}{
		{
			name:       "shell-form ENTRYPOINT",
			dockerfile: "FROM busybox:1.35\nCOPY x /x\nENTRYPOINT cat /x\n",
			wantRule:   "HK1080", wantLine: 3,
		},
		{
			name:       "USER root",
			dockerfile: "FROM busybox:1.35\nUSER root\nCMD [\"/bin/true\"]\n",
			wantRule:   "HK1050", wantLine: 2,
		},
		{
			name:       "USER 0:0",
			dockerfile: "FROM busybox:1.35\nARG U=0:0\nUSER $U\nCMD [\"/bin/true\"]\n",
			wantRule:   "HK1050", wantLine: 3,
		},
		{
			name:       "user name that maps to uid 0",
			dockerfile: "FROM busybox:1.35\nRUN echo 'toor:x:0:0::/:/sbin/nologin' >> /etc/passwd\nCOPY x /x\nUSER toor\nENTRYPOINT [\"/x\"]\n",
			wantRule:   "HK2030", wantLine: 4,
		},
		{
			name:       "disallowed base in require mode",
			dockerfile: "FROM busybox:1.35 AS build\nRUN echo hi > /hi\n\nFROM busybox:1.35\nCOPY --from=build /hi /hi\nUSER 65532:65532\nENTRYPOINT [\"/hi\"]\n",
			policy:     "controls:\n  distroless:\n    mode: require\n    allowedBases:\n      - pattern: gcr.io/distroless/static\n",
			// The static rule sees it first; HK2010 checks the same in LLB
			// when the static rule is switched off.
			wantRule: "HK1002", wantLine: 4,
		},
		{
			name:       "health check in shell form needs the removed shell",
			dockerfile: "FROM busybox:1.35\nCOPY x /x\nHEALTHCHECK CMD test -f /x\nENTRYPOINT [\"/x\"]\n",
			wantRule:   "HK2024", wantLine: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write := func(name, content string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			write("Dockerfile", tt.dockerfile)
			write("x", "#!/x\n")
			write(".dockerignore", ".git\n.env\n**/*.key\n**/*.pem\n")
			write("hardenkit.yaml", "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: it\nbaseline: strict\nrules:\n  HK1001: warn\n"+tt.policy)
			res, err := build(context.Background(), t, inProcess, buildRequest{
				contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"),
				attrs: map[string]string{"build-arg:HARDENKIT_MODE": "enforce"},
			})
			if err == nil {
				t.Fatalf("build succeeded, want %s at line %d", tt.wantRule, tt.wantLine)
			}
			if !strings.Contains(err.Error(), tt.wantRule) {
				t.Errorf("error does not name %s: %v\n%s", tt.wantRule, err, res.progress)
			}
			lines := sourceLines(err)
			want := fmt.Sprintf("Dockerfile:%d", tt.wantLine)
			found := false
			for _, l := range lines {
				found = found || l == want
			}
			if !found {
				t.Errorf("error points at %v, want %s: %v", lines, want, err)
			}
			if len(errdefs.Sources(err)) == 0 {
				t.Errorf("error carries no Dockerfile source: %v", err)
			}
		})
	}
}

// TestRenamedToolsRemoved checks that tooling is found by content: a busybox
// copied under another name, and a hard link to it, do not ship although
// the final stage added them.
func TestRenamedToolsRemoved(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"Dockerfile": "FROM busybox:1.35\n" +
			"RUN mkdir -p /opt/tools && cp /bin/busybox /opt/tools/helper && ln /opt/tools/helper /opt/tools/linked && echo data > /opt/tools/data.txt\n" +
			"COPY app /app\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n",
		"app":            "#!/app\n",
		".dockerignore":  ".git\n.env\n**/*.key\n**/*.pem\n",
		"hardenkit.yaml": unpinnedBasesPolicy,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	res, err := build(context.Background(), t, inProcess, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"),
		attrs: map[string]string{"build-arg:HARDENKIT_MODE": "enforce"}})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, res.progress)
	}
	l, err := ocilayout.Read(bytes.NewReader(res.oci))
	if err != nil {
		t.Fatal(err)
	}
	img, err := l.Single()
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := img.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"/opt/tools/helper", "/opt/tools/linked", "/bin/busybox", "/bin/sh"} {
		if _, ok := shipped[gone]; ok {
			t.Errorf("%s ships", gone)
		}
	}
	if got := string(shipped["/opt/tools/data.txt"].Content); got != "data\n" {
		t.Errorf("/opt/tools/data.txt = %q, want the file the stage added", got)
	}
	assertHardened(t, img, shipped)
}
