package policy

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

// catalog stands in for the rule catalog: the parser only sees it through
// the known function.
var catalog = []rules.Rule{
	{ID: "HK1001", Family: rules.FamilyReproducibility, Severity: rules.SeverityHigh, Stage: rules.StageStatic, CIS: []string{"4.2"}},
	{ID: "HK1002", Family: rules.FamilySupplyChain, Severity: rules.SeverityMedium, Stage: rules.StageStatic, CIS: []string{"4.2", "4.12"}},
	{ID: "HK1021", Family: rules.FamilyHardening, Severity: rules.SeverityLow, Stage: rules.StageStatic, CIS: []string{"4.6"}},
	{ID: "HK2011", Family: rules.FamilyMinimalImage, Severity: rules.SeverityHigh, Stage: rules.StageLLB, CIS: []string{"4.3"}},
	{ID: "HK3001", Family: rules.FamilyTooling, Severity: rules.SeverityMedium, Stage: rules.StageImage},
	{ID: "HK3031", Family: rules.FamilyMinimalImage, Severity: rules.SeverityLow, Stage: rules.StageImage},
	{ID: "HK4001", Family: rules.FamilySecrets, Severity: rules.SeverityCritical, Stage: rules.StageImage, CIS: []string{"4.10"}},
}

func known(id string) bool {
	return slices.ContainsFunc(catalog, func(r rules.Rule) bool { return r.ID == id })
}

func rule(id string) rules.Rule {
	i := slices.IndexFunc(catalog, func(r rules.Rule) bool { return r.ID == id })
	return catalog[i]
}

// hdr is the three header lines every test document starts with, so the
// first line a test adds is line 4.
const hdr = "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: test\n"

func mustParse(t *testing.T, in string) *Policy {
	t.Helper()
	p, err := Parse("p.yaml", []byte(in), known)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	return p
}

func pemKey(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// indent makes a multi-line string a YAML block scalar body.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix)
}

