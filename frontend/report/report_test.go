package report

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

func sample() Report {
	return Report{
		Policy:      PolicyRef{Name: "strict", Digest: "sha256:abc"},
		ToolVersion: "v0.1.0",
		Findings: []rules.Finding{
			{Rule: "HK1001", Level: rules.LevelEnforce, File: "Dockerfile", Line: 1, EndLine: 1, StageName: "build", Message: "base image \"debian\" is not pinned by digest"},
			{Rule: "HK1030", Level: rules.LevelWarn, File: "app dir/Dockerfile", Line: 4, EndLine: 6, Message: "RUN apt-get install installs curl without a version pin"},
			{Rule: "HK1061", Level: rules.LevelWaived, File: "Dockerfile", Line: 9, EndLine: 9, Message: "ENV contains a secret", Fingerprint: "0123456789ab", Waiver: "EXC-7"},
			{Rule: "HK1050", Level: rules.LevelWaived, File: "Dockerfile", Line: 12, EndLine: 12, Message: "last USER root [waived inline at line 11: debug image]", Waiver: "inline:11"},
			{Rule: "HK1062", Level: rules.LevelEnforce, File: "Dockerfile", Message: "--build-arg TOKEN looks like a secret"},
			{Rule: "HK9999", Level: rules.LevelEnforce, Message: "a rule the catalog does not know"},
		},
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, sample()); err != nil {
		t.Fatal(err)
	}
	want := `Dockerfile:1 HK1001 [enforce] base image "debian" is not pinned by digest
app dir/Dockerfile:4 HK1030 [warn] RUN apt-get install installs curl without a version pin
Dockerfile:9 HK1061 [waived] ENV contains a secret (waived by exception EXC-7)
Dockerfile:12 HK1050 [waived] last USER root [waived inline at line 11: debug image]
Dockerfile HK1062 [enforce] --build-arg TOKEN looks like a secret
HK9999 [enforce] a rule the catalog does not know
`
	if b.String() != want {
		t.Errorf("Text() =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestCount(t *testing.T) {
	if got := sample().Count(); got != (Counts{Enforce: 3, Warn: 1, Waived: 2}) {
		t.Errorf("Count() = %+v", got)
	}
}

func TestJSONContract(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Policy   map[string]string `json:"policy"`
		Findings []map[string]any  `json:"findings"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("JSON() is not JSON: %v", err)
	}
	if doc.Policy["name"] != "strict" || doc.Policy["digest"] != "sha256:abc" {
		t.Errorf("policy = %v", doc.Policy)
	}
	if len(doc.Findings) != 6 {
		t.Fatalf("findings = %d, want 6", len(doc.Findings))
	}
	for _, key := range []string{"rule", "family", "cis", "severity", "level", "file", "line", "endLine", "message"} {
		for i, f := range doc.Findings {
			if _, ok := f[key]; !ok {
				t.Errorf("finding %d has no %q: the contract requires it", i, key)
			}
		}
	}
	first := doc.Findings[0]
	if first["family"] != "reproducibility" || first["severity"] != "high" || first["line"] != float64(1) || first["stage"] != "build" {
		t.Errorf("first finding = %v, want catalog fields joined", first)
	}
	if cis, _ := first["cis"].([]any); len(cis) != 1 || cis[0] != "4.2" {
		t.Errorf("cis = %v, want [4.2]", first["cis"])
	}
	if cis, _ := doc.Findings[5]["cis"].([]any); cis == nil || len(cis) != 0 {
		t.Errorf("unknown rule cis = %v, want []", doc.Findings[5]["cis"])
	}
	if doc.Findings[2]["fingerprint"] != "0123456789ab" || doc.Findings[2]["waiver"] != "EXC-7" || doc.Findings[2]["level"] != "waived" {
		t.Errorf("waived secret finding = %v", doc.Findings[2])
	}
}

func TestJSONEmptyFindings(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, Report{Policy: PolicyRef{Name: "strict"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"findings": []`) {
		t.Errorf("JSON() = %s, want an empty findings array", b.String())
	}
}

// loadSARIFSchema compiles the vendored official SARIF 2.1.0 schema.
func loadSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
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
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compiling the SARIF schema: %v", err)
	}
	return sch
}

func validateSARIF(t *testing.T, sch *jsonschema.Schema, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("SARIF output is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("SARIF output does not validate against the SARIF 2.1.0 schema: %v\n%s", err, data)
	}
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	sch := loadSARIFSchema(t)
	var b bytes.Buffer
	if err := SARIF(&b, sample(), catalog.All()); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, sch, b.Bytes())

	// A real check's findings too, and an empty report.
	fs, err := dockerfilecheck.Check([]byte("FROM debian\nARG TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyZ\nRUN curl -k https://x | sh\nUSER root\nCMD run\n"), dockerfilecheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := SARIF(&b, Report{Findings: fs}, catalog.All()); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, sch, b.Bytes())
	b.Reset()
	if err := SARIF(&b, Report{}, nil); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, sch, b.Bytes())
}

