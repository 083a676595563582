package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

// precedenceCatalog is a small catalog: one rule strict enforces, one it
// warns about (CIS 4.6), one of the image stage.
var precedenceCatalog = []rules.Rule{
	{ID: "HK1043", Family: rules.FamilyHardening, Severity: rules.SeverityHigh, Stage: rules.StageStatic, CIS: []string{"4.1"}},
	{ID: "HK1046", Family: rules.FamilyHardening, Severity: rules.SeverityLow, Stage: rules.StageStatic, CIS: []string{"4.6"}},
	{ID: "HK3052", Family: rules.FamilySecrets, Severity: rules.SeverityCritical, Stage: rules.StageImage},
}

func builtinTools(category string) []string {
	if category == "shells" {
		return []string{"sh", "bash"}
	}
	return []string{"x"}
}

// TestPrecedence: a policy of lower rank may only tighten the one above
// it. Every kind of weakening fails naming the source, its line and the
// setting; tightening is accepted and becomes the effective policy.
func TestPrecedence(t *testing.T) {
	const upper = hdr + `controls:
  mode:
    allowOff: false
  exceptions:
    maxLifetime: 30d
    requireSignature: true
    approverKeys: [keys/security.pub]
  secrets:
    allowPaths: [/app/testdata/**]
  vulnerabilities:
    failOn: medium
  distroless:
    allowedBases:
      - pattern: gcr.io/distroless/static-debian12
  tooling:
    keep: [/bin/sh]
`
	type check func(t *testing.T, p *Policy)
	level := func(id string, want rules.Level) check {
		return func(t *testing.T, p *Policy) {
			for _, r := range precedenceCatalog {
				if r.ID == id && p.Level(r) != want {
					t.Errorf("level of %s = %s, want %s", id, p.Level(r), want)
				}
			}
		}
	}
	tests := []struct {
		name     string
		lower    string // the file beside the Dockerfile
		explicit string // HARDENKIT_POLICY, a baseline name
		wantErr  []string
		want     []check
		// unchanged: the lower source restates what is already in effect.
		unchanged bool
	}{
		// weakening, refused
		{name: "lower a level", lower: hdr + "rules:\n  HK1043: warn\n",
			wantErr: []string{"hardenkit.yaml:5: rules.HK1043: would lower HK1043 from enforce to warn", "hardenkit.yaml (dockerfile) may only tighten", "ctx.yaml (ci)",
				"to fix: remove these settings from hardenkit.yaml, or make them at least as strict as ctx.yaml (ci) has them",
				"can only be changed by the owner of the policy that sets it (ctx.yaml (ci)), there"}},
		{name: "switch a rule off", lower: hdr + "rules:\n  HK3052: off\n",
			wantErr: []string{"hardenkit.yaml:5: rules.HK3052: would lower HK3052 from enforce to off"}},
		{name: "defaults off", lower: hdr + "defaults:\n  level: off\n",
			wantErr: []string{"hardenkit.yaml:5: defaults.level: would lower 2 rules from enforce to off: HK1043, HK3052\n"}},
		{name: "selector off", lower: hdr + "defaults:\n  select:\n    - stages: [image]\n      level: off\n",
			wantErr: []string{"defaults.select: would lower HK3052 from enforce to off"}},
		{name: "allow off", lower: hdr + "controls:\n  mode:\n    allowOff: true\n",
			wantErr: []string{"hardenkit.yaml:6: controls.mode.allowOff: true would allow HARDENKIT_MODE=off"}},
		{name: "built-in by build arg allows off", explicit: "strict",
			wantErr: []string{"builtin:strict (build-arg) may only tighten", "builtin:strict: controls.mode.allowOff: true would allow HARDENKIT_MODE=off",
				"controls.exceptions.maxLifetime: 90d would extend exception lifetimes beyond 30d",
				"to fix: drop HARDENKIT_POLICY=strict (the build arg or --policy flag): ctx.yaml (ci) already sets the policy"}},
		{name: "extend exception lifetime", lower: hdr + "controls:\n  exceptions:\n    maxLifetime: 60d\n",
			wantErr: []string{"hardenkit.yaml:6: controls.exceptions.maxLifetime: 60d would extend exception lifetimes beyond 30d"}},
		{name: "unsigned exceptions", lower: hdr + "controls:\n  exceptions:\n    requireSignature: false\n",
			wantErr: []string{"controls.exceptions.requireSignature: false would accept unsigned exceptions"}},
		{name: "own approver key", lower: hdr + "controls:\n  exceptions:\n    approverKeys: [keys/security.pub, keys/me.pub]\n",
			wantErr: []string{"controls.exceptions.approverKeys: 1 key(s) the higher policy does not name"}},
		{name: "inline suppressions", lower: hdr + "controls:\n  exceptions:\n    allowInline: true\n",
			wantErr: []string{"controls.exceptions.allowInline: true"}},
		{name: "wider secret allow-list", lower: hdr + "controls:\n  secrets:\n    allowPaths: [/app/testdata/**, /app/**]\n",
			wantErr: []string{"controls.secrets.allowPaths: would stop reporting secrets in /app/**"}},
		{name: "allow a detector", lower: hdr + "controls:\n  secrets:\n    allowRules: [generic-api-key]\n",
			wantErr: []string{"controls.secrets.allowRules: would stop reporting detector generic-api-key"}},
		{name: "scan less", lower: hdr + "controls:\n  secrets:\n    maxFileSize: 1024\n",
			wantErr: []string{"controls.secrets.maxFileSize: 1024 would scan less than 10485760 bytes"}},
		{name: "raise failOn", lower: hdr + "controls:\n  vulnerabilities:\n    failOn: critical\n",
			wantErr: []string{"controls.vulnerabilities.failOn: critical would let medium vulnerabilities through"}},
		{name: "older database", lower: hdr + "controls:\n  vulnerabilities:\n    maxDBAge: 30d\n",
			wantErr: []string{"controls.vulnerabilities.maxDBAge: 30d would accept a database older than 5d"}},
		{name: "weaker distroless mode", lower: hdr + "controls:\n  distroless:\n    mode: strip\n",
			wantErr: []string{"controls.distroless.mode: strip is weaker than rebase"}},
		{name: "drop the base allow-list", lower: hdr + "controls:\n  distroless:\n    allowedBases: []\n",
			wantErr: []string{"controls.distroless.allowedBases: an empty list would drop the allow-list"}},
		{name: "another base", lower: hdr + "controls:\n  distroless:\n    allowedBases:\n      - pattern: docker.io/library/debian\n",
			wantErr: []string{"docker.io/library/debian is not among the allowed bases"}},
		{name: "keep more", lower: hdr + "controls:\n  tooling:\n    keep: [/bin/sh, /usr/bin/curl]\n",
			wantErr: []string{"controls.tooling.keep: would keep /usr/bin/curl"}},
		{name: "remove fewer shells", lower: hdr + "controls:\n  tooling:\n    shells: [sh]\n",
			wantErr: []string{"controls.tooling.shells: would stop removing bash"}},
		{name: "no user injection", lower: hdr + "controls:\n  user:\n    inject: false\n",
			wantErr: []string{"controls.user.inject: false would stop injecting"}},
		{name: "every weakening reported together", lower: hdr + "rules:\n  HK1043: off\ncontrols:\n  mode:\n    allowOff: true\n",
			wantErr: []string{"rules.HK1043", "controls.mode.allowOff"}},

		// tightening, accepted
		{name: "restate forbidding off and inline suppressions", unchanged: true, lower: hdr + "controls:\n  mode:\n    allowOff: false\n  exceptions:\n    allowInline: false\n",
			want: []check{func(t *testing.T, p *Policy) {
				if p.Controls.Mode.AllowOff || p.Controls.Exceptions.AllowInline {
					t.Errorf("mode/inline = %+v %+v", p.Controls.Mode, p.Controls.Exceptions)
				}
			}}},
		{name: "raise a warning to enforce", lower: hdr + "rules:\n  HK1046: enforce\n",
			want: []check{level("HK1046", rules.LevelEnforce), level("HK1043", rules.LevelEnforce)}},
		{name: "a weaker baseline's inherited settings are no attempt, its stricter ones apply", lower: hdr + "baseline: cis-docker\n",
			want: []check{level("HK3052", rules.LevelEnforce), level("HK1046", rules.LevelEnforce), func(t *testing.T, p *Policy) {
				if p.Controls.Mode.AllowOff || time.Duration(p.Controls.Exceptions.MaxLifetime) != 30*24*time.Hour {
					t.Errorf("inherited baseline settings replaced the higher policy's: %+v", p.Controls)
				}
			}}},
		{name: "shorter lifetimes, lower threshold, fewer allowances", lower: hdr + `controls:
  exceptions:
    maxLifetime: 7d
  vulnerabilities:
    failOn: low
    requireDB: true
  secrets:
    allowPaths: []
    maxFileSize: 20971520
  tooling:
    keep: []
    shells: [sh, bash, dash]
  distroless:
    mode: require
`, want: []check{func(t *testing.T, p *Policy) {
			c := p.Controls
			if time.Duration(c.Exceptions.MaxLifetime) != 7*24*time.Hour || c.Vulnerabilities.FailOn != rules.SeverityLow || !c.Vulnerabilities.RequireDB ||
				len(c.Secrets.AllowPaths) != 0 || c.Secrets.MaxFileSize != 20971520 || len(c.Tooling.Keep) != 0 ||
				len(c.Tooling.Shells) != 3 || c.Distroless.Mode != DistrolessRequire || c.Mode.AllowOff {
				t.Errorf("effective controls = %+v", c)
			}
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Sources{
				NamedContext: func() ([]byte, string, bool, error) { return []byte(upper), "ctx.yaml", true, nil },
				Explicit:     tt.explicit,
				Ranking:      Ranking{Catalog: precedenceCatalog, BuiltinTools: builtinTools},
			}
			if tt.lower != "" {
				s.BesideDockerfile = func() ([]byte, bool, error) { return []byte(tt.lower), true, nil }
			}
			p, err := Discover(t.Context(), s, nil)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Discover() accepted a weakening: %+v", p)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover() = %v", err)
			}
			for _, c := range tt.want {
				c(t, p)
			}
			if len(p.Sources) != 2 || p.Sources[0].Rank != RankCI || p.Sources[1].Rank != RankDockerfile || !strings.HasPrefix(p.Sources[1].Digest, "sha256:") {
				t.Errorf("sources = %+v", p.Sources)
			}
			upperOnly, err := Parse("ctx.yaml", []byte(upper), nil)
			if err != nil {
				t.Fatal(err)
			}
			if (p.Digest() == upperOnly.Digest()) != tt.unchanged {
				t.Errorf("effective digest equal to the higher policy's: %v, want %v", p.Digest() == upperOnly.Digest(), tt.unchanged)
			}
		})
	}
}