func TestParseErrors(t *testing.T) {
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_ = edPub
	tests := []struct {
		name string
		in   string
		want string // the whole error text
	}{
		// Header.
		{"missing apiVersion", "kind: Policy\nname: x\n", `p.yaml:1: apiVersion is required ("hardenkit.dev/v1alpha1")`},
		{"wrong apiVersion", "apiVersion: hardenkit.dev/v1\nkind: Policy\nname: x\n", `p.yaml:1: apiVersion must be "hardenkit.dev/v1alpha1", got "hardenkit.dev/v1"`},
		{"wrong kind", "apiVersion: hardenkit.dev/v1alpha1\nkind: Exceptions\nname: x\n", `p.yaml:2: kind must be "Policy", got "Exceptions"`},
		{"missing name", "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\n", `p.yaml:1: name is required: reports and attestations identify the policy by it`},
		{"bad name", "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: my policy\n", `p.yaml:3: name "my policy": want letters, digits, '.', '_' or '-', at most 128`},
		{"unknown baseline", hdr + "baseline: lax\n", `p.yaml:4: baseline "lax" is not one of strict, cis-docker`},

		// Unknown keys, wrong types.
		{"unknown top key", hdr + "rule:\n  HK1001: warn\n", `p.yaml:4: unknown key "rule" (known: apiVersion, kind, name, baseline, defaults, rules, controls)`},
		{"unknown control", hdr + "controls:\n  user:\n    inject: true\n  distroles:\n    mode: strip\n", `p.yaml:7: unknown key "distroles" (known: epoch, distroless, tooling, user, secrets, vulnerabilities, exceptions, mode)`},
		{"unknown nested key", hdr + "controls:\n  user:\n    name: app\n", `p.yaml:6: unknown key "name" (known: inject, uid, gid)`},
		{"string for bool", hdr + "controls:\n  user:\n    inject: \"yes\"\n", `p.yaml:6: expected true or false, got a string`},
		{"string for int", hdr + "controls:\n  user:\n    uid: \"1000\"\n", `p.yaml:6: expected an integer, got a string`},
		{"list for mapping", hdr + "rules: [HK1001]\n", `p.yaml:4: expected a mapping, got a list`},
		{"scalar for list", hdr + "controls:\n  tooling:\n    keep: /bin/sh\n", `p.yaml:6: expected a list, got a string`},
		{"unquoted CIS number", hdr + "defaults:\n  select:\n    - cis: [4.6]\n      level: warn\n", `p.yaml:6: expected a string, got a number ("4.6"; quote it to make it a string)`},
		{"null for non-nullable", hdr + "controls:\n  tooling:\n    keep: null\n", `p.yaml:6: expected a list, got null`},
		{"duplicate key", hdr + "rules:\n  HK1001: warn\n  HK1001: off\n", `p.yaml:6: duplicate key "HK1001" (first at line 5)`},

		// Rule ids and levels.
		{"unknown rule id", hdr + "rules:\n  HK1001: warn\n  HK9999: off\n", `p.yaml:6: rules: unknown rule id "HK9999"`},
		{"bad level", hdr + "rules:\n  HK1001: enforced\n", `p.yaml:5: rules.HK1001: "enforced" is not one of enforce, warn, off`},
		{"waived is not configurable", hdr + "rules:\n  HK1001: waived\n", `p.yaml:5: rules.HK1001: "waived" is not one of enforce, warn, off`},
		{"bad default level", hdr + "defaults:\n  level: fail\n", `p.yaml:5: defaults.level: "fail" is not one of enforce, warn, off`},

		// Selectors.
		{"selector without level", hdr + "defaults:\n  select:\n    - families: [tooling]\n", `p.yaml:6: defaults.select[0]: level is required`},
		{"selector without criteria", hdr + "defaults:\n  select:\n    - level: warn\n", `p.yaml:6: defaults.select[0]: set at least one of families, cis, severities, stages`},
		{"bad family", hdr + "defaults:\n  select:\n    - families: [tools]\n      level: warn\n", `p.yaml:6: defaults.select[0].families[0]: "tools" is not one of reproducibility, minimal-image, tooling, non-root, secrets, deterministic-dockerfile, hardening, supply-chain` + "\n" + `p.yaml:6: defaults.select[0]: set at least one of families, cis, severities, stages`},
		{"bad cis item", hdr + "defaults:\n  select:\n    - cis: [\"5.1\"]\n      level: warn\n", `p.yaml:6: defaults.select[0].cis[0]: "5.1" is not one of 4.1, 4.2, 4.3, 4.4, 4.5, 4.6, 4.7, 4.8, 4.9, 4.10, 4.11, 4.12` + "\n" + `p.yaml:6: defaults.select[0]: set at least one of families, cis, severities, stages`},
		{"bad severity", hdr + "defaults:\n  select:\n    - severities: [severe]\n      stages: [image]\n      level: warn\n", `p.yaml:6: defaults.select[0].severities[0]: "severe" is not one of low, medium, high, critical`},
		{"bad stage", hdr + "defaults:\n  select:\n    - stages: [runtime]\n      families: [tooling]\n      level: warn\n", `p.yaml:6: defaults.select[0].stages[0]: "runtime" is not one of static, llb, image, evidence`},

		// Controls.
		{"negative epoch", hdr + "controls:\n  epoch:\n    default: -1\n", `p.yaml:6: controls.epoch.default: -1 is out of range [0, 4611686018427387904]`},
		{"bad distroless mode", hdr + "controls:\n  distroless:\n    mode: rebased\n", `p.yaml:6: controls.distroless.mode: "rebased" is not one of require, rebase, strip`},
		{"base without pattern", hdr + "controls:\n  distroless:\n    allowedBases:\n      - digest: sha256:" + strings.Repeat("a", 64) + "\n", `p.yaml:7: controls.distroless.allowedBases[0]: pattern is required`},
		{"base wildcard only", hdr + "controls:\n  distroless:\n    allowedBases:\n      - pattern: \"**\"\n", `p.yaml:7: controls.distroless.allowedBases[0].pattern "**": has no literal character, so it matches everything`},
		{"base bad digest", hdr + "controls:\n  distroless:\n    allowedBases:\n      - pattern: gcr.io/distroless/static\n        digest: sha256:abc\n", `p.yaml:8: controls.distroless.allowedBases[0].digest "sha256:abc": want a digest sha256:<64 hex digits>`},
		{"base bad tag", hdr + "controls:\n  distroless:\n    allowedBases:\n      - pattern: \"debian:\"\n", `p.yaml:7: controls.distroless.allowedBases[0].pattern "debian:": tag "" is not a valid tag`},
		{"base bad glob", hdr + "controls:\n  distroless:\n    allowedBases:\n      - pattern: \"gcr.io/[distroless\"\n", `p.yaml:7: controls.distroless.allowedBases[0].pattern "gcr.io/[distroless": segment "[distroless": syntax error in pattern`},
		{"relative keep", hdr + "controls:\n  tooling:\n    keep: [/bin/sh, usr/bin/env]\n", `p.yaml:6: controls.tooling.keep[1] "usr/bin/env": want a clean absolute path`},
		{"keep root", hdr + "controls:\n  tooling:\n    keep:\n      - /\n", `p.yaml:7: controls.tooling.keep[0] "/": keeping "/" would keep everything`},
		{"tool with space", hdr + "controls:\n  tooling:\n    shells: [\"ba sh\"]\n", `p.yaml:6: controls.tooling.shells[0] "ba sh": want a tool name or absolute path without spaces`},
		{"uid out of range", hdr + "controls:\n  user:\n    uid: 4294967296\n", `p.yaml:6: controls.user.uid: 4294967296 is out of range [0, 2147483647]`},
		{"inject root", hdr + "controls:\n  user:\n    inject: true\n    uid: 0\n", `p.yaml:7: controls.user.uid: the injected user must not be root (0)`},
		{"allow every path", hdr + "controls:\n  secrets:\n    allowPaths: [\"testdata/**\", \"**/*\"]\n", `p.yaml:6: controls.secrets.allowPaths[1] "**/*": has no literal character, so it matches everything`},
		{"bad detector id", hdr + "controls:\n  secrets:\n    allowRules: [\"generic api key\"]\n", `p.yaml:6: controls.secrets.allowRules[0] "generic api key": want a detector rule id like generic-api-key`},
		{"zero max file size", hdr + "controls:\n  secrets:\n    maxFileSize: 0\n", `p.yaml:6: controls.secrets.maxFileSize: 0 is out of range [1, 1099511627776]`},
		{"bad failOn", hdr + "controls:\n  vulnerabilities:\n    failOn: none\n", `p.yaml:6: controls.vulnerabilities.failOn: "none" is not one of low, medium, high, critical`},
		{"bad duration", hdr + "controls:\n  vulnerabilities:\n    maxDBAge: 5 days\n", `p.yaml:6: controls.vulnerabilities.maxDBAge: duration "5 days": unknown unit ' ' (want d, h, m or s)`},
		{"zero lifetime", hdr + "controls:\n  exceptions:\n    maxLifetime: 0d\n", `p.yaml:6: controls.exceptions.maxLifetime: must be longer than 0`},
		{"P-384 key", hdr + "controls:\n  exceptions:\n    approverKeys:\n      - |\n" + indent(pemKey(t, &p384.PublicKey), "        ") + "\n", `inline key: ECDSA key on P-384, want P-256`},
		{"RSA key", hdr + "controls:\n  exceptions:\n    approverKeys:\n      - |\n" + indent(pemKey(t, &rsaKey.PublicKey), "        ") + "\n", `inline key: unsupported key type *rsa.PublicKey (want Ed25519 or ECDSA P-256)`},
		{"broken PEM", hdr + "controls:\n  exceptions:\n    approverKeys:\n      - \"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n\"\n", `inline key: parsing public key:`},
		{"key path with newline", hdr + "controls:\n  exceptions:\n    approverKeys: [\"a\\nb\"]\n", `p.yaml:6: controls.exceptions.approverKeys[0] "a\nb": must be a non-empty single line`},

		// Several problems at once.
		{"several", hdr + "rules:\n  HK0000: warn\ncontrols:\n  distroless:\n    mode: slim\n  user:\n    gid: -5\n",
			"p.yaml:5: rules: unknown rule id \"HK0000\"\n" +
				"p.yaml:8: controls.distroless.mode: \"slim\" is not one of require, rebase, strip\n" +
				"p.yaml:10: controls.user.gid: -5 is out of range [0, 2147483647]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(tt.in), known)
			if err == nil {
				t.Fatalf("Parse() = %+v, want error %q", p, tt.want)
			}
			if p != nil {
				t.Errorf("Parse() returned a policy with its error")
			}
			got := err.Error()
			if strings.HasPrefix(tt.want, "p.yaml:") {
				if got != tt.want {
					t.Errorf("Parse() error =\n%s\nwant\n%s", got, tt.want)
				}
			} else if !strings.Contains(got, tt.want) || !strings.HasPrefix(got, "p.yaml:") {
				t.Errorf("Parse() error = %q, want it located and containing %q", got, tt.want)
			}
		})
	}
}

