package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingInputsSayWhatToDo builds through the CLI with an input the
// build names but does not find — a policy file, the exceptions file or
// approver key a policy names, OpenVEX documents in the VEX context — and
// checks that the build fails before anything runs, naming what is missing
// and what to do (the rows input-missing-policy, input-missing-exceptions,
// input-missing-approver-key and input-vex-empty of docs/errors.md). The
// CLI reads --policy itself and says so.
func TestMissingInputsSayWhatToDo(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		policy string            // hardenkit.yaml beside the Dockerfile, if any
		files  map[string]string // more files beside the Dockerfile
		args   []string
		want   []string
	}{
		{
			name: "policy file beside the Dockerfile",
			args: []string{"--build-arg", "HARDENKIT_POLICY=nope.yaml"},
			want: []string{"policy file nope.yaml not found beside the Dockerfile", "to fix:", "built-in baseline"},
		},
		{
			name: "policy file on the CLI",
			args: []string{"--policy", "nope.yaml"},
			want: []string{"--policy: reading nope.yaml", "to fix:", "built-in baseline"},
		},
		{
			name:   "exceptions file",
			policy: "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\nbaseline: strict\ncontrols:\n  exceptions:\n    file: waivers.yaml\n",
			want:   []string{"exceptions file waivers.yaml named by policy team does not exist beside the Dockerfile", "to fix:", "--exceptions FILE"},
		},
		{
			name:   "approver key file",
			policy: "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\nbaseline: strict\ncontrols:\n  exceptions:\n    file: waivers.yaml\n    approverKeys: [keys/security.pub]\n",
			files:  map[string]string{"waivers.yaml": "apiVersion: hardenkit.dev/v1alpha1\nkind: Exceptions\nexceptions: []\n"},
			want:   []string{"policy team: reading approver key keys/security.pub: keys/security.pub does not exist beside the Dockerfile", "to fix:", "hardenkit keygen", "inline as PEM"},
		},
		{
			name: "VEX context",
			args: []string{"--build-context", "hardenkit-vex=" + t.TempDir()},
			want: []string{"named context hardenkit-vex has no .json OpenVEX document", "to fix:", "--build-context hardenkit-vex=DIR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY Dockerfile /Dockerfile\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.policy != "" {
				if err := os.WriteFile(filepath.Join(dir, "hardenkit.yaml"), []byte(tt.policy), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"build", "--addr", env.BuildkitAddr, "--progress", "plain", "--output", "type=oci,dest=" + filepath.Join(t.TempDir(), "x.tar")}, tt.args...)
			out, err := run(ctx, t, nil, binaries.hardenkit, append(args, dir)...)
			if err == nil {
				t.Fatalf("the build passed:\n%s", tail(out, 30))
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, tail(out, 30))
				}
			}
		})
	}
}
