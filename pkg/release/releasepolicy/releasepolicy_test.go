package releasepolicy

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/policy/strictyaml/schematest"
)

const schemaFile = "../../../docs/release-policy.schema.json"

const full = `apiVersion: hardenkit.dev/v1alpha1
kind: ReleasePolicy
policyDigests: ["sha256:1111111111111111111111111111111111111111111111111111111111111111"]
allow:
  warn: [HK1001]
  notEvaluated: ["*"]
  vulnerabilitiesNotEvaluated: true
provenance:
  builderId: https://ci.example.com/builder
  sourceRepository: https://git.example.com/app.git
  sourceRevision: 0123456789abcdef0123456789abcdef01234567
  frontendDigest: sha256:2222222222222222222222222222222222222222222222222222222222222222
  maxAge: 30d
`

func TestParse(t *testing.T) {
	p, err := Parse("release.yaml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if !p.AllowsWarn("HK1001") || p.AllowsWarn("HK1002") || !p.AllowsNotEvaluated("HK4001") {
		t.Errorf("allow lists: %+v", p.Allow)
	}
	if !p.AcceptsPolicy("sha256:1111111111111111111111111111111111111111111111111111111111111111") || p.AcceptsPolicy("sha256:3") {
		t.Error("policy digests")
	}
	if p.MaxAge() != 30*24*time.Hour {
		t.Errorf("maxAge %s", p.MaxAge())
	}
	if d := Default(); !d.AcceptsPolicy("sha256:x") || d.AllowsWarn("HK1001") || d.AllowsNotEvaluated("HK1001") || d.Allow.VulnerabilitiesNotEvaluated {
		t.Error("the default policy must accept any build policy and nothing short of pass or waived")
	}
}

func TestParseErrors(t *testing.T) {
	head := "apiVersion: hardenkit.dev/v1alpha1\nkind: ReleasePolicy\n"
	for name, tc := range map[string]struct{ doc, want string }{
		"unknown key":   {head + "alow: {}\n", "release.yaml:3"},
		"wrong kind":    {"apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\n", `kind "Policy"`},
		"bad digest":    {head + "policyDigests: [sha256:abc]\n", "policyDigests"},
		"bad rule":      {head + "allow:\n  warn: [DL3008]\n", `"DL3008" is not a rule id`},
		"bad age":       {head + "provenance:\n  maxAge: 1 week\n", "maxAge"},
		"wrong type":    {head + "allow:\n  vulnerabilitiesNotEvaluated: yes please\n", "release.yaml:4"},
		"extra doc":     {head + "---\n" + head, "release.yaml"},
		"bad frontend":  {head + "provenance:\n  frontendDigest: latest\n", "frontendDigest"},
		"no apiVersion": {"kind: ReleasePolicy\n", "apiVersion"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("release.yaml", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestSchemaMatchesParser keeps docs/release-policy.schema.json and the
// parser in step.
func TestSchemaMatchesParser(t *testing.T) {
	w := schematest.Walker{T: t, Root: schematest.Load(t, schemaFile)}
	w.Walk("release", reflect.TypeFor[Policy](), w.Root, false)
	if got := w.At("apiVersion")["const"]; got != APIVersion {
		t.Errorf("schema apiVersion = %v", got)
	}
	if got := w.At("kind")["const"]; got != Kind {
		t.Errorf("schema kind = %v", got)
	}
	if got := w.At("policyDigests", "[]")["pattern"]; got != digestRe.String() {
		t.Errorf("schema digest pattern = %v, parser %v", got, digestRe)
	}
}

// TestSchemaAgreesOnDocuments: what one accepts the other accepts.
func TestSchemaAgreesOnDocuments(t *testing.T) {
	s := schematest.Compile(t, schemaFile)
	head := "apiVersion: hardenkit.dev/v1alpha1\nkind: ReleasePolicy\n"
	for name, doc := range map[string]string{"full": full, "minimal": head} {
		if err := s.Validate(schematest.Instance(t, []byte(doc))); err != nil {
			t.Errorf("%s: schema rejects it: %v", name, err)
		}
		if _, err := Parse("r.yaml", []byte(doc)); err != nil {
			t.Errorf("%s: parser rejects it: %v", name, err)
		}
	}
	for name, doc := range map[string]string{
		"unknown key": head + "alow: {}\n",
		"bad digest":  head + "policyDigests: [sha256:abc]\n",
		"bad rule":    head + "allow:\n  warn: [DL3008]\n",
		"wrong type":  head + "allow:\n  vulnerabilitiesNotEvaluated: 1\n",
	} {
		if err := s.Validate(schematest.Instance(t, []byte(doc))); err == nil {
			t.Errorf("%s: schema accepts it", name)
		}
		if _, err := Parse("r.yaml", []byte(doc)); err == nil {
			t.Errorf("%s: parser accepts it", name)
		}
	}
}
