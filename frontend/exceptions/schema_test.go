package exceptions

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/policy/strictyaml/schematest"
)

const schemaFile = "../../docs/exceptions.schema.json"

// TestSchemaMatchesParser keeps docs/exceptions.schema.json and the parser
// in step: the same keys everywhere and the same shapes.
func TestSchemaMatchesParser(t *testing.T) {
	w := schematest.Walker{T: t, Root: schematest.Load(t, schemaFile)}
	w.Walk("exceptions", reflect.TypeFor[fileModel](), w.Root, false)
	for path, want := range map[string]string{
		"apiVersion": APIVersion,
		"kind":       Kind,
	} {
		if got := w.At(path)["const"]; got != want {
			t.Errorf("schema %s = %v, want %q", path, got, want)
		}
	}
	if got := w.At("exceptions", "[]", "signature", "payloadType")["const"]; got != PayloadType {
		t.Errorf("schema payloadType = %v", got)
	}
	for path, want := range map[string]string{
		"id":        idRe.String(),
		"rule":      ruleRe.String(),
		"scope.cve": vulnRe.String(),
	} {
		s := w.At(append([]string{"exceptions", "[]"}, strings.Split(path, ".")...)...)
		if got := s["pattern"]; got != want {
			t.Errorf("schema %s pattern = %v, parser %v", path, got, want)
		}
	}
}

// TestSchemaAgreesOnDocuments: the example file and a valid record pass
// both; structurally broken documents fail both.
func TestSchemaAgreesOnDocuments(t *testing.T) {
	s := schematest.Compile(t, schemaFile)
	example, err := os.ReadFile("../../examples/policies/exceptions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"example": string(example),
		"record":  head + "- " + rec,
		"empty":   head + "  []\n",
	} {
		if err := s.Validate(schematest.Instance(t, []byte(doc))); err != nil {
			t.Errorf("%s: schema rejects it: %v", name, err)
		}
		if _, err := Parse("ex.yaml", []byte(doc), nil); err != nil {
			t.Errorf("%s: parser rejects it: %v", name, err)
		}
	}
	for name, doc := range map[string]string{
		"unknown key":   head + "- " + rec + "  approver: carol\n",
		"wrong type":    head + "- " + strings.Replace(rec, "ticket: SEC-1", "ticket: 1234", 1),
		"non-catalog":   head + "- " + strings.Replace(rec, "HK1020", "DL3008", 1),
		"bad date":      head + "- " + strings.Replace(rec, "2027-01-01", "next year", 1),
		"tagged image":  head + "- " + strings.Replace(rec, "stage: build", "image: app:1.0", 1),
		"bad purl":      head + "- " + strings.Replace(rec, "stage: build", "package: openssl", 1),
		"empty stage":   head + "- " + strings.Replace(rec, "stage: build", "stage: \"\"", 1),
		"no list":       "apiVersion: hardenkit.dev/v1alpha1\nkind: Exceptions\n",
		"wrong kind":    "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nexceptions: []\n",
		"sig needs sig": head + "- " + rec + "  signature:\n    payloadType: application/vnd.hardenkit.exception+json\n    payload: e30=\n    signatures: [{keyid: k}]\n",
	} {
		if err := s.Validate(schematest.Instance(t, []byte(doc))); err == nil {
			t.Errorf("%s: schema accepts it", name)
		}
		if _, err := Parse("ex.yaml", []byte(doc), nil); err == nil {
			t.Errorf("%s: parser accepts it", name)
		}
	}
}
