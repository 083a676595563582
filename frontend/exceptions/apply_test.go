package exceptions

import (
	"reflect"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

func TestApply(t *testing.T) {
	set := &Set{Source: "ex.yaml", Exceptions: []Exception{
		{ID: "stage", Rule: "HK1020", Scope: Scope{Stage: "toolchain"}},
		{ID: "path", Rule: "HK1043", Scope: Scope{Path: "services/*/Dockerfile"}},
		{ID: "image", Rule: "HK1001", Scope: Scope{Image: "registry.example.com/ops/*"}},
		{ID: "familiar", Rule: "HK1001", Scope: Scope{Image: "bastion"}},
		{ID: "cve", Rule: "HK5001", Scope: Scope{Package: "pkg:deb/debian/openssl", CVE: "CVE-2026-1234"}},
		{ID: "path-and-stage", Rule: "HK1020", Scope: Scope{Stage: "final", Path: "app/Dockerfile"}},
		{ID: "first-wins-later", Rule: "HK1020", Scope: Scope{Stage: "toolchain", Path: "x"}},
	}}
	subjects := map[string]Subject{
		"vuln-a": {Package: "pkg:deb/debian/openssl@3.0.15-1?arch=amd64", CVE: "cve-2026-1234"},
		"vuln-b": {Package: "pkg:deb/debian/openssl-dev@3.0.15-1", CVE: "CVE-2026-1234"},
		"vuln-c": {Package: "pkg:deb/debian/openssl@3.0.15-1", CVE: "CVE-2026-9999"},
	}
	ctx := MatchContext{
		Image:   "registry.example.com/ops/bastion:1.4",
		Subject: func(f rules.Finding) Subject { return subjects[f.Message] },
	}
	tests := []struct {
		name      string
		f         rules.Finding
		ctx       MatchContext
		wantLevel rules.Level
		wantBy    string
	}{
		{"stage matches", rules.Finding{Rule: "HK1020", Level: rules.LevelEnforce, File: "Dockerfile", StageName: "toolchain"}, ctx, rules.LevelWaived, "stage"},
		{"stage differs", rules.Finding{Rule: "HK1020", Level: rules.LevelEnforce, StageName: "build"}, ctx, rules.LevelEnforce, ""},
		{"other rule, same scope", rules.Finding{Rule: "HK1043", Level: rules.LevelEnforce, StageName: "toolchain"}, ctx, rules.LevelEnforce, ""},
		{"warn is waived too", rules.Finding{Rule: "HK1043", Level: rules.LevelWarn, File: "services/api/Dockerfile"}, ctx, rules.LevelWaived, "path"},
		{"path glob stays in its segment", rules.Finding{Rule: "HK1043", Level: rules.LevelWarn, File: "services/api/v2/Dockerfile"}, ctx, rules.LevelWarn, ""},
		{"path scope needs a file", rules.Finding{Rule: "HK1043", Level: rules.LevelWarn}, ctx, rules.LevelWarn, ""},
		{"image by full name", rules.Finding{Rule: "HK1001", Level: rules.LevelEnforce}, ctx, rules.LevelWaived, "image"},
		{"image by familiar name", rules.Finding{Rule: "HK1001", Level: rules.LevelEnforce}, MatchContext{Image: "bastion:latest"}, rules.LevelWaived, "familiar"},
		{"image differs", rules.Finding{Rule: "HK1001", Level: rules.LevelEnforce}, MatchContext{Image: "registry.example.com/web/app"}, rules.LevelEnforce, ""},
		{"no image: image scopes never match", rules.Finding{Rule: "HK1001", Level: rules.LevelEnforce}, MatchContext{}, rules.LevelEnforce, ""},
		{"unparsable image", rules.Finding{Rule: "HK1001", Level: rules.LevelEnforce}, MatchContext{Image: "Bad Ref"}, rules.LevelEnforce, ""},
		{"package prefix and CVE, case-insensitive", rules.Finding{Rule: "HK5001", Level: rules.LevelEnforce, Message: "vuln-a"}, ctx, rules.LevelWaived, "cve"},
		{"package prefix stops at a name boundary", rules.Finding{Rule: "HK5001", Level: rules.LevelEnforce, Message: "vuln-b"}, ctx, rules.LevelEnforce, ""},
		{"other CVE in the same package", rules.Finding{Rule: "HK5001", Level: rules.LevelEnforce, Message: "vuln-c"}, ctx, rules.LevelEnforce, ""},
		{"no subject function", rules.Finding{Rule: "HK5001", Level: rules.LevelEnforce, Message: "vuln-a"}, MatchContext{}, rules.LevelEnforce, ""},
		{"every scope field must match", rules.Finding{Rule: "HK1020", Level: rules.LevelEnforce, File: "other/Dockerfile", StageName: "final"}, ctx, rules.LevelEnforce, ""},
		{"all fields match", rules.Finding{Rule: "HK1020", Level: rules.LevelEnforce, File: "app/Dockerfile", StageName: "final"}, ctx, rules.LevelWaived, "path-and-stage"},
		{"first matching exception wins", rules.Finding{Rule: "HK1020", Level: rules.LevelEnforce, File: "x", StageName: "toolchain"}, ctx, rules.LevelWaived, "stage"},
		{"already waived stays", rules.Finding{Rule: "HK1020", Level: rules.LevelWaived, StageName: "toolchain", Waiver: "inline"}, ctx, rules.LevelWaived, "inline"},
		{"off is not touched", rules.Finding{Rule: "HK1020", Level: rules.LevelOff, StageName: "toolchain"}, ctx, rules.LevelOff, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []rules.Finding{tt.f}
			out := set.Apply(in, tt.ctx)
			if len(out) != 1 {
				t.Fatalf("Apply() returned %d findings, want 1", len(out))
			}
			if out[0].Level != tt.wantLevel || out[0].Waiver != tt.wantBy {
				t.Errorf("Apply() = level %q waiver %q, want %q %q", out[0].Level, out[0].Waiver, tt.wantLevel, tt.wantBy)
			}
			want := tt.f
			want.Level, want.Waiver = out[0].Level, out[0].Waiver
			if !reflect.DeepEqual(out[0], want) {
				t.Errorf("Apply() changed more than level and waiver: %+v", out[0])
			}
			if !reflect.DeepEqual(in[0], tt.f) {
				t.Errorf("Apply() modified its input")
			}
		})
	}
}

