package integration

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/pkg/ocilayout"
)

// inspectTestdata is the directory of the inspection tests' Dockerfiles
// and policies.
const inspectTestdata = "testdata/inspect"

// contextFile is one file the inspection tests write into a build context.
type contextFile struct {
	content string
	mode    fs.FileMode // 0 means 0o644
}

// inspectContext copies testdata/inspect/<name> into a fresh directory and
// writes files (relative path → file) into it: the planted files, which
// are generated per run and never stored in the repository.
func inspectContext(t *testing.T, name string, files map[string]contextFile) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(inspectTestdata, name)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		dt, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), dt, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for rel, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, []byte(f.content), mode); err != nil {
			t.Fatal(err)
		}
		// WriteFile applies the umask; the planted mode must be exact.
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var setcapOnce struct {
	sync.Once
	path string
	err  error
}

// copySetcap builds testdata/inspect/setcap (once) and copies it to dest:
// a static program that sets a file capability, as setcap(8) does, for
// a busybox stage to run.
func copySetcap(t *testing.T, dest string) {
	t.Helper()
	setcapOnce.Do(func() {
		setcapOnce.path = filepath.Join(binaries.dir, "setcap")
		cmd := exec.Command("go", "build", "-trimpath", "-o", setcapOnce.path, "./"+inspectTestdata+"/setcap")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			setcapOnce.err = fmt.Errorf("building setcap: %w\n%s", err, out)
		}
	})
	if setcapOnce.err != nil {
		t.Fatal(setcapOnce.err)
	}
	dt, err := os.ReadFile(setcapOnce.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dest, dt, 0o755); err != nil {
		t.Fatal(err)
	}
}

// instructionLine returns the 1-based line of the first Dockerfile line
// that starts with prefix, so tests never hard-code line numbers.
func instructionLine(t *testing.T, dockerfile, prefix string) int {
	t.Helper()
	dt, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(dt), "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line starting with %q", dockerfile, prefix)
	return 0
}

// complianceFinding and complianceRule are the parts of the compliance
// predicate the inspection tests read.
type complianceFinding struct {
	Level       string `json:"level"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	EndLine     int    `json:"endLine"`
	Message     string `json:"message"`
	Fingerprint string `json:"fingerprint"`
}

type complianceRule struct {
	ID       string              `json:"id"`
	Result   string              `json:"result"`
	Findings []complianceFinding `json:"findings"`
}

// findingsAt returns r's findings whose file is file.
func (r complianceRule) findingsAt(file string) []complianceFinding {
	var out []complianceFinding
	for _, f := range r.Findings {
		if f.File == file {
			out = append(out, f)
		}
	}
	return out
}

func (r complianceRule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s result=%s", r.ID, r.Result)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "\n    [%s] %s:%d %s (fp %s)", f.Level, f.File, f.Line, f.Message, f.Fingerprint)
	}
	return b.String()
}

// fingerprintRe is the form of a secret fingerprint in findings.
var fingerprintRe = regexp.MustCompile(`^[0-9a-f]{16}$`)

// readOCI parses an OCI layout tarball held in memory and returns its one
// image.
func readOCI(t *testing.T, oci []byte) (*ocilayout.Layout, *ocilayout.Image) {
	t.Helper()
	if len(oci) == 0 {
		t.Fatal("the build exported no OCI tarball")
	}
	l, err := ocilayout.Read(bytes.NewReader(oci))
	if err != nil {
		t.Fatal(err)
	}
	img, err := l.Single()
	if err != nil {
		t.Fatal(err)
	}
	return l, img
}

// complianceOf returns the rules of the compliance attestation attached to
// the image of an OCI tarball, by id.
func complianceOf(t *testing.T, oci []byte) map[string]complianceRule {
	t.Helper()
	var st struct {
		PredicateType string `json:"predicateType"`
		Predicate     struct {
			Rules []complianceRule `json:"rules"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(complianceStatement(t, oci), &st); err != nil {
		t.Fatal(err)
	}
	out := map[string]complianceRule{}
	for _, r := range st.Predicate.Rules {
		out[r.ID] = r
	}
	return out
}

// inspectionScanner returns how the compliance attestation says the image
// was inspected: "in-build" (the frontend image's scanner step) or
// "gateway" (in-process reads).
func inspectionScanner(t *testing.T, oci []byte) string {
	t.Helper()
	l, img := readOCI(t, oci)
	atts, err := l.Attestations(img.Descriptor.Digest)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Predicate struct {
			Inspection *struct {
				Scanner string `json:"scanner"`
			} `json:"inspection"`
		} `json:"predicate"`
	}
	if len(atts[compliance.PredicateType]) != 1 {
		t.Fatal("no compliance attestation")
	}
	if err := json.Unmarshal(atts[compliance.PredicateType][0], &st); err != nil {
		t.Fatal(err)
	}
	if st.Predicate.Inspection == nil {
		return ""
	}
	return st.Predicate.Inspection.Scanner
}

