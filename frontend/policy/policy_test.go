package policy

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	sy "github.com/hardenkit/hardenkit/frontend/policy/strictyaml"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

func TestLevel(t *testing.T) {
	strict, err := Baseline(BaselineStrict)
	if err != nil {
		t.Fatal(err)
	}
	cis, err := Baseline(BaselineCISDocker)
	if err != nil {
		t.Fatal(err)
	}
	custom := mustParse(t, hdr+`rules:
  HK1021: enforce
  HK1001: off
defaults:
  level: warn
  select:
    - families: [secrets]
      severities: [critical]
      level: enforce
    - stages: [image]
      level: off
`)
	tests := []struct {
		name string
		p    *Policy
		rule string
		want rules.Level
	}{
		{"strict enforces", strict, "HK1001", rules.LevelEnforce},
		{"strict enforces without CIS", strict, "HK3001", rules.LevelEnforce},
		{"strict warns on CIS 4.6", strict, "HK1021", rules.LevelWarn},
		{"strict warns on hygiene", strict, "HK3031", rules.LevelWarn},
		{"strict enforces high minimal-image", strict, "HK2011", rules.LevelEnforce},
		{"cis-docker warns on hygiene", cis, "HK3031", rules.LevelWarn},
		{"cis-docker enforces CIS 4.2", cis, "HK1001", rules.LevelEnforce},
		{"cis-docker enforces CIS 4.6", cis, "HK1021", rules.LevelEnforce},
		{"cis-docker enforces any of several items", cis, "HK1002", rules.LevelEnforce},
		{"cis-docker warns without CIS", cis, "HK3001", rules.LevelWarn},
		{"override beats selector", custom, "HK1021", rules.LevelEnforce},
		{"override off", custom, "HK1001", rules.LevelOff},
		{"selector needs all attributes", custom, "HK4001", rules.LevelEnforce},
		{"first matching selector wins", custom, "HK3001", rules.LevelOff},
		{"default level", custom, "HK1002", rules.LevelWarn},
		{"nil policy enforces", nil, "HK1021", rules.LevelEnforce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Level(rule(tt.rule)); got != tt.want {
				t.Errorf("Level(%s) = %q, want %q", tt.rule, got, tt.want)
			}
		})
	}
	// A rule the catalog added after the policy was written still gets a
	// level from the defaults.
	if got := strict.Level(rules.Rule{ID: "HK9000", CIS: []string{"4.6", "4.1"}}); got != rules.LevelWarn {
		t.Errorf("strict.Level(unknown 4.6 rule) = %q", got)
	}
}