func TestApplyKeepsEveryFinding(t *testing.T) {
	set := &Set{Exceptions: []Exception{{ID: "w", Rule: "HK1020", Scope: Scope{Path: "Dockerfile"}}}}
	in := []rules.Finding{
		{Rule: "HK1020", Level: rules.LevelEnforce, File: "Dockerfile", Line: 3, Message: "curl | sh"},
		{Rule: "HK1043", Level: rules.LevelWarn, File: "Dockerfile", Line: 9, Message: "EXPOSE 22"},
		{Rule: "HK1020", Level: rules.LevelEnforce, File: "Dockerfile", Line: 12, Message: "wget | bash"},
	}
	out := set.Apply(in, MatchContext{})
	want := []rules.Finding{
		{Rule: "HK1020", Level: rules.LevelWaived, File: "Dockerfile", Line: 3, Message: "curl | sh", Waiver: "w"},
		{Rule: "HK1043", Level: rules.LevelWarn, File: "Dockerfile", Line: 9, Message: "EXPOSE 22"},
		{Rule: "HK1020", Level: rules.LevelWaived, File: "Dockerfile", Line: 12, Message: "wget | bash", Waiver: "w"},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("Apply() =\n%+v\nwant\n%+v", out, want)
	}
	var none *Set
	if got := none.Apply(in, MatchContext{}); !reflect.DeepEqual(got, in) {
		t.Errorf("nil Set Apply() = %+v", got)
	}
	if got := set.Apply(nil, MatchContext{}); len(got) != 0 {
		t.Errorf("Apply(nil) = %+v", got)
	}
}

func TestMatchesNeverWithoutScope(t *testing.T) {
	// Validate rejects a scopeless exception; Matches must not rely on it.
	e := Exception{ID: "all", Rule: "HK1020"}
	if e.Matches(rules.Finding{Rule: "HK1020", Level: rules.LevelEnforce}, MatchContext{}) {
		t.Error("an exception without scope matched")
	}
}

func TestPurlMatches(t *testing.T) {
	tests := []struct {
		prefix, purl string
		want         bool
	}{
		{"pkg:npm/lodash", "pkg:npm/lodash", true},
		{"pkg:npm/lodash", "pkg:npm/lodash@4.17.21", true},
		{"pkg:npm/lodash", "pkg:npm/lodash.merge@4.6.2", false},
		{"pkg:npm/@babel", "pkg:npm/@babel/core@7.0.0", true},
		{"pkg:npm/@babel/", "pkg:npm/@babel/core@7.0.0", true},
		{"pkg:deb/debian/openssl@3.0", "pkg:deb/debian/openssl@3.0.15", false},
		{"pkg:deb/debian/openssl@3.0.15", "pkg:deb/debian/openssl@3.0.15?arch=amd64", true},
		{"pkg:golang/example.com/mod", "pkg:golang/example.com/mod#sub/pkg", true},
		{"pkg:npm/lodash", "", false},
	}
	for _, tt := range tests {
		if got := purlMatches(tt.prefix, tt.purl); got != tt.want {
			t.Errorf("purlMatches(%q, %q) = %v, want %v", tt.prefix, tt.purl, got, tt.want)
		}
	}
}