// wantScanner is the inspection scanner each variant must use.
var wantScanner = map[variant]string{inProcess: "gateway", gateway: "in-build"}

// imageRuleIDs are the ids of the image inspection rules (HK30xx).
func imageRuleIDs() []string {
	var ids []string
	for _, r := range inspect.Rules() {
		ids = append(ids, r.ID)
	}
	return ids
}

// warnings returns the build warnings of a client's output that name rule:
// inline in plain progress ("#12 WARN: HK3030 CredentialStoreInImage: …")
// or in the summary the CLIs print at the end (" - HK3030 …").
func warnings(output, rule string) []string {
	var out []string
	for _, l := range strings.Split(output, "\n") {
		for _, marker := range []string{"WARN: ", "- "} {
			if i := strings.Index(l, marker+rule+" "); i >= 0 {
				out = append(out, l[i+len(marker):])
				break
			}
		}
	}
	return out
}

// copyFindings returns HK3054's findings by Dockerfile line, and fails t
// for each one whose file is not the Dockerfile (the compliance
// attestation locates them by file and line).
func copyFindings(t *testing.T, r complianceRule) map[int]complianceFinding {
	t.Helper()
	out := map[int]complianceFinding{}
	for _, f := range r.Findings {
		if f.File != "Dockerfile" {
			t.Errorf("%s finding at line %d has file %q, want Dockerfile: %s", r.ID, f.Line, f.File, f.Message)
		}
		out[f.Line] = f
	}
	return out
}

// captured is everything a client command gave its user.
type captured struct {
	stdout, stderr string
	err            error
}

// runCaptured runs a command with stdout and stderr kept apart.
func runCaptured(ctx context.Context, envv []string, name string, args ...string) captured {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), envv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return captured{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// decodeRawJSON renders the text a --progress=rawjson stream carries
// base64-encoded in JSON ([]byte fields), so that secrets are looked for
// in what a reader of the stream decodes, not only in its encoding:
// messages are vertex names and errors, statuses, logs and warning
// messages and details (and the lines that are not a solve status);
// sources are the source files warnings carry (the Dockerfile, whole).
func decodeRawJSON(stream string) (messages, sources string, statuses int) {
	var m, src strings.Builder
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		var ss client.SolveStatus
		if !strings.HasPrefix(strings.TrimSpace(line), "{") || json.Unmarshal([]byte(line), &ss) != nil {
			m.WriteString(line + "\n")
			continue
		}
		statuses++
		for _, v := range ss.Vertexes {
			fmt.Fprintf(&m, "vertex %s %s\n", v.Name, v.Error)
		}
		for _, s := range ss.Statuses {
			fmt.Fprintf(&m, "status %s %s\n", s.ID, s.Name)
		}
		for _, l := range ss.Logs {
			fmt.Fprintf(&m, "log %s\n", l.Data)
		}
		for _, w := range ss.Warnings {
			fmt.Fprintf(&m, "warning %s %s\n", w.Short, w.URL)
			for _, d := range w.Detail {
				fmt.Fprintf(&m, "  detail %s\n", d)
			}
			if w.SourceInfo != nil {
				fmt.Fprintf(&src, "source %s of warning %q\n%s\n", w.SourceInfo.Filename, w.Short, w.SourceInfo.Data)
			}
		}
	}
	return m.String(), src.String(), statuses
}

// exportedTexts returns every entry of an OCI layout tarball as text, by
// name, except the blobs of image layers (listed separately): index,
// manifests, image configs and attestations. Compressed blobs are
// decompressed.
func exportedTexts(t *testing.T, oci []byte) (texts map[string]string, layers []digest.Digest) {
	t.Helper()
	l, err := ocilayout.Read(bytes.NewReader(oci))
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := l.Images()
	if err != nil {
		t.Fatal(err)
	}
	isLayer := map[string]bool{}
	for _, img := range imgs {
		for _, d := range img.Manifest.Layers {
			isLayer[d.Digest.Encoded()] = true
			layers = append(layers, d.Digest)
		}
	}
	texts = map[string]string{}
	tr := tar.NewReader(bytes.NewReader(oci))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if isLayer[filepath.Base(h.Name)] {
			continue
		}
		dt, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if zr, err := gzip.NewReader(bytes.NewReader(dt)); err == nil {
			if plain, err := io.ReadAll(zr); err == nil {
				dt = plain
			}
		}
		texts[h.Name] = string(dt)
	}
	return texts, layers
}
