// Package schematest checks that a JSON schema describes exactly what a
// strictyaml file model decodes, so that documented schemas (docs/*.schema.json)
// cannot drift from the parsers. It is used by tests only.
package schematest

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	sy "github.com/hardenkit/hardenkit/frontend/policy/strictyaml"
)

// Load reads a JSON schema file as generic JSON.
func Load(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return s
}

// Walker compares a file model's Go types with a JSON schema.
type Walker struct {
	// T reports mismatches.
	T *testing.T
	// Root is the whole schema, for resolving "#/$defs/…" references.
	Root map[string]any
}

// resolve follows a local $ref.
func (w Walker) resolve(s map[string]any) map[string]any {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s
	}
	def, ok := w.Root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	if !ok {
		w.T.Fatalf("unresolvable $ref %s", ref)
	}
	return w.resolve(def)
}

// Walk checks that the schema s accepts exactly the keys and shapes type
// typ decodes; nullable says whether the parser accepts null there.
func (w Walker) Walk(path string, typ reflect.Type, s map[string]any, nullable bool) {
	s = w.resolve(s)
	if inner, ok := sy.IsValueType(typ); ok {
		typ = inner
	}
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	types := schemaTypes(s)
	want := map[reflect.Kind]string{
		reflect.Struct: "object", reflect.Map: "object", reflect.Slice: "array",
		reflect.String: "string", reflect.Bool: "boolean", reflect.Int: "integer", reflect.Int64: "integer",
	}[typ.Kind()]
	if !slices.Contains(types, want) {
		w.T.Errorf("%s: schema types %v, parser decodes %s", path, types, want)
	}
	if nullable != slices.Contains(types, "null") {
		w.T.Errorf("%s: schema null-ness %v, parser %v", path, slices.Contains(types, "null"), nullable)
	}
	switch typ.Kind() {
	case reflect.Struct:
		if s["additionalProperties"] != false {
			w.T.Errorf("%s: schema allows additional properties, the parser rejects unknown keys", path)
		}
		props, _ := s["properties"].(map[string]any)
		var fromSchema, fromParser []string
		for k := range props {
			fromSchema = append(fromSchema, k)
		}
		for _, f := range sy.Fields(typ) {
			fromParser = append(fromParser, f.Key)
			ps, ok := props[f.Key].(map[string]any)
			if !ok {
				continue
			}
			w.Walk(path+"."+f.Key, typ.Field(f.Index).Type, ps, f.Nullable)
		}
		slices.Sort(fromSchema)
		slices.Sort(fromParser)
		if !slices.Equal(fromSchema, fromParser) {
			w.T.Errorf("%s: schema keys %v, parser keys %v", path, fromSchema, fromParser)
		}
	case reflect.Map:
		ap, ok := s["additionalProperties"].(map[string]any)
		if !ok {
			w.T.Errorf("%s: a map needs an additionalProperties schema", path)
			return
		}
		w.Walk(path+".*", typ.Elem(), ap, false)
	case reflect.Slice:
		items, ok := s["items"].(map[string]any)
		if !ok {
			w.T.Errorf("%s: a list needs an items schema", path)
			return
		}
		w.Walk(path+"[]", typ.Elem(), items, false)
	}
}

// schemaTypes returns the JSON types a schema allows, deriving them from
// enum or const when there is no type.
func schemaTypes(s map[string]any) []string {
	switch v := s["type"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, x.(string))
		}
		return out
	}
	if _, ok := s["enum"]; ok {
		return []string{"string"}
	}
	if _, ok := s["const"].(string); ok {
		return []string{"string"}
	}
	return nil
}

// At returns the schema at a path of property names, "[]" for list
// items and "*" for map values.
func (w Walker) At(path ...string) map[string]any {
	s := w.Root
	for _, p := range path {
		s = w.resolve(s)
		switch p {
		case "[]":
			s = s["items"].(map[string]any)
		case "*":
			s = s["additionalProperties"].(map[string]any)
		default:
			s = s["properties"].(map[string]any)[p].(map[string]any)
		}
	}
	return w.resolve(s)
}

// Enum returns a schema's enum values.
func Enum(s map[string]any) []string {
	var out []string
	for _, v := range s["enum"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

// Strings converts a list of string-typed values.
func Strings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// Compile compiles a JSON schema file.
func Compile(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Instance converts a YAML (or JSON) document to what the schema
// validator reads.
func Instance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}
