package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/exceptions"
)

// TestReportInChromium builds examples/debian-app hardened (with a signed
// exception waiving its unpinned bases) and plain, renders `hardenkit
// report --format html` in Debian's headless Chromium and asserts on what
// a person sees: the verdict, the CIS table, the exception with its owner,
// approver and expiry, and the sizes before and after. The screenshot is
// kept under out/report/ as the test's artifact; the markdown form must
// state the same facts.
func TestReportInChromium(t *testing.T) {
	ctx := context.Background()
	chromium := ensureChromium(ctx, t)
	dir, exFile := debianAppWithException(ctx, t)
	tmp := t.TempDir()
	hardened, plain := filepath.Join(tmp, "app.tar"), filepath.Join(tmp, "app-plain.tar")
	if out, err := run(ctx, t, nil, binaries.hardenkit, "build", "--addr", env.BuildkitAddr, "--progress", "plain",
		"--exceptions", exFile, "--output", "type=oci,dest="+hardened, dir); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if out, err := buildWithCLI(ctx, t, dir, filepath.Join(dir, "Dockerfile"), plain, []string{"HARDENKIT_MODE=off"}); err != nil {
		t.Fatalf("plain build: %v\n%s", err, out)
	}
	artifacts, err := filepath.Abs(filepath.Join("..", "out", "report"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	html, md := filepath.Join(artifacts, "debian-app.html"), filepath.Join(artifacts, "debian-app.md")
	for f, format := range map[string]string{html: "html", md: "markdown"} {
		if out, err := run(ctx, t, nil, binaries.hardenkit, "report", "--format", format, "--plain", plain, "-o", f, hardened); err != nil {
			t.Fatalf("hardenkit report --format %s: %v\n%s", format, err, out)
		}
	}
	want := []string{
		"Verdict: PASS",
		"CIS Docker Benchmark §4", "Ensure that a user for the container has been created", "HK1050 pass",
		"EX-REPORT-1", "dev@example.com", "security@example.com", time.Now().UTC().AddDate(0, 0, 20).Format("2006-01-02"),
		"Before hardening:", "After hardening:", "smaller",
	}
	dom, err := run(ctx, t, nil, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://"+html)
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v\n%s", err, dom)
	}
	visible := visibleText(dom)
	for _, w := range want {
		if !strings.Contains(visible, w) {
			t.Errorf("the rendered page does not show %q", w)
		}
	}
	shot := filepath.Join(artifacts, "debian-app.png")
	if out, err := run(ctx, t, nil, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--window-size=412,3000", "--screenshot="+shot, "file://"+html); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot %s: %v (a blank page is a few KB)", shot, err)
	}
	mdText, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	plainMD := strings.ReplaceAll(string(mdText), `\_`, "_")
	for _, w := range want {
		if !strings.Contains(plainMD, w) {
			t.Errorf("the markdown report does not say %q", w)
		}
	}
	t.Logf("report: %s, screenshot: %s", html, shot)
}

// debianAppWithException copies examples/debian-app with a policy that
// trusts a fresh approver key, and writes an exception, signed with it,
// that waives the example's unpinned base images (HK1001).
func debianAppWithException(ctx context.Context, t *testing.T) (dir, exFile string) {
	t.Helper()
	dir = t.TempDir()
	for _, f := range []string{"Dockerfile", "app.c"} {
		b, err := os.ReadFile(filepath.Join("..", "examples", "debian-app", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keyDir := t.TempDir()
	password := []string{"COSIGN_PASSWORD=approver-password"}
	if out, err := run(ctx, t, password, binaries.hardenkit, "keygen", "--output-prefix", filepath.Join(keyDir, "approver")); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(filepath.Join(keyDir, "approver.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pol := `apiVersion: hardenkit.dev/v1alpha1
kind: Policy
name: report
baseline: strict
rules:
  HK1001: warn
  HK1030: warn
controls:
  exceptions:
    approverKeys:
      - |
` + indentLines(string(pub), "        ")
	if err := os.WriteFile(filepath.Join(dir, "hardenkit.yaml"), []byte(pol), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exFile = filepath.Join(t.TempDir(), "exceptions.yaml")
	rec := exceptions.Exception{ID: "EX-REPORT-1", Rule: "HK1001", Scope: exceptions.Scope{Path: "Dockerfile"},
		Justification: "the dev environment builds its base images locally; their digests are machine-local",
		Owner:         "dev@example.com", ApprovedBy: "security@example.com",
		Created: now.AddDate(0, 0, -1), Expires: now.AddDate(0, 0, 20)}
	if err := os.WriteFile(exFile, []byte(exceptionsYAML(t, nil, rec)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(ctx, t, password, binaries.hardenkit, "exceptions", "sign", "--key", filepath.Join(keyDir, "approver.key"), exFile); err != nil {
		t.Fatalf("exceptions sign: %v\n%s", err, out)
	}
	return dir, exFile
}

// ensureChromium returns Debian's chromium, installing it as `make deps`
// installs packages when it is missing (the tests run as root).
func ensureChromium(ctx context.Context, t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "chromium"}} {
		if out, err := run(ctx, t, []string{"DEBIAN_FRONTEND=noninteractive"}, "apt-get", args...); err != nil {
			t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	styleOrSVG = regexp.MustCompile(`(?s)<style.*?</style>|<title>.*?</title>`)
	tag        = regexp.MustCompile(`<[^>]*>`)
	spaces     = regexp.MustCompile(`\s+`)
)

// visibleText is the text of the rendered DOM a reader sees: tags,
// styles and the title dropped, entities decoded, space collapsed.
func visibleText(dom string) string {
	s := tag.ReplaceAllString(styleOrSVG.ReplaceAllString(dom, ""), " ")
	s = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&nbsp;", " ").Replace(s)
	return spaces.ReplaceAllString(s, " ")
}
