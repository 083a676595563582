package compliance

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

const schemaFile = "../../../docs/compliance.schema.json"

var (
	policyDigest = "sha256:" + strings.Repeat("ab", 32)
	baseDigest   = "sha256:" + strings.Repeat("01", 32)
	expires      = time.Date(2030, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))
)

// fullPredicate exercises every field, lists deliberately unsorted.
func fullPredicate() Predicate {
	return Predicate{
		Hardenkit: Tool{Version: "v0.3.0", FrontendDigest: "sha256:" + strings.Repeat("cd", 32),
			FrontendImage: "docker.io/hardenkit/frontend@sha256:" + strings.Repeat("cd", 32)},
		Rebuild: &Rebuild{Dockerfile: "Dockerfile", Platform: "linux/amd64", Platforms: []string{"linux/arm64", "linux/amd64"},
			BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "1714564800"}, RedactedArgs: []string{"TOKEN"},
			Images:        []PinnedImage{{Ref: "docker.io/library/debian:bookworm", Digest: baseDigest}},
			NamedContexts: map[string]string{"base": "docker-image://docker.io/library/debian:bookworm"},
			Context:       &ContextTree{Digest: baseDigest, Count: 1, Files: []ContextFile{{Path: "app.c", Mode: "f0644", Digest: baseDigest}}},
			VCS:           &VCS{Source: "https://example.com/app.git", Revision: "abc"}, Secrets: []string{"npm"}, SSH: []string{"default"}},
		Policy: Policy{Name: "acme", Digest: policyDigest, Baseline: "strict",
			Sources: []PolicySource{
				{Rank: "ci", Name: "hardenkit-policy:hardenkit.yaml", Digest: policyDigest},
				{Rank: "dockerfile", Name: "hardenkit.yaml", Digest: baseDigest},
			},
			DisabledRules: []string{"HK3001"}, BelowBaseline: []string{"HK3001", "HK1002"}},
		Mode:            options.ModeEnforce,
		SourceDateEpoch: 1714564800,
		BaseImages: []BaseImage{
			{Name: "docker.io/library/debian:bookworm", Digest: baseDigest},
			{Name: "docker.io/library/busybox:1.36", Digest: baseDigest},
		},
		Rules: []Rule{
			{ID: "HK2001", Family: rules.FamilySecrets, CIS: []string{"4.10"}, Result: ResultWaived, Findings: []Finding{
				{Level: rules.LevelWaived, File: "/app/.env", Message: "AWS access key", Fingerprint: "sha256:1234", Waiver: "EX-2"},
			}},
			{ID: "HK1001", Family: rules.FamilyReproducibility, CIS: []string{"4.7", "4.2"}, Result: ResultFail, Findings: []Finding{
				{Level: rules.LevelEnforce, File: "Dockerfile", Line: 9, EndLine: 9, Message: "b", Stage: "build"},
				{Level: rules.LevelEnforce, File: "Dockerfile", Line: 3, Message: "a"},
			}},
			{ID: "HK3001", Family: rules.FamilyNonRoot, Level: rules.LevelOff, Result: ResultNotEvaluated},
		},
		Exceptions: []Exception{
			{ID: "EX-2", Rule: "HK2001", ApprovedBy: "alice@example.com", Expires: expires, Owner: "bob@example.com",
				SignerKeyID: baseDigest, JustificationDigest: policyDigest, Scope: &exceptions.Scope{Path: "/app/.env"}},
			{ID: "EX-1", Rule: "HK4001", ApprovedBy: "bob", Expires: expires},
		},
		Vulnerabilities: Vulnerabilities{
			Status: VulnEvaluated,
			DB:     &VulnDB{Built: time.Date(2024, 4, 30, 1, 2, 3, 0, time.UTC), Schema: "v6.1.10", Checksum: "xxh64:0011223344556677"},
			FailOn: rules.SeverityHigh,
			Counts: map[string]int{"high": 2, "low": 1},
			Matches: []VulnMatch{
				{CVE: "CVE-2024-0002", Package: "pkg:deb/debian/apt@2.6.1", Severity: "high", Result: MatchWaived, Exception: "EX-1", FixedIn: []string{"2.6.2"}},
				{CVE: "CVE-2024-0001", Package: "pkg:deb/debian/apt@2.6.1", Severity: "high", Result: MatchFail},
				{CVE: "CVE-2024-0003", Package: "pkg:deb/debian/libc6@2.36", Severity: "critical", Result: MatchNotAffected, Reason: "openvex not_affected: vulnerable_code_not_present"},
				{CVE: "CVE-2024-0004", Package: "pkg:deb/debian/libc6@2.36", Severity: "low", Result: MatchBelowThreshold},
			},
		},
		SBOM: SBOMOf([]byte(`{"spdxVersion":"SPDX-2.3"}`)),
		Distroless: &Distroless{
			Removed: []Removal{
				{Path: "/usr/bin/mksh", Why: RemovedByAllowlist, Detail: "executable of package mksh that the image does not run"},
				{Path: "/bin/bash", Category: "shell", Why: RemovedByName, Detail: "bash (name)"},
				{Path: "package:zsh-common", Why: RemovedByAllowlist, Detail: "412 files; package zsh-common is not in the runtime closure"},
			},
			Executables:     []ShippedExecutable{{Path: "/usr/local/bin/app", Reason: "entrypoint /usr/local/bin/app: root"}},
			RuntimePackages: []RuntimePackage{{Name: "libc6", Reason: "owns /usr/lib/x86_64-linux-gnu/libc.so.6"}},
		},
		Smoke: &Smoke{Result: SmokePass, WindowMillis: 3000,
			Plain:    &SmokeRun{Started: true, Running: true, Ports: []int{8080}},
			Hardened: &SmokeRun{Started: true, Running: true, Health: "healthy", Ports: []int{8080}}},
	}
}