func TestSelectorMatches(t *testing.T) {
	r := rules.Rule{Family: rules.FamilyTooling, Severity: rules.SeverityHigh, Stage: rules.StageImage, CIS: []string{"4.3", "4.8"}}
	tests := []struct {
		s    Selector
		want bool
	}{
		{Selector{Families: []rules.Family{rules.FamilySecrets, rules.FamilyTooling}}, true},
		{Selector{Families: []rules.Family{rules.FamilySecrets}}, false},
		{Selector{CIS: []string{"4.8"}}, true},
		{Selector{CIS: []string{"4.1"}}, false},
		{Selector{Severities: []rules.Severity{rules.SeverityHigh}, Stages: []rules.Stage{rules.StageImage}}, true},
		{Selector{Severities: []rules.Severity{rules.SeverityHigh}, Stages: []rules.Stage{rules.StageStatic}}, false},
		{Selector{}, true},
	}
	for _, tt := range tests {
		if got := tt.s.Matches(r); got != tt.want {
			t.Errorf("%+v.Matches() = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestBaseline(t *testing.T) {
	for _, name := range Baselines() {
		t.Run(name, func(t *testing.T) {
			p, err := Baseline(name)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != name || p.Baseline != name || p.Source != "builtin:"+name {
				t.Errorf("Baseline(%s) = name %q baseline %q source %q", name, p.Name, p.Baseline, p.Source)
			}
			again, err := Baseline(BuiltinPrefix + name)
			if err != nil || again.Digest() != p.Digest() {
				t.Errorf("Baseline(builtin:%s) = %v, digest %s want %s", name, err, again.Digest(), p.Digest())
			}
			// The baseline sets every setting explicitly: it is the
			// documentation of the defaults.
			data, file, err := BaselineFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var f policyFile
			if err := sy.Decode(file, data, &f); err != nil {
				t.Fatal(err)
			}
			for _, missing := range unset(reflect.ValueOf(f), "") {
				if missing != "rules" {
					t.Errorf("%s does not set %s", file, missing)
				}
			}
		})
	}
	if _, err := Baseline("lax"); err == nil || err.Error() != `unknown baseline "lax" (known: strict, cis-docker)` {
		t.Errorf("Baseline(lax) = %v", err)
	}
}

// unset lists the settings of a decoded file model that the file did not
// set. Selector attributes are optional by design and skipped.
func unset(v reflect.Value, path string) []string {
	var out []string
	t := v.Type()
	for _, f := range sy.Fields(t) {
		fv := v.Field(f.Index)
		key := strings.TrimPrefix(path+"."+f.Key, ".")
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				out = append(out, key)
				continue
			}
			out = append(out, unset(fv.Elem(), key)...)
			continue
		}
		if t == reflect.TypeFor[selectorFile]() && f.Key != "level" {
			continue
		}
		if !fv.FieldByName("Set").Bool() {
			out = append(out, key)
		}
	}
	return out
}

func TestBaselineRejectsDeclaringAnother(t *testing.T) {
	data, file, err := BaselineFile(BaselineStrict)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = parse(file, data, nil, BaselineCISDocker)
	if err == nil || !strings.Contains(err.Error(), "built-in baseline cis-docker must declare baseline: cis-docker") {
		t.Errorf("parse(strict as cis-docker) = %v", err)
	}
	_, _, err = parse(file, append(data, "rules:\n  HK1001: warn\n"...), nil, BaselineStrict)
	if err == nil || !strings.Contains(err.Error(), "a baseline decides levels with defaults, not per-rule overrides") {
		t.Errorf("parse(baseline with rules) = %v", err)
	}
}

var digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func TestDigest(t *testing.T) {
	base := mustParse(t, `apiVersion: hardenkit.dev/v1alpha1
kind: Policy
name: team
baseline: strict
rules:
  HK1001: warn
  HK3001: off
controls:
  user:
    uid: 1000
    gid: 1000
  exceptions:
    maxLifetime: 30d
`)
	if !digestRe.MatchString(base.Digest()) {
		t.Fatalf("Digest() = %q", base.Digest())
	}
	same := []struct{ name, in string }{
		{"reordered keys, comments, flow style, equal duration", `# the team's policy
controls:
  exceptions: {maxLifetime: 720h}   # 30 days
  user: {gid: 1000, uid: 1000}
rules: {HK3001: off, HK1001: warn}
name: team
kind: Policy
apiVersion: hardenkit.dev/v1alpha1
`},
		{"baseline implied, baseline values restated", `apiVersion: hardenkit.dev/v1alpha1
kind: Policy
name: team
rules:
  HK3001: off
  HK1001: warn
controls:
  user: {inject: true, uid: 1000, gid: 1000}
  exceptions: {maxLifetime: 29d24h}
  mode: {allowOff: true}
`},
		{"JSON", `{"kind":"Policy","apiVersion":"hardenkit.dev/v1alpha1","name":"team","rules":{"HK1001":"warn","HK3001":"off"},"controls":{"user":{"uid":1000,"gid":1000},"exceptions":{"maxLifetime":"30d"}}}`},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("other.yaml", []byte(tt.in), known)
			if err != nil {
				t.Fatal(err)
			}
			if p.Digest() != base.Digest() {
				a, _ := base.CanonicalJSON()
				b, _ := p.CanonicalJSON()
				t.Errorf("Digest() differs:\n%s\n%s", a, b)
			}
		})
	}
	different := []struct{ name, in string }{
		{"other name", strings.Replace(hdr, "test", "team2", 1) + "rules: {HK1001: warn, HK3001: off}\ncontrols: {user: {uid: 1000, gid: 1000}, exceptions: {maxLifetime: 30d}}\n"},
		{"other level", "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\nrules: {HK1001: enforce, HK3001: off}\ncontrols: {user: {uid: 1000, gid: 1000}, exceptions: {maxLifetime: 30d}}\n"},
		{"other baseline", "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\nbaseline: cis-docker\nrules: {HK1001: warn, HK3001: off}\ncontrols: {user: {uid: 1000, gid: 1000}, exceptions: {maxLifetime: 30d}}\n"},
		{"empty list instead of built-in", "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\nrules: {HK1001: warn, HK3001: off}\ncontrols: {user: {uid: 1000, gid: 1000}, exceptions: {maxLifetime: 30d}, tooling: {shells: []}}\n"},
	}
	for _, tt := range different {
		t.Run(tt.name, func(t *testing.T) {
			if p := mustParse(t, tt.in); p.Digest() == base.Digest() {
				t.Errorf("Digest() is the same for a different policy")
			}
		})
	}
}

