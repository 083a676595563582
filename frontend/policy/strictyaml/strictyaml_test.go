package strictyaml

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	Name  Value[string]   `yaml:"name"`
	Count Value[int]      `yaml:"count"`
	On    Value[bool]     `yaml:"on"`
	Big   Value[int64]    `yaml:"big"`
	Tags  Value[[]string] `yaml:"tags"`
}

type doc struct {
	Title    Value[string]                   `yaml:"title"`
	Inner    *inner                          `yaml:"inner"`
	Items    Value[[]Value[inner]]           `yaml:"items"`
	Map      Value[map[string]Value[string]] `yaml:"map"`
	Nullable Value[[]string]                 `yaml:"nullable,nullable"`
	When     Value[string]                   `yaml:"when"`
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // each a full error line
	}{
		{"unknown key", "title: a\nbogus: 1\n", []string{`f.yaml:2: unknown key "bogus" (known: title, inner, items, map, nullable, when)`}},
		{"unknown nested key", "inner:\n  name: a\n  nmae: b\n", []string{`f.yaml:3: unknown key "nmae" (known: name, count, on, big, tags)`}},
		{"duplicate key", "title: a\ntitle: b\n", []string{`f.yaml:2: duplicate key "title" (first at line 1)`}},
		{"duplicate map key", "map:\n  a: x\n  a: y\n", []string{`f.yaml:3: duplicate key "a" (first at line 2)`}},
		{"int for string", "title: 12\n", []string{`f.yaml:1: expected a string, got an integer ("12"; quote it to make it a string)`}},
		{"float for string", "title: 1.10\n", []string{`f.yaml:1: expected a string, got a number ("1.10"; quote it to make it a string)`}},
		{"bool for string", "title: yes\n", nil}, // YAML 1.2: "yes" is a string
		{"list for string", "title: [a]\n", []string{`f.yaml:1: expected a string, got a list`}},
		{"string for bool", "inner:\n  on: \"true\"\n", []string{`f.yaml:2: expected true or false, got a string`}},
		{"string for int", "inner:\n  count: ten\n", []string{`f.yaml:2: expected an integer, got a string`}},
		{"float for int", "inner:\n  count: 1.5\n", []string{`f.yaml:2: expected an integer, got a number`}},
		{"int overflow", "inner:\n  count: 99999999999999999999\n", []string{`f.yaml:2: integer "99999999999999999999" is out of range`}},
		{"int range", "inner:\n  count: 9223372036854775807\n", nil},
		{"int64 overflow", "inner:\n  big: 0x7fffffffffffffffff\n", []string{`f.yaml:2: integer "0x7fffffffffffffffff" is out of range`}},
		{"scalar for mapping", "inner: 3\n", []string{`f.yaml:1: expected a mapping, got an integer`}},
		{"mapping for list", "items: {a: b}\n", []string{`f.yaml:1: expected a list, got a mapping`}},
		{"null value", "title:\n", []string{`f.yaml:1: expected a string, got null`}},
		{"null struct", "inner: ~\n", []string{`f.yaml:1: expected a mapping, got null`}},
		{"null not nullable list", "items: null\n", []string{`f.yaml:1: expected a list, got null`}},
		{"alias", "title: &a x\nwhen: *a\n", []string{`f.yaml:2: YAML aliases are not supported`}},
		{"merge key", "inner:\n  <<: {name: a}\n", []string{`f.yaml:2: YAML merge keys (<<) are not supported`}},
		{"int key", "map:\n  1: a\n", []string{`f.yaml:2: mapping keys must be strings, got an integer "1"`}},
		{"list key", "? [a]\n: b\n", []string{`f.yaml:1: mapping keys must be strings, got a list`}},
		{"root list", "- a\n", []string{`f.yaml:1: expected a mapping, got a list`}},
		{"root scalar", "hello\n", []string{`f.yaml:1: expected a mapping, got a string`}},
		{"empty", "", []string{`f.yaml:1: document is empty`}},
		{"comments only", "# nothing\n", []string{`f.yaml:1: document is empty`}},
		{"two documents", "title: a\n---\ntitle: b\n", []string{`f.yaml:2: only one YAML document is allowed`}},
		{"syntax error", "title: a\ninner:\n  name: [x\n", []string{`f.yaml:3: invalid YAML: did not find expected ',' or ']'`}},
		{"parser error at end", "title: [x\n", []string{`f.yaml:2: invalid YAML: did not find expected ',' or ']'`}},
		{"parser error later", "title: a\n\n\nwhen: {x\n", []string{`f.yaml:4: invalid YAML: did not find expected ',' or '}'`}},
		{"block entry in mapping", "title: a\n- b\n", []string{`f.yaml:2: invalid YAML: did not find expected key`}},
		{"scanner error", "title: a\nwhen: b: c\n", []string{`f.yaml:2: invalid YAML: mapping values are not allowed in this context`}},
		{"unterminated quote", "title: a\nwhen: \"x\n", []string{`f.yaml:2: invalid YAML: found unexpected end of stream`}},
		{"unknown anchor", "title: a\n\nwhen: *nope\n", []string{`f.yaml:3: invalid YAML: unknown anchor 'nope' referenced`}},
		{"tab indent", "inner:\n\tname: a\n", []string{`f.yaml:2: invalid YAML: found character that cannot start any token`}},
		{"invalid utf8", "title: a\nwhen: \xff\n", []string{`f.yaml:2: invalid UTF-8`}},
		{"control char", "title: a\n\nwhen: \x07\n", []string{`f.yaml:3: control character U+0007 is not allowed`}},
		{"CR line breaks", "title: a\rwhen: b\rbogus: c\r", []string{`f.yaml:3: unknown key "bogus" (known: title, inner, items, map, nullable, when)`}},
		{"CRLF line breaks", "title: a\r\nwhen: \x07\r\n", []string{`f.yaml:2: control character U+0007 is not allowed`}},
		{"CR before control char", "title: a\r\rwhen: \x07", []string{`f.yaml:3: control character U+0007 is not allowed`}},
		{"NEL line break", "title: a\u0085\xff", []string{`f.yaml:2: invalid UTF-8`}},
		{"custom tag", "title: !foo x\n", []string{`f.yaml:1: expected a string, got a value tagged "!foo" ("x"; quote it to make it a string)`}},
		{"several", "title: 1\nbogus: 2\ninner:\n  count: x\n", []string{
			`f.yaml:1: expected a string, got an integer ("1"; quote it to make it a string)`,
			`f.yaml:2: unknown key "bogus" (known: title, inner, items, map, nullable, when)`,
			`f.yaml:4: expected an integer, got a string`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := Decode("f.yaml", []byte(tt.in), &d)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Decode() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Decode() = nil, want %q", tt.want)
			}
			got := strings.Split(err.Error(), "\n")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode() errors =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != len(tt.want) {
				t.Errorf("Decode() error is %T with %d entries, want Errors with %d", err, len(es), len(tt.want))
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	in := `title: "hello"
inner:
  name: n
  count: 0x10
  on: true
  big: 9007199254740993
  tags: []
items:
  - name: first
  - {name: second, on: false}
map:
  k1: v1
  k2: v2
nullable: null
when: 2026-01-31
`
	var d doc
	if err := Decode("f.yaml", []byte(in), &d); err != nil {
		t.Fatal(err)
	}
	if d.Title != Of("hello", 1) {
		t.Errorf("Title = %+v", d.Title)
	}
	if d.Inner == nil || d.Inner.Name != Of("n", 3) || d.Inner.Count != Of(16, 4) || d.Inner.On != Of(true, 5) || d.Inner.Big != Of(int64(9007199254740993), 6) {
		t.Errorf("Inner = %+v", d.Inner)
	}
	if !d.Inner.Tags.Set || d.Inner.Tags.V == nil || len(d.Inner.Tags.V) != 0 {
		t.Errorf("Tags = %#v, want set to a non-nil empty list", d.Inner.Tags)
	}
	if len(d.Items.V) != 2 || d.Items.Line != 8 || d.Items.V[0].Line != 9 || d.Items.V[1].V.Name.V != "second" || !d.Items.V[1].V.On.Set || d.Items.V[1].V.On.V {
		t.Errorf("Items = %+v", d.Items)
	}
	if d.Items.V[0].V.On.Set {
		t.Errorf("absent key is Set")
	}
	if d.Map.V["k2"] != Of("v2", 13) {
		t.Errorf("Map = %+v", d.Map)
	}
	if !d.Nullable.Set || d.Nullable.V != nil {
		t.Errorf("Nullable = %#v, want set and nil", d.Nullable)
	}
	if d.When.V != "2026-01-31" {
		t.Errorf("When = %+v, want the timestamp as written", d.When)
	}
}

func TestDecodeJSON(t *testing.T) {
	in := "{\n  \"title\": \"t\",\n  \"inner\": {\"count\": 3, \"tags\": [\"a\", \"b\"]},\n  \"bogus\": 1\n}"
	var d doc
	err := Decode("f.json", []byte(in), &d)
	if err == nil || err.Error() != `f.json:4: unknown key "bogus" (known: title, inner, items, map, nullable, when)` {
		t.Errorf("Decode() = %v", err)
	}
	if d.Inner == nil || d.Inner.Count.V != 3 || len(d.Inner.Tags.V) != 2 {
		t.Errorf("Inner = %+v", d.Inner)
	}
}

func TestDecodeCapsErrors(t *testing.T) {
	var b strings.Builder
	for i := range 50 {
		b.WriteString("k")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(": 1\n")
	}
	var d doc
	err := Decode("f.yaml", []byte(b.String()), &d)
	var es Errors
	if !errors.As(err, &es) || len(es) != maxErrors+1 {
		t.Fatalf("Decode() = %d errors, want %d", len(es), maxErrors+1)
	}
	if last := es[len(es)-1].Msg; last != "30 more problems not shown" {
		t.Errorf("last error = %q", last)
	}
}

func TestDecodeNeedsStructPointer(t *testing.T) {
	var d doc
	if err := Decode("f.yaml", []byte("a: 1"), d); err == nil {
		t.Error("Decode(non-pointer) = nil")
	}
}

func TestIsValueType(t *testing.T) {
	if inner, ok := IsValueType(reflect.TypeFor[Value[[]string]]()); !ok || inner != reflect.TypeFor[[]string]() {
		t.Errorf("IsValueType(Value[[]string]) = %v, %v", inner, ok)
	}
	if _, ok := IsValueType(reflect.TypeFor[inner]()); ok {
		t.Error("IsValueType(inner) = true")
	}
}
