package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolvePlanRefusals: a bad --policy or --exceptions file is an error
// that names the flag and says what to do, and whatever resolvePlan made
// before it failed is removed.
func TestResolvePlanRefusals(t *testing.T) {
	dir := t.TempDir()
	dockerfile := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(dockerfile, []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte("apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts buildOptions
		want string
	}{
		{"policy file missing", buildOptions{file: dockerfile, policy: filepath.Join(dir, "nope.yaml")}, "--policy: reading"},
		{"exceptions file missing after a policy file", buildOptions{file: dockerfile, policy: policyFile, exceptions: filepath.Join(dir, "nope.yaml")}, "--exceptions: reading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tempEntries(t)
			plan, cleanup, err := resolvePlan(t.Context(), &tt.opts, dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "to fix:") {
				t.Fatalf("resolvePlan = %v, %v; want an error with %q and a fix", plan, err, tt.want)
			}
			if cleanup != nil {
				t.Error("a failed resolvePlan returned a cleanup: the caller would run it twice")
			}
			if after := tempEntries(t); after > before {
				t.Errorf("%d temporary entries left behind", after-before)
			}
		})
	}
}

func tempEntries(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if strings.HasPrefix(e.Name(), "hardenkit-") {
			n++
		}
	}
	return n
}
