package exceptions_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// TestExamples runs the example policies and the signed exceptions through
// the whole flow a build uses, against the real rule catalog: parse both,
// build the validation policy from the policy's exceptions control,
// validate at a time inside the records' windows, apply to findings.
func TestExamples(t *testing.T) {
	dir := "../../examples/policies"
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for _, name := range []string{"cis-docker.yaml", "hardenkit.yaml"} {
		if _, err := policy.Parse(name, read(name), catalog.Known); err != nil {
			t.Errorf("example policy: %v", err)
		}
	}
	pol, err := policy.Parse("hardenkit.yaml", read("hardenkit.yaml"), catalog.Known)
	if err != nil {
		t.Fatal(err)
	}
	ec := pol.Controls.Exceptions
	if !ec.RequireSignature || ec.File != "exceptions.yaml" {
		t.Fatalf("example policy exceptions control = %+v", ec)
	}
	vp, err := ec.ValidationPolicy(t.Context(), func(_ context.Context, path string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, path))
	})
	if err != nil {
		t.Fatal(err)
	}
	set, err := exceptions.Parse(ec.File, read(ec.File), catalog.Known)
	if err != nil {
		t.Fatal(err)
	}
	inWindow := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := set.Validate(inWindow, vp); err != nil {
		t.Errorf("Validate(%s) = %v", inWindow, err)
	}
	afterward := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	if err := set.Validate(afterward, vp); err == nil {
		t.Errorf("Validate(%s) accepted an expired exception", afterward)
	}
	// The records are signed: a policy with another approver rejects them.
	vp.ApproverKeys = nil
	if err := set.Validate(inWindow, vp); err == nil {
		t.Error("Validate() accepted signatures without approver keys")
	}

	findings := []rules.Finding{
		{Rule: "HK1020", Level: rules.LevelEnforce, File: "services/api/Dockerfile", Line: 7, StageName: "toolchain"},
		{Rule: "HK1020", Level: rules.LevelEnforce, File: "services/api/Dockerfile", Line: 30, StageName: "final"},
		{Rule: "HK1043", Level: rules.LevelEnforce, File: "ops/bastion/Dockerfile", Line: 12},
	}
	out := set.Apply(findings, exceptions.MatchContext{Image: "registry.example.com/ops/bastion:2026.11"})
	got := []string{string(out[0].Level) + ":" + out[0].Waiver, string(out[1].Level) + ":" + out[1].Waiver, string(out[2].Level) + ":" + out[2].Waiver}
	want := []string{"waived:EX-2026-014", "enforce:", "waived:EX-2026-015"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("finding %d = %s, want %s", i, got[i], want[i])
		}
	}
}