func TestParseKnownNil(t *testing.T) {
	if _, err := Parse("p.yaml", []byte(hdr+"rules:\n  HK42: warn\n"), nil); err != nil {
		t.Errorf("Parse(HK42, known=nil) = %v", err)
	}
	_, err := Parse("p.yaml", []byte(hdr+"rules:\n  DL3008: warn\n"), nil)
	if err == nil || err.Error() != `p.yaml:5: rules: unknown rule id "DL3008"` {
		t.Errorf("Parse(DL3008, known=nil) = %v", err)
	}
}

func TestParseMergesOntoBaseline(t *testing.T) {
	strict, err := Baseline(BaselineStrict)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := pemKey(t, edPub)

	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, p *Policy)
	}{
		{"header only is the baseline renamed", hdr, func(t *testing.T, p *Policy) {
			want := *strict
			want.Name, want.Source = "test", "p.yaml"
			if !reflect.DeepEqual(*p, want) {
				t.Errorf("policy = %+v\nwant %+v", *p, want)
			}
		}},
		{"rules merge", hdr + "rules:\n  HK1001: warn\n  HK3001: off\n", func(t *testing.T, p *Policy) {
			want := map[string]rules.Level{"HK1001": rules.LevelWarn, "HK3001": rules.LevelOff}
			if !reflect.DeepEqual(p.Rules, want) {
				t.Errorf("Rules = %v, want %v", p.Rules, want)
			}
		}},
		{"one leaf changes, siblings stay", hdr + "controls:\n  user:\n    uid: 1000\n", func(t *testing.T, p *Policy) {
			want := UserControl{Inject: true, UID: 1000, GID: 65532}
			if p.Controls.User != want {
				t.Errorf("User = %+v, want %+v", p.Controls.User, want)
			}
			if !reflect.DeepEqual(p.Controls.Exceptions, strict.Controls.Exceptions) {
				t.Errorf("Exceptions changed: %+v", p.Controls.Exceptions)
			}
		}},
		{"cis-docker baseline", hdr + "baseline: cis-docker\n", func(t *testing.T, p *Policy) {
			if p.Baseline != BaselineCISDocker || p.Defaults.Level != rules.LevelWarn || !p.Controls.Mode.AllowOff {
				t.Errorf("policy = %+v", p)
			}
		}},
		{"defaults.level keeps baseline selectors", hdr + "defaults:\n  level: warn\n", func(t *testing.T, p *Policy) {
			if p.Defaults.Level != rules.LevelWarn || !reflect.DeepEqual(p.Defaults.Select, strict.Defaults.Select) {
				t.Errorf("Defaults = %+v", p.Defaults)
			}
		}},
		{"defaults.select replaces the list", hdr + "defaults:\n  select:\n    - families: [tooling]\n      severities: [low, medium]\n      level: warn\n", func(t *testing.T, p *Policy) {
			want := []Selector{{Families: []rules.Family{rules.FamilyTooling}, Severities: []rules.Severity{rules.SeverityLow, rules.SeverityMedium}, Level: rules.LevelWarn}}
			if p.Defaults.Level != rules.LevelEnforce || !reflect.DeepEqual(p.Defaults.Select, want) {
				t.Errorf("Defaults = %+v", p.Defaults)
			}
		}},
		{"tool list set, emptied, reset", hdr + "controls:\n  tooling:\n    shells: [sh, bash]\n    debuggers: []\n    networkTools: null\n", func(t *testing.T, p *Policy) {
			tl := p.Controls.Tooling
			if !reflect.DeepEqual(tl.Shells, []string{"sh", "bash"}) || tl.Debuggers == nil || len(tl.Debuggers) != 0 || tl.NetworkTools != nil || tl.PackageManagers != nil {
				t.Errorf("Tooling = %#v", tl)
			}
		}},
		{"all controls", hdr + `controls:
  epoch:
    default: 1700000000
  distroless:
    mode: require
    allowedBases:
      - pattern: gcr.io/distroless/static-debian12
        digest: sha256:` + strings.Repeat("0", 64) + `
      - pattern: registry.example/base/**:stable
  tooling:
    keep: [/usr/bin/tini]
  user:
    inject: false
    uid: 0
  secrets:
    allowPaths: ["testdata/**"]
    allowRules: [generic-api-key]
    maxFileSize: 1024
  vulnerabilities:
    failOn: critical
    requireDB: true
    maxDBAge: 36h
    db: /var/lib/grype
  exceptions:
    file: exceptions.yaml
    maxLifetime: 30d
    requireSignature: true
    approverKeys:
      - keys/security.pub
      - |
` + indent(key, "        ") + `
    allowInline: true
  mode:
    allowOff: true
`, func(t *testing.T, p *Policy) {
			want := Controls{
				Epoch: EpochControl{Default: 1700000000},
				Distroless: DistrolessControl{Mode: DistrolessRequire, AllowedBases: []BaseImage{
					{Pattern: "gcr.io/distroless/static-debian12", Digest: "sha256:" + strings.Repeat("0", 64)},
					{Pattern: "registry.example/base/**:stable"},
				}},
				Tooling:         ToolingControl{Keep: []string{"/usr/bin/tini"}},
				User:            UserControl{Inject: false, UID: 0, GID: 65532},
				Secrets:         SecretsControl{AllowPaths: []string{"testdata/**"}, AllowRules: []string{"generic-api-key"}, MaxFileSize: 1024},
				Vulnerabilities: VulnControl{FailOn: rules.SeverityCritical, RequireDB: true, MaxDBAge: Duration(36 * time.Hour), DB: "/var/lib/grype"},
				Exceptions: ExceptionsControl{File: "exceptions.yaml", MaxLifetime: Duration(30 * Day), RequireSignature: true,
					ApproverKeys: []string{"keys/security.pub", key}, AllowInline: true},
				Mode: ModeControl{AllowOff: true},
			}
			if !reflect.DeepEqual(p.Controls, want) {
				t.Errorf("Controls =\n%#v\nwant\n%#v", p.Controls, want)
			}
		}},
		{"JSON document", `{"apiVersion": "hardenkit.dev/v1alpha1", "kind": "Policy", "name": "j", "rules": {"HK4001": "warn"}}`, func(t *testing.T, p *Policy) {
			if p.Name != "j" || p.Rules["HK4001"] != rules.LevelWarn {
				t.Errorf("policy = %+v", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.in)
			if p.Source != "p.yaml" || p.APIVersion != APIVersion || p.Kind != Kind {
				t.Errorf("header = %q %q %q", p.Source, p.APIVersion, p.Kind)
			}
			tt.check(t, p)
		})
	}
}

// TestParseDoesNotAliasBaseline guards the no-shared-state promise: a
// policy's maps and slices are its own.
func TestParseDoesNotAliasBaseline(t *testing.T) {
	a := mustParse(t, hdr+"rules:\n  HK1001: warn\n")
	a.Rules["HK1002"] = rules.LevelOff
	a.Defaults.Select[0].Level = rules.LevelOff
	b := mustParse(t, hdr)
	if len(b.Rules) != 0 || b.Defaults.Select[0].Level != rules.LevelWarn {
		t.Errorf("a later Parse sees an earlier policy's changes: %+v", b)
	}
}
