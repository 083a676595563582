package integration

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
)

// secretRuleRe matches the ids of the secret rules, static and image.
var secretRuleRe = regexp.MustCompile(`HK(?:106[0-2]|305[0-4])`)

// TestSecretPrecisionRealApps builds one image holding ordinary Node.js
// (Debian's nodejs and npm, Express from npm), Python (python3-flask),
// Java (openjdk-17-jre-headless), Ruby and PHP (php-cli) installations
// through `# syntax=`, with every secret rule enforced: no secret rule
// fires, and the compliance statement shows the files the Debian package
// database vouches for, scanned with the high-confidence detectors only.
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
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
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
	if files == nil || files.Scanned < 1000 || files.PackageVerified < 500 || files.Names < files.Scanned {
		t.Errorf("inspection.secrets image-files = %+v: want thousands of files, most verified against dpkg md5sums", files)
	}
	t.Logf("image files: %+v", files)
}