// TestPrecedenceRanks: the organisation's policy outranks CI's, CI's the
// Dockerfile's, and that the build arg; the top source may set anything.
func TestPrecedenceRanks(t *testing.T) {
	weak := hdr + "defaults:\n  level: warn\n"
	strictFile := hdr + "controls:\n  mode:\n    allowOff: false\n"
	read := func(data string) func() ([]byte, string, bool, error) {
		return func() ([]byte, string, bool, error) { return []byte(data), "", true, nil }
	}
	rk := Ranking{Catalog: precedenceCatalog, BuiltinTools: builtinTools}
	// Organisation strict, CI weak: refused, naming the organisation.
	_, err := Discover(t.Context(), Sources{Organisation: read(strictFile), NamedContext: read(weak), Ranking: rk}, nil)
	if err == nil || !strings.Contains(err.Error(), "hardenkit-policy:hardenkit.yaml (ci) may only tighten the policy of frontend:/etc/hardenkit/policy.yaml (organisation)") {
		t.Errorf("CI weakening the organisation policy: %v", err)
	}
	// The top source alone may warn about everything; a build arg below
	// it may tighten back to strict... but not allow off where it was
	// forbidden.
	p, err := Discover(t.Context(), Sources{BesideDockerfile: func() ([]byte, bool, error) { return []byte(weak), true, nil }, Explicit: "strict", Ranking: rk}, nil)
	if err != nil {
		t.Fatalf("strict below a warn-everything file: %v", err)
	}
	for _, r := range precedenceCatalog {
		if want := map[string]rules.Level{"HK1046": rules.LevelWarn}[r.ID]; want == "" && p.Level(r) != rules.LevelEnforce {
			t.Errorf("%s = %s under strict by build arg", r.ID, p.Level(r))
		}
	}
	if len(p.Sources) != 2 || p.Sources[1].Name != "builtin:strict" {
		t.Errorf("sources = %+v", p.Sources)
	}
}