// minimalPredicate is a build without findings, exceptions or database.
func minimalPredicate() Predicate {
	return Predicate{
		Hardenkit:       Tool{Version: "dev"},
		Policy:          Policy{Name: "builtin:strict", Digest: policyDigest, Baseline: "strict"},
		Mode:            options.ModeOff,
		Vulnerabilities: Vulnerabilities{Status: VulnNotEvaluated, Reason: "no vulnerability database", FailOn: rules.SeverityCritical},
		SBOM:            SBOMOf(nil),
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("compliance.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("compliance.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

func TestMarshalValidatesAgainstSchema(t *testing.T) {
	s := compileSchema(t)
	for name, p := range map[string]Predicate{"full": fullPredicate(), "minimal": minimalPredicate()} {
		t.Run(name, func(t *testing.T) {
			b, err := p.Marshal()
			if err != nil {
				t.Fatalf("Marshal() = %v", err)
			}
			if err := validate(t, s, b); err != nil {
				t.Errorf("schema rejects Marshal() output: %v\n%s", err, b)
			}
		})
	}
}

// TestSchemaRejects checks that the schema enforces the contract's
// conditional and enum constraints, not only its shape.
func TestSchemaRejects(t *testing.T) {
	s := compileSchema(t)
	good, err := fullPredicate().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(m map[string]any){
		"evaluated without db": func(m map[string]any) { delete(m["vulnerabilities"].(map[string]any), "db") },
		"waived without exception": func(m map[string]any) {
			ms := m["vulnerabilities"].(map[string]any)["matches"].([]any)
			for _, x := range ms {
				delete(x.(map[string]any), "exception")
			}
		},
		"unknown result": func(m map[string]any) { m["rules"].([]any)[0].(map[string]any)["result"] = "ok" },
		"unknown field":  func(m map[string]any) { m["secret"] = "hunter2" },
		"finding with value": func(m map[string]any) {
			m["rules"].([]any)[0].(map[string]any)["findings"].([]any)[0].(map[string]any)["value"] = "x"
		},
		"bad digest": func(m map[string]any) { m["sbom"].(map[string]any)["digest"] = "sha256:XYZ" },
		"missing count": func(m map[string]any) {
			delete(m["vulnerabilities"].(map[string]any)["counts"].(map[string]any), "low")
		},
		"local time": func(m map[string]any) {
			m["exceptions"].([]any)[0].(map[string]any)["expires"] = "2030-01-01T01:00:00+01:00"
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			mutate(m)
			b, _ := json.Marshal(m)
			if err := validate(t, s, b); err == nil {
				t.Errorf("schema accepts %s", name)
			}
		})
	}
}

func TestMarshalIsDeterministic(t *testing.T) {
	p := fullPredicate()
	before, _ := json.Marshal(p)
	a, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(p)
	if !bytes.Equal(before, after) {
		t.Error("Marshal() modified its receiver")
	}

	q := fullPredicate()
	slices.Reverse(q.Rules)
	slices.Reverse(q.BaseImages)
	slices.Reverse(q.Exceptions)
	slices.Reverse(q.Vulnerabilities.Matches)
	slices.Reverse(q.Rules[len(q.Rules)-1].Findings)
	q.Exceptions[0].Expires = q.Exceptions[0].Expires.UTC()
	b, err := q.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("same predicate, different order, different bytes:\n%s\n%s", a, b)
	}

	var doc struct {
		Rules []struct {
			ID       string `json:"id"`
			CIS      []string
			Findings []struct{ Line int }
		}
		Exceptions      []struct{ ID, Expires string }
		Vulnerabilities struct {
			Counts  map[string]int
			Matches []struct{ CVE string }
		}
	}
	if err := json.Unmarshal(a, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Rules[0].ID != "HK1001" || doc.Rules[0].Findings[0].Line != 3 || !slices.Equal(doc.Rules[0].CIS, []string{"4.2", "4.7"}) {
		t.Errorf("rules not sorted: %+v", doc.Rules)
	}
	if doc.Exceptions[0].ID != "EX-1" || doc.Exceptions[0].Expires != "2029-12-31T23:00:00Z" {
		t.Errorf("exceptions = %+v", doc.Exceptions)
	}
	if len(doc.Vulnerabilities.Counts) != len(Severities()) || doc.Vulnerabilities.Counts["high"] != 2 {
		t.Errorf("counts = %v", doc.Vulnerabilities.Counts)
	}
	if doc.Vulnerabilities.Matches[0].CVE != "CVE-2024-0001" {
		t.Errorf("matches not sorted: %+v", doc.Vulnerabilities.Matches)
	}
	if !bytes.Contains(minimalMust(t), []byte(`"baseImages":[]`)) {
		t.Error("empty lists must marshal as []")
	}
}

func minimalMust(t *testing.T) []byte {
	b, err := minimalPredicate().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidateRejects(t *testing.T) {
	cases := map[string]func(p *Predicate){
		"no version":        func(p *Predicate) { p.Hardenkit.Version = "" },
		"bad mode":          func(p *Predicate) { p.Mode = "warn" },
		"bad policy digest": func(p *Predicate) { p.Policy.Digest = "sha256:abc" },
		"bad rule result":   func(p *Predicate) { p.Rules[0].Result = "ok" },
		"bad finding level": func(p *Predicate) { p.Rules[0].Findings[0].Level = rules.LevelOff },
		"evaluated no db":   func(p *Predicate) { p.Vulnerabilities.DB = nil },
		"bad failOn":        func(p *Predicate) { p.Vulnerabilities.FailOn = "negligible" },
		"waived no id":      func(p *Predicate) { p.Vulnerabilities.Matches[0].Exception = "" },
		"bad severity":      func(p *Predicate) { p.Vulnerabilities.Matches[0].Severity = "severe" },
		"bad count key":     func(p *Predicate) { p.Vulnerabilities.Counts["severe"] = 1 },
		"no sbom":           func(p *Predicate) { p.SBOM = SBOM{} },
		"exception no exp":  func(p *Predicate) { p.Exceptions[0].Expires = time.Time{} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := fullPredicate()
			mutate(&p)
			if _, err := p.Marshal(); err == nil {
				t.Errorf("Marshal() accepted %s", name)
			}
		})
	}
}

func TestEvaluateRules(t *testing.T) {
	catalog := []rules.Rule{
		{ID: "HK1", Family: rules.FamilyTooling, Stage: rules.StageStatic, CIS: []string{"4.3"}},
		{ID: "HK2", Stage: rules.StageStatic},
		{ID: "HK3", Stage: rules.StageStatic},
		{ID: "HK4", Stage: rules.StageStatic},
		{ID: "HK5", Stage: rules.StageStatic},
		{ID: "HK6", Stage: rules.StageEvidence},
	}
	level := func(r rules.Rule) rules.Level {
		if r.ID == "HK5" {
			return rules.LevelOff
		}
		return rules.LevelEnforce
	}
	ran := func(s rules.Stage) bool { return s == rules.StageStatic }
	findings := []rules.Finding{
		{Rule: "HK1", Level: rules.LevelWaived, Waiver: "EX"},
		{Rule: "HK1", Level: rules.LevelEnforce, File: "Dockerfile", Line: 2, Message: "m"},
		{Rule: "HK2", Level: rules.LevelWarn},
		{Rule: "HK2", Level: rules.LevelWaived},
		{Rule: "HK3", Level: rules.LevelWaived, Waiver: "EX"},
		{Rule: "HK99", Level: rules.LevelWarn, Message: "rule from elsewhere"},
	}
	got := map[string]Result{}
	for _, r := range EvaluateRules(catalog, level, ran, findings) {
		got[r.ID] = r.Result
		if r.ID == "HK1" && (len(r.Findings) != 2 || r.Family != rules.FamilyTooling || r.Findings[1].Line != 2) {
			t.Errorf("HK1 = %+v", r)
		}
	}
	want := map[string]Result{
		"HK1": ResultFail, "HK2": ResultWarn, "HK3": ResultWaived, "HK4": ResultPass,
		"HK5": ResultNotEvaluated, "HK6": ResultNotEvaluated, "HK99": ResultWarn,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EvaluateRules() = %v, want %v", got, want)
	}
}

func TestAppliedExceptions(t *testing.T) {
	all := []exceptions.Exception{
		{ID: "A", Rule: "HK1", ApprovedBy: "x", Owner: "o", Justification: "secret reasoning", Expires: expires},
		{ID: "B", Rule: "HK2", ApprovedBy: "y", Expires: expires},
	}
	all[1].SignerKeyID, all[1].Owner, all[1].Scope = baseDigest, "o", exceptions.Scope{Path: "/x"}
	got := AppliedExceptions(all, []string{"B", "C"})
	// The justification is recorded by digest: "" here.
	want := Exception{ID: "B", Rule: "HK2", ApprovedBy: "y", Expires: expires, Owner: "o", SignerKeyID: baseDigest,
		JustificationDigest: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Scope: &exceptions.Scope{Path: "/x"}}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("AppliedExceptions() = %+v", got)
	}
}

// TestSchemaMatchesTypes keeps the schema and the Go types in step: the
// same properties everywhere, and "required" exactly the fields that are
// never omitted.
func TestSchemaMatchesTypes(t *testing.T) {
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	resolve := func(s map[string]any) map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			return root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		return s
	}
	timeType := reflect.TypeFor[time.Time]()
	var walk func(path string, typ reflect.Type, s map[string]any)
	walk = func(path string, typ reflect.Type, s map[string]any) {
		s = resolve(s)
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		switch {
		case typ == timeType:
			return
		case typ.Kind() == reflect.Slice:
			items, ok := s["items"].(map[string]any)
			if !ok {
				t.Errorf("%s: list without items schema", path)
				return
			}
			walk(path+"[]", typ.Elem(), items)
		case typ.Kind() == reflect.Struct:
			if s["additionalProperties"] != false {
				t.Errorf("%s: schema allows additional properties", path)
			}
			props, _ := s["properties"].(map[string]any)
			var inSchema, inType, required, nonEmpty []string
			for k := range props {
				inSchema = append(inSchema, k)
			}
			for _, r := range s["required"].([]any) {
				required = append(required, r.(string))
			}
			for i := range typ.NumField() {
				f := typ.Field(i)
				name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
				inType = append(inType, name)
				if opts != "omitempty" {
					nonEmpty = append(nonEmpty, name)
				}
				if ps, ok := props[name].(map[string]any); ok {
					walk(path+"."+name, f.Type, ps)
				}
			}
			for _, l := range [][]string{inSchema, inType, required, nonEmpty} {
				slices.Sort(l)
			}
			if !slices.Equal(inSchema, inType) {
				t.Errorf("%s: schema properties %v, Go fields %v", path, inSchema, inType)
			}
			if !slices.Equal(required, nonEmpty) {
				t.Errorf("%s: schema requires %v, Go always writes %v", path, required, nonEmpty)
			}
		}
	}
	walk("predicate", reflect.TypeFor[Predicate](), root)

	vs := resolve(root["$defs"].(map[string]any)["severity"].(map[string]any))
	var enum []string
	for _, e := range vs["enum"].([]any) {
		enum = append(enum, e.(string))
	}
	if !slices.Equal(enum, Severities()) {
		t.Errorf("schema severities %v, Go %v", enum, Severities())
	}
}
