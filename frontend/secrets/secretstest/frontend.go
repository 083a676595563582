package secretstest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// frontendPkg is the frontend image's entry point.
const frontendPkg = "github.com/hardenkit/hardenkit/cmd/hardenkit-frontend"

// FrontendBinary builds the frontend image's static binary from this
// checkout into a fresh t.TempDir(), as the Makefile and the development
// environment build it (CGO_ENABLED=0, -trimpath), and returns its path.
// It never skips: the binary embeds gitleaks' rule configuration, syft
// and grype, and the image that ships it must pass its own secret scan.
func FrontendBinary(t testing.TB) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building %s needs the go command: %v", frontendPkg, err)
	}
	out := filepath.Join(t.TempDir(), "hardenkit-frontend")
	cmd := exec.Command(goTool, "build", "-trimpath", "-o", out, frontendPkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build -trimpath %s: %v\n%s", frontendPkg, err, strings.TrimSpace(stderr.String()))
	}
	return out
}