func TestErrorReports(t *testing.T) {
	rep := Report{Errors: []Error{{Message: "parsing Dockerfile: unknown instruction: FROB", File: "app/Dockerfile", Line: 2}}}
	var b bytes.Buffer
	if err := SARIF(&b, rep, catalog.All()); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, loadSARIFSchema(t), b.Bytes())
	var log struct {
		Runs []struct {
			Invocations []struct {
				ExecutionSuccessful        bool `json:"executionSuccessful"`
				ToolExecutionNotifications []struct {
					Level     string `json:"level"`
					Message   struct{ Text string }
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
				} `json:"toolExecutionNotifications"`
			}
			Results []any
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	inv := log.Runs[0].Invocations[0]
	if inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 1 || log.Runs[0].Results == nil {
		t.Fatalf("SARIF invocation = %+v, results %v; want one failed invocation and results []", inv, log.Runs[0].Results)
	}
	n := inv.ToolExecutionNotifications[0]
	if n.Level != "error" || !strings.Contains(n.Message.Text, "FROB") || n.Locations[0].PhysicalLocation.ArtifactLocation.URI != "app/Dockerfile" || n.Locations[0].PhysicalLocation.Region.StartLine != 2 {
		t.Errorf("notification = %+v", n)
	}

	b.Reset()
	if err := JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Findings []any
		Errors   []Error
	}
	if err := json.Unmarshal(b.Bytes(), &j); err != nil || j.Findings == nil || len(j.Errors) != 1 || j.Errors[0].Line != 2 {
		t.Errorf("JSON error report = %s (%v)", b.String(), err)
	}
	b.Reset()
	if err := JSON(&b, Report{}); err != nil || strings.Contains(b.String(), "errors") {
		t.Errorf("JSON of a report without errors = %s, want no errors key", b.String())
	}
}

func TestSARIFContent(t *testing.T) {
	var b bytes.Buffer
	if err := SARIF(&b, sample(), catalog.All()); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name    string `json:"name"`
					Version string `json:"version"`
					Rules   []struct {
						ID               string            `json:"id"`
						ShortDescription map[string]string `json:"shortDescription"`
						HelpURI          string            `json:"helpUri"`
						Properties       struct {
							Tags             []string `json:"tags"`
							SecuritySeverity string   `json:"security-severity"`
						} `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex *int   `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
						Region           *struct {
							StartLine int `json:"startLine"`
							EndLine   int `json:"endLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Suppressions []struct{ Kind string } `json:"suppressions"`
			} `json:"results"`
			Properties map[string]map[string]string `json:"properties"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if log.Version != "2.1.0" || run.Tool.Driver.Name != "hardenkit" || run.Tool.Driver.Version != "v0.1.0" {
		t.Errorf("header = %s %s %s", log.Version, run.Tool.Driver.Name, run.Tool.Driver.Version)
	}
	if len(run.Tool.Driver.Rules) != len(catalog.All()) {
		t.Errorf("driver rules = %d, want the whole catalog (%d)", len(run.Tool.Driver.Rules), len(catalog.All()))
	}
	rule0 := run.Tool.Driver.Rules[0]
	if rule0.ID != "HK1001" || rule0.ShortDescription["text"] == "" || rule0.HelpURI == "" ||
		rule0.Properties.SecuritySeverity != "8.0" || strings.Join(rule0.Properties.Tags, ",") != "security,reproducibility,CIS-4.2" {
		t.Errorf("rule metadata = %+v", rule0)
	}
	if run.Properties["policy"]["digest"] != "sha256:abc" {
		t.Errorf("run properties = %v", run.Properties)
	}
	levels := []string{"error", "warning", "note", "note", "error", "error"}
	for i, res := range run.Results {
		if res.Level != levels[i] {
			t.Errorf("result %d level = %s, want %s", i, res.Level, levels[i])
		}
	}
	if r := run.Results[0]; r.RuleIndex == nil || run.Tool.Driver.Rules[*r.RuleIndex].ID != "HK1001" {
		t.Errorf("result 0 ruleIndex does not point at HK1001")
	}
	if run.Results[5].RuleIndex != nil || len(run.Results[5].Locations) != 0 {
		t.Errorf("unknown rule without file: %+v", run.Results[5])
	}
	loc := run.Results[1].Locations[0].PhysicalLocation
	if loc.ArtifactLocation.URI != "app%20dir/Dockerfile" || loc.Region.StartLine != 4 || loc.Region.EndLine != 6 {
		t.Errorf("location = %+v", loc)
	}
	if run.Results[4].Locations[0].PhysicalLocation.Region != nil {
		t.Errorf("a finding without a line must not have a region")
	}
	if s := run.Results[2].Suppressions; len(s) != 1 || s[0].Kind != "external" {
		t.Errorf("exception waiver suppressions = %+v", s)
	}
	if s := run.Results[3].Suppressions; len(s) != 1 || s[0].Kind != "inSource" {
		t.Errorf("inline waiver suppressions = %+v", s)
	}
}

func TestSARIFFingerprintIgnoresLine(t *testing.T) {
	a := rules.Finding{Rule: "HK1001", File: "Dockerfile", Line: 1, Message: "m"}
	b := a
	b.Line = 7
	if resultFingerprint(a) != resultFingerprint(b) {
		t.Error("partial fingerprint changes with the line")
	}
}

func TestSARIFSchemaRejectsInvalidLogs(t *testing.T) {
	// Guards against a vacuous validation: the vendored schema must reject
	// what SARIF 2.1.0 forbids.
	sch := loadSARIFSchema(t)
	for _, doc := range []string{
		`{"version": "2.0.0", "runs": []}`,
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}]}`,
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "HK1001"}]}]}`,
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {"region": {"startLine": 0}}}]}]}]}`,
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err == nil {
			t.Errorf("schema accepted invalid SARIF %s", doc)
		}
	}
}
