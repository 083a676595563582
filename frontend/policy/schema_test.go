package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/policy/strictyaml/schematest"
)

const schemaFile = "../../docs/policy.schema.json"

// TestSchemaMatchesParser keeps docs/policy.schema.json and the parser in
// step: the same keys everywhere, the same shapes, the same enums.
func TestSchemaMatchesParser(t *testing.T) {
	w := schematest.Walker{T: t, Root: schematest.Load(t, schemaFile)}
	w.Walk("policy", reflect.TypeFor[policyFile](), w.Root, false)

	enums := []struct {
		path []string
		want []string
	}{
		{[]string{"baseline"}, baselineNames},
		{[]string{"defaults", "level"}, schematest.Strings(configurableLevels)},
		{[]string{"rules", "*"}, schematest.Strings(configurableLevels)},
		{[]string{"defaults", "select", "[]", "level"}, schematest.Strings(configurableLevels)},
		{[]string{"defaults", "select", "[]", "families", "[]"}, schematest.Strings(families)},
		{[]string{"defaults", "select", "[]", "cis", "[]"}, cisItems},
		{[]string{"defaults", "select", "[]", "severities", "[]"}, schematest.Strings(severities)},
		{[]string{"defaults", "select", "[]", "stages", "[]"}, schematest.Strings(stages)},
		{[]string{"controls", "distroless", "mode"}, distrolessModes},
		{[]string{"controls", "vulnerabilities", "failOn"}, schematest.Strings(severities)},
	}
	for _, e := range enums {
		if got := schematest.Enum(w.At(e.path...)); !slices.Equal(got, e.want) {
			t.Errorf("schema enum %s = %v, parser accepts %v", strings.Join(e.path, "."), got, e.want)
		}
	}
	if got := w.At("apiVersion")["const"]; got != APIVersion {
		t.Errorf("schema apiVersion = %v", got)
	}
	if got := w.At("kind")["const"]; got != Kind {
		t.Errorf("schema kind = %v", got)
	}
	if got := w.At("name")["pattern"]; got != nameRe.String() {
		t.Errorf("schema name pattern = %v, parser %v", got, nameRe)
	}
}

// TestSchemaAgreesOnDocuments runs documents through both the schema and
// the parser: what one accepts the other must accept.
func TestSchemaAgreesOnDocuments(t *testing.T) {
	s := schematest.Compile(t, schemaFile)
	docs := map[string][]byte{}
	for _, name := range Baselines() {
		data, file, err := BaselineFile(name)
		if err != nil {
			t.Fatal(err)
		}
		docs[file] = data
	}
	examples, err := filepath.Glob("../../examples/policies/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range examples {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("kind: Policy")) {
			docs[file] = data
		}
	}
	if len(docs) < 3 {
		t.Fatalf("found %d policy documents, want the baselines and at least one example", len(docs))
	}
	for file, data := range docs {
		if err := s.Validate(schematest.Instance(t, data)); err != nil {
			t.Errorf("%s: schema rejects it: %v", file, err)
		}
		if _, err := Parse(file, data, nil); err != nil {
			t.Errorf("%s: parser rejects it: %v", file, err)
		}
	}

	rejected := map[string]string{
		"unknown key":        hdr + "controls:\n  user:\n    name: app\n",
		"wrong type":         hdr + "controls:\n  user:\n    inject: \"yes\"\n",
		"bad level":          hdr + "rules:\n  HK1001: fail\n",
		"non-catalog id":     hdr + "rules:\n  DL3008: warn\n",
		"bad enum":           hdr + "controls:\n  distroless:\n    mode: slim\n",
		"bad duration":       hdr + "controls:\n  exceptions:\n    maxLifetime: 3 months\n",
		"selector no level":  hdr + "defaults:\n  select:\n    - families: [tooling]\n",
		"selector no filter": hdr + "defaults:\n  select:\n    - level: warn\n",
		"relative keep":      hdr + "controls:\n  tooling:\n    keep: [usr/bin/tini]\n",
		"unclean keep":       hdr + "controls:\n  tooling:\n    keep: [/usr//bin]\n",
		"keep root":          hdr + "controls:\n  tooling:\n    keep: [/]\n",
		"bad digest":         hdr + "controls:\n  distroless:\n    allowedBases: [{pattern: x, digest: sha256:00}]\n",
		"missing name":       "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\n",
		"uid too large":      hdr + "controls:\n  user:\n    uid: 2147483648\n",
		"null keep":          hdr + "controls:\n  tooling:\n    keep: null\n",
	}
	for name, doc := range rejected {
		if err := s.Validate(schematest.Instance(t, []byte(doc))); err == nil {
			t.Errorf("%s: schema accepts it", name)
		}
		if _, err := Parse("p.yaml", []byte(doc), nil); err == nil {
			t.Errorf("%s: parser accepts it", name)
		}
	}
}