func TestCanonicalJSONRoundTrips(t *testing.T) {
	for _, name := range Baselines() {
		p, err := Baseline(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.CanonicalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "Source") || strings.Contains(string(b), "builtin:") {
			t.Errorf("canonical JSON carries the source: %s", b)
		}
		back, err := Parse("canonical.json", b, known)
		if err != nil {
			t.Fatalf("Parse(CanonicalJSON(%s)) = %v", name, err)
		}
		if back.Digest() != p.Digest() {
			t.Errorf("%s: digest changed through its canonical JSON", name)
		}
	}
	var nilPolicy *Policy
	if _, err := nilPolicy.CanonicalJSON(); err == nil || nilPolicy.Digest() != "" {
		t.Error("nil policy has a canonical form")
	}
	// A hand-built policy encodes like the parsed one it equals.
	hand := &Policy{Name: "x"}
	parsedEmpty := &Policy{Name: "x", Rules: map[string]rules.Level{}}
	normalize(parsedEmpty)
	if hand.Digest() != parsedEmpty.Digest() {
		t.Error("nil and empty collections digest differently")
	}
}

func TestDiscover(t *testing.T) {
	ctx := t.Context()
	file := func(name string) []byte { return []byte(strings.Replace(hdr, "test", name, 1)) }
	readErr := errors.New("permission denied")
	strictDigest := func() string {
		p, err := Baseline(BaselineStrict)
		if err != nil {
			t.Fatal(err)
		}
		return p.Digest()
	}()
	tests := []struct {
		name       string
		src        Sources
		wantName   string
		wantSource string
		wantErr    string
	}{
		{name: "nothing: strict", src: Sources{}, wantName: "strict", wantSource: "builtin:strict"},
		{name: "nothing found", src: Sources{
			NamedContext:     func() ([]byte, string, bool, error) { return nil, "", false, nil },
			BesideDockerfile: func() ([]byte, bool, error) { return nil, false, nil },
		}, wantName: "strict", wantSource: "builtin:strict"},
		{name: "explicit baseline name", src: Sources{Explicit: "cis-docker"}, wantName: "cis-docker", wantSource: "builtin:cis-docker"},
		{name: "explicit builtin prefix", src: Sources{Explicit: "builtin:strict"}, wantName: "strict", wantSource: "builtin:strict"},
		{name: "explicit unknown builtin", src: Sources{Explicit: "builtin:lax"}, wantErr: "policy builtin:lax: unknown baseline (known: strict, cis-docker)"},
		{name: "named context outranks the explicit file", src: Sources{
			Explicit: "policies/prod.yaml",
			ReadExplicit: func(_ context.Context, path string) ([]byte, error) {
				return file("prod"), nil
			},
			NamedContext:     func() ([]byte, string, bool, error) { return file("ctx"), "p.yaml", true, nil },
			BesideDockerfile: func() ([]byte, bool, error) { return file("beside"), true, nil },
		}, wantName: "ctx", wantSource: "p.yaml"},
		{name: "explicit file alone", src: Sources{
			Explicit:     "policies/prod.yaml",
			ReadExplicit: func(context.Context, string) ([]byte, error) { return file("prod"), nil },
		}, wantName: "prod", wantSource: "policies/prod.yaml"},
		{name: "explicit unreadable", src: Sources{
			Explicit:     "prod.yaml",
			ReadExplicit: func(context.Context, string) ([]byte, error) { return nil, readErr },
		}, wantErr: "reading policy prod.yaml: permission denied"},
		{name: "explicit without reader", src: Sources{Explicit: "prod.yaml"}, wantErr: "policy prod.yaml: no way to read a policy file here"},
		{name: "explicit invalid", src: Sources{
			Explicit:     "prod.yaml",
			ReadExplicit: func(context.Context, string) ([]byte, error) { return []byte("kind: Policy\n"), nil },
		}, wantErr: "prod.yaml:1: apiVersion is required"},
		{name: "named context beats beside", src: Sources{
			NamedContext:     func() ([]byte, string, bool, error) { return file("ctx"), "hardenkit-policy/policy.yaml", true, nil },
			BesideDockerfile: func() ([]byte, bool, error) { return file("beside"), true, nil },
		}, wantName: "ctx", wantSource: "hardenkit-policy/policy.yaml"},
		{name: "named context without file name", src: Sources{
			NamedContext: func() ([]byte, string, bool, error) { return file("ctx"), "", true, nil },
		}, wantName: "ctx", wantSource: "hardenkit-policy:hardenkit.yaml"},
		{name: "named context error fails closed", src: Sources{
			NamedContext:     func() ([]byte, string, bool, error) { return nil, "", false, readErr },
			BesideDockerfile: func() ([]byte, bool, error) { return file("beside"), true, nil },
		}, wantErr: "reading policy from named context hardenkit-policy: permission denied"},
		{name: "beside Dockerfile", src: Sources{
			NamedContext:     func() ([]byte, string, bool, error) { return nil, "", false, nil },
			BesideDockerfile: func() ([]byte, bool, error) { return file("beside"), true, nil },
		}, wantName: "beside", wantSource: "hardenkit.yaml"},
		{name: "beside error fails closed", src: Sources{
			BesideDockerfile: func() ([]byte, bool, error) { return nil, false, readErr },
		}, wantErr: "reading hardenkit.yaml: permission denied"},
		{name: "beside invalid", src: Sources{
			BesideDockerfile: func() ([]byte, bool, error) { return []byte(hdr + "bogus: 1\n"), true, nil },
		}, wantErr: `hardenkit.yaml:4: unknown key "bogus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Discover(ctx, tt.src, known)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("Discover() = %v, want error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover() = %v", err)
			}
			if p.Name != tt.wantName || p.Source != tt.wantSource {
				t.Errorf("Discover() = %q from %q, want %q from %q", p.Name, p.Source, tt.wantName, tt.wantSource)
			}
			if tt.wantSource == "builtin:strict" && p.Digest() != strictDigest {
				t.Errorf("fallback is not the strict baseline")
			}
		})
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Discover(canceled, Sources{}, known); !errors.Is(err, context.Canceled) {
		t.Errorf("Discover(canceled) = %v", err)
	}
}

func TestValidationPolicy(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	inline := pemKey(t, pub)
	read := func(_ context.Context, path string) ([]byte, error) {
		switch path {
		case "keys/a.pub":
			return []byte(inline), nil
		case "keys/garbage.pub":
			return []byte("not a key"), nil
		}
		return nil, errors.New("no such file")
	}
	c := ExceptionsControl{MaxLifetime: Duration(30 * Day), RequireSignature: true, ApproverKeys: []string{inline, "keys/a.pub"}}
	vp, err := c.ValidationPolicy(t.Context(), read)
	if err != nil {
		t.Fatal(err)
	}
	if vp.MaxLifetime != 30*24*time.Hour || !vp.RequireSignature || len(vp.ApproverKeys) != 2 {
		t.Errorf("ValidationPolicy() = %+v", vp)
	}
	for _, k := range vp.ApproverKeys {
		if !pub.Equal(k) {
			t.Errorf("key %T is not the approver's", k)
		}
	}
	for _, tt := range []struct {
		keys []string
		read func(context.Context, string) ([]byte, error)
		want string
	}{
		{[]string{"keys/missing.pub"}, read, "reading approver key keys/missing.pub: no such file"},
		{[]string{"keys/garbage.pub"}, read, "approver key keys/garbage.pub: no PEM block"},
		{[]string{"keys/a.pub"}, nil, "approver key keys/a.pub: no way to read key files here"},
		{[]string{"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"}, nil, "approver key 1 (inline): parsing public key"},
	} {
		_, err := ExceptionsControl{ApproverKeys: tt.keys}.ValidationPolicy(t.Context(), tt.read)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ValidationPolicy(%q) = %v, want %q", tt.keys, err, tt.want)
		}
	}
}
