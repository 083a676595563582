package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/exceptions"
)

// sshDockerfile violates HK1043 (EXPOSE 22) at line 4 once a `# syntax=`
// line is prepended; everything else about it hardens cleanly.
const sshDockerfile = `FROM busybox:1.35
COPY app /app
EXPOSE 22
USER 65532:65532
ENTRYPOINT ["/app"]
`

const unpinnedBasesPolicy = `apiVersion: hardenkit.dev/v1alpha1
kind: Policy
name: integration
baseline: strict
rules:
  HK1001: warn
`

// exceptionsFile waives HK1043 for Dockerfile, valid from created to
// expires, signed by a: the built-in baselines accept signed exceptions only.
func exceptionsFile(t *testing.T, a approver, created, expires time.Time) string {
	return exceptionsYAML(t, &a, exceptions.Exception{
		ID: "EX-IT-1", Rule: "HK1043", Scope: exceptions.Scope{Path: "Dockerfile"},
		Justification: "The integration test image exposes SSH to exercise the waiver path.",
		Owner:         "dev@example.com", ApprovedBy: "security@example.com",
		Created: created.Truncate(24 * time.Hour), Expires: expires.Truncate(24 * time.Hour),
	})
}

// TestPolicyThroughBuildx drives the policy the way a buildx user meets it:
// an enforced violation fails with the Dockerfile snippet, a warning shows
// in the build output, an approved exception lets the build through as
// waived, and an expired one fails it.
func TestPolicyThroughBuildx(t *testing.T) {
	ctx := context.Background()
	envv := buildxConfig(ctx, t)
	now := time.Now().UTC()
	a := newApprover(t)
	policy := unpinnedBasesPolicy + "controls:\n  exceptions:\n    approverKeys:\n      - |\n" + indentLines(a.pem, "        ")

	tests := []struct {
		name       string
		exceptions string // content of the hardenkit-exceptions context, "" for none
		wantErr    bool
		want       []string
	}{
		{
			name:    "violation fails with snippet",
			wantErr: true,
			want:    []string{"HK1043", "Dockerfile:4", ">>> EXPOSE 22"},
		},
		{
			name:       "approved exception waives",
			exceptions: exceptionsFile(t, a, now.AddDate(0, 0, -1), now.AddDate(0, 0, 30)),
			want:       []string{"HK1043", "waived by exception EX-IT-1", "HK1001"},
		},
		{
			name:       "expired exception fails",
			exceptions: exceptionsFile(t, a, now.AddDate(0, 0, -40), now.AddDate(0, 0, -2)),
			wantErr:    true,
			want:       []string{"EX-IT-1", "expired"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(sshDockerfile), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "app"), []byte("#!/app\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(".git\n.env\n**/*.key\n**/*.pem\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			// The test base images are built on this machine: their digests
			// cannot be pinned in the Dockerfile, so pinning only warns.
			if err := os.WriteFile(filepath.Join(dir, "hardenkit.yaml"), []byte(policy), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"buildx", "build", "--builder", "hardenkit-it", "--progress", "plain",
				"-f", withSyntax(t, filepath.Join(dir, "Dockerfile")),
				"--output", "type=oci,dest=" + filepath.Join(t.TempDir(), "image.tar")}
			if tt.exceptions != "" {
				exdir := t.TempDir()
				if err := os.WriteFile(filepath.Join(exdir, "exceptions.yaml"), []byte(tt.exceptions), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--build-context", "hardenkit-exceptions="+exdir)
			}
			out, err := run(ctx, t, envv, "docker", append(args, dir)...)
			if tt.wantErr != (err != nil) {
				t.Fatalf("build error = %v, want error %v:\n%s", err, tt.wantErr, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("buildx output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestCallCheckMergesFindings runs --call=check: BuildKit's own lint results
// and hardenkit's findings come back together.
func TestCallCheckMergesFindings(t *testing.T) {
	dir := t.TempDir()
	df := "FROM busybox:1.35 as base\nCOPY app /app\nEXPOSE 22\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n"
	for name, content := range map[string]string{"Dockerfile": df, "app": "#!/app\n", "hardenkit.yaml": unpinnedBasesPolicy} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	res, err := build(context.Background(), t, inProcess, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"),
		call: "check", attrs: map[string]string{"build-arg:HARDENKIT_MODE": "enforce"}})
	if err != nil {
		t.Fatalf("--call=check: %v\n%s", err, res.progress)
	}
	out := string(res.metadata["result.json"])
	for _, want := range []string{"FromAsCasing", "HK1043 ExposeSSH", "[enforce]", "HK1001 ", "[warn]"} {
		if !strings.Contains(out, want) {
			t.Errorf("check result lacks %q:\n%s", want, out)
		}
	}
}
