package integration

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
)

// secretRuleRe matches the ids of the secret rules, static and image.
var secretRuleRe = regexp.MustCompile(`HK(?:106[0-2]|305[0-4])`)

// scanDoneRe is the in-build scanner's summary when every rule ran and
// every file was read.
var scanDoneRe = regexp.MustCompile(`hardenkit scan: \d+ findings, 0 unscanned files, 0 rules in error`)

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}

// TestSecretPrecisionRealApps builds one image holding ordinary Node.js
// (Debian's nodejs and npm, Express from npm), Python (python3-flask),
// Java (openjdk-17-jre-headless), Ruby and PHP (php-cli) installations
// through `# syntax=`, with every secret rule enforced: the in-build
// scanner reads every file, no secret rule fires, and the compliance
// statement shows the files the Debian package database vouches for,
// scanned with the high-confidence detectors only.
func TestSecretPrecisionRealApps(t *testing.T) {
	// npm reaches its registry over TLS, which some networks intercept:
	// the host's CA bundle goes into the context for a bind mount.
	bundle := cmp.Or(os.Getenv("NODE_EXTRA_CA_CERTS"), os.Getenv("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt")
	ca, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatalf("reading the host's CA bundle: %v", err)
	}
	dir := inspectContext(t, "realapps", map[string]contextFile{"host-ca.crt": {content: string(ca)}})
	dest := filepath.Join(t.TempDir(), "image.tar")
	out, err := buildWithBuildx(context.Background(), t, dir, filepath.Join(dir, "Dockerfile"), dest, nil)
	if m := secretRuleRe.FindAllString(out, -1); len(m) > 0 {
		t.Errorf("secret rules fired on public application files: %v", m)
	}
	// The in-build scanner ran over the whole image, every rule
	// evaluated, every file read — or a daemon that scanned the same
	// filesystem before answered from its cache, and the compliance
	// statement below says what that scan read.
	if !scanDoneRe.MatchString(out) && !hardenkitSteps(out)["[hardenkit] inspect the hardened image (in-build scanner)"] {
		t.Fatalf("the in-build scanner did not complete:\n%s", out)
	}
	if err != nil {
		// What follows the inspection (evidence for a 40,000-file image)
		// is not this test's subject, but it must not be a secret rule
		// or the inspection failing.
		if strings.Contains(out, "inspection of the hardened image") {
			t.Fatalf("the inspection failed the build:\n%s", out)
		}
		t.Fatalf("build failed after a clean inspection: %v\n%s", err, lastLines(out, 15))
	}
	dt, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	l, img := readOCI(t, dt)
	atts, err := l.Attestations(img.Descriptor.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts[compliance.PredicateType]) != 1 {
		t.Fatal("no compliance attestation")
	}
	var st struct {
		Predicate compliance.Predicate `json:"predicate"`
	}
	if err := json.Unmarshal(atts[compliance.PredicateType][0], &st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Predicate.Rules {
		if secretRuleRe.MatchString(r.ID) && r.Result != compliance.ResultPass {
			t.Errorf("rule %s: %s, want %s", r.ID, r.Result, compliance.ResultPass)
		}
	}
	in := st.Predicate.Inspection
	if in == nil {
		t.Fatal("no inspection record")
	}
	var files *compliance.SecretScan
	for i, s := range in.Secrets {
		if s.Place == "image-files" {
			files = &in.Secrets[i]
		}
	}
	if len(in.Unscanned) != 0 {
		t.Errorf("inspection.unscanned = %v, want every file read", in.Unscanned)
	}
	if files == nil || files.Scanned < 1000 || files.PackageVerified < 500 || files.Names < files.Scanned {
		t.Errorf("inspection.secrets image-files = %+v: want thousands of files, most verified against dpkg md5sums", files)
	}
	t.Logf("image files: %+v", files)
}
