// Package strictyaml decodes hardenkit's configuration files (policies,
// exceptions) from YAML or JSON into Go structs, strictly: unknown keys,
// duplicate keys, wrong types, nulls, aliases and extra documents are errors,
// and every error names the file and the line ("policy.yaml:12: …").
//
// It walks the yaml.Node tree itself instead of using yaml.Decoder with
// KnownFields because the decoder stops at type errors with messages in Go
// terms ("cannot unmarshal !!str into int64"), cannot tell an absent key from
// a zero value, reports no line for semantic checks made after decoding, and
// expands aliases. Fields are declared with `yaml:"name"` tags; a field of
// type Value[T] records whether the document set it and on which line, which
// is what merging onto a baseline and later validation need.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// maxErrors bounds how many problems one Decode reports; past that the file
// is clearly not the expected format and more lines would only be noise.
const maxErrors = 20

// Error is one problem at one line of one file.
type Error struct {
	// File is the name the caller gave for the document.
	File string
	// Line is 1-based.
	Line int
	// Msg says what is wrong, without the location.
	Msg string
}

// Error formats the problem as "FILE:LINE: MSG", the form editors and CI
// annotations recognise.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Errors is a list of problems, one per line when printed.
type Errors []*Error

// Error joins the problems with newlines.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the individual problems to errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Collector gathers located problems for one file; callers that validate a
// decoded document after Decode use it so that their errors look like the
// decoder's.
type Collector struct {
	file  string
	errs  Errors
	count int // problems seen, including those past maxErrors
}

// NewCollector returns a Collector for file.
func NewCollector(file string) *Collector {
	return &Collector{file: file}
}

// Addf records a problem at line (1 when line is unknown).
func (c *Collector) Addf(line int, format string, args ...any) {
	c.count++
	if len(c.errs) >= maxErrors {
		return
	}
	if line < 1 {
		line = 1
	}
	c.errs = append(c.errs, &Error{File: c.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Err returns the collected problems, or nil when there are none.
func (c *Collector) Err() error {
	if len(c.errs) == 0 {
		return nil
	}
	out := slices.Clone(c.errs)
	if hidden := c.count - len(c.errs); hidden > 0 {
		last := c.errs[len(c.errs)-1]
		out = append(out, &Error{File: c.file, Line: last.Line, Msg: fmt.Sprintf("%d more problems not shown", hidden)})
	}
	return out
}

// Value is a decoded scalar, list or struct that remembers whether the
// document set it and where. Line is the line of the key for a mapping entry
// and of the item for a sequence entry.
type Value[T any] struct {
	// V is the decoded value; the zero value when not Set.
	V T
	// Line is where the document sets it; 0 when absent.
	Line int
	// Set says whether the document set it (an explicit null on a
	// nullable field counts).
	Set bool
}

// Of returns a Value that is set to v at line.
func Of[T any](v T, line int) Value[T] {
	return Value[T]{V: v, Line: line, Set: true}
}

// valueField lets the decoder reach into any Value[T] without knowing T.
type valueField interface {
	target() (v reflect.Value, line *int, set *bool)
}

func (v *Value[T]) target() (reflect.Value, *int, *bool) {
	return reflect.ValueOf(&v.V).Elem(), &v.Line, &v.Set
}

var valueFieldType = reflect.TypeFor[valueField]()

// IsValueType reports whether t is some Value[T], and returns T. Schema
// tests use it to walk the same types the decoder walks.
func IsValueType(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() != reflect.Struct || !reflect.PointerTo(t).Implements(valueFieldType) {
		return nil, false
	}
	f, ok := t.FieldByName("V")
	if !ok {
		return nil, false
	}
	return f.Type, true
}

// FieldInfo is the decoder's view of one struct field.
type FieldInfo struct {
	// Key is the YAML key.
	Key string
	// Nullable fields accept an explicit null, meaning "unset, use the
	// built-in default" (tag option `yaml:"key,nullable"`).
	Nullable bool
	// Index is the field's index in its struct.
	Index int
}

// Fields lists the keys a struct type accepts, in declaration order.
func Fields(t reflect.Type) []FieldInfo {
	var out []FieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("yaml")
		if !ok || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		out = append(out, FieldInfo{Key: name, Nullable: opts == "nullable", Index: i})
	}
	return out
}

// Decode parses data as exactly one YAML (or JSON) document and stores it in
// v, which must be a pointer to a struct. All problems found are returned
// together as Errors.
func Decode(file string, data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("strictyaml: Decode needs a pointer to a struct, got %T", v)
	}
	d := &decoder{c: NewCollector(file)}
	root := d.parse(data)
	if root != nil {
		d.decode(root, rv.Elem(), false)
	}
	return d.c.Err()
}

type decoder struct {
	c *Collector
}

var (
	yamlLineRe      = regexp.MustCompile(`^yaml: line (\d+): `)
	unknownAnchorRe = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// parserProblems are the problems yaml.v3's parser (as opposed to its
// scanner) reports. Their line comes from a 0-based mark that the library
// only corrects for scanner errors (decode.go, parser.fail), so it is one
// short; a parser error on the first line has no line at all.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// parse returns the document's root node, or nil after recording why there
// is none.
func (d *decoder) parse(data []byte) (root *yaml.Node) {
	// The YAML scanner reports encoding problems without a line; find them
	// first so that every error can name one.
	if line, msg := checkEncoding(data); line > 0 {
		d.c.Addf(line, "%s", msg)
		return nil
	}
	defer func() {
		// A panic in the YAML library on hostile input must fail the
		// file, not the whole build or CLI.
		if r := recover(); r != nil {
			d.c.Addf(1, "cannot parse YAML: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.c.Addf(1, "document is empty")
			return nil
		}
		d.addYAMLError(err, data)
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.addYAMLError(err, data)
		return nil
	default:
		d.c.Addf(extra.Line, "only one YAML document is allowed")
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		d.c.Addf(doc.Line, "document is empty")
		return nil
	}
	return doc.Content[0]
}

func (d *decoder) addYAMLError(err error, data []byte) {
	msg := err.Error()
	line := 1
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			line = n
			if parserProblems[msg] {
				line++
			}
		}
	} else if m := unknownAnchorRe.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			line = lineAt(data, i)
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	d.c.Addf(line, "invalid YAML: %s", msg)
}

// checkEncoding finds the first byte sequence YAML rejects (invalid UTF-8,
// control characters) and returns its 1-based line, or 0.
func checkEncoding(data []byte) (int, string) {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return lineAt(data, i), "invalid UTF-8"
		case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0xfffe || r == 0xffff:
			return lineAt(data, i), fmt.Sprintf("control character %U is not allowed", r)
		}
		i += size
	}
	return 0, ""
}

// lineAt returns the 1-based line of byte offset off, counting line breaks
// as the YAML scanner does: CR LF, CR, LF, NEL, LS and PS.
func lineAt(data []byte, off int) int {
	line := 1
	for i := 0; i < off && i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch r {
		case '\r':
			if i+1 < off && i+1 < len(data) && data[i+1] == '\n' {
				size++
			}
			line++
		case '\n', 0x85, 0x2028, 0x2029:
			line++
		}
		i += size
	}
	return line
}

var kindNames = map[yaml.Kind]string{
	yaml.DocumentNode: "a document",
	yaml.SequenceNode: "a list",
	yaml.MappingNode:  "a mapping",
	yaml.ScalarNode:   "a scalar",
	yaml.AliasNode:    "an alias",
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return kindNames[n.Kind]
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!str", "!!timestamp":
		return "a string"
	default:
		return fmt.Sprintf("a value tagged %q", n.ShortTag())
	}
}

// decode stores n into v, recording problems instead of stopping at the
// first. nullable lets an explicit null set a Value to its zero value.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, nullable bool) {
	if n.Kind == yaml.AliasNode {
		d.c.Addf(n.Line, "YAML aliases are not supported")
		return
	}
	if vf, ok := addrValueField(v); ok {
		inner, line, set := vf.target()
		*line = n.Line
		if nullable && isNull(n) {
			*set = true
			return
		}
		before := d.c.count
		d.decode(n, inner, false)
		*set = d.c.count == before
		return
	}
	if isNull(n) {
		d.c.Addf(n.Line, "expected %s, got null", expected(v.Type()))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.decode(n, elem.Elem(), false)
		v.Set(elem)
	case reflect.Struct:
		d.decodeStruct(n, v)
	case reflect.Map:
		d.decodeMap(n, v)
	case reflect.Slice:
		d.decodeSlice(n, v)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!timestamp") {
			d.c.Addf(n.Line, "expected a string, got %s%s", describe(n), quoteHint(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.c.Addf(n.Line, "expected true or false, got %s", describe(n))
			return
		}
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			d.c.Addf(n.Line, "expected true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!int" && isBigInt(n) {
			// YAML types an integer too large for int64 as a float or string.
			d.c.Addf(n.Line, "integer %q is out of range", n.Value)
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.c.Addf(n.Line, "expected an integer, got %s", describe(n))
			return
		}
		var i int64
		if err := n.Decode(&i); err != nil || v.OverflowInt(i) {
			d.c.Addf(n.Line, "integer %q is out of range", n.Value)
			return
		}
		v.SetInt(i)
	default:
		// A programming error in a file model, not a document problem.
		panic(fmt.Sprintf("strictyaml: unsupported field type %s", v.Type()))
	}
}

// quoteHint suggests quoting when YAML typed a value the user probably meant
// as text (a version "1.10" read as a number, "no" as a boolean).
func quoteHint(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		return fmt.Sprintf(" (%q; quote it to make it a string)", n.Value)
	}
	return ""
}

// isBigInt reports whether an unquoted scalar is an integer too large for
// int64.
func isBigInt(n *yaml.Node) bool {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return false
	}
	i, ok := new(big.Int).SetString(n.Value, 0)
	return ok && !i.IsInt64()
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func addrValueField(v reflect.Value) (valueField, bool) {
	if !v.CanAddr() {
		return nil, false
	}
	vf, ok := v.Addr().Interface().(valueField)
	return vf, ok
}

// expected names the YAML shape a Go type needs.
func expected(t reflect.Type) string {
	if inner, ok := IsValueType(t); ok {
		t = inner
	}
	switch t.Kind() {
	case reflect.Pointer:
		return expected(t.Elem())
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	}
	return t.String()
}

// mapKey checks one mapping key and returns it, or "" after recording why
// it is unusable.
func (d *decoder) mapKey(k *yaml.Node) (string, bool) {
	if k.Kind != yaml.ScalarNode {
		d.c.Addf(k.Line, "mapping keys must be strings, got %s", describe(k))
		return "", false
	}
	if k.ShortTag() == "!!merge" {
		d.c.Addf(k.Line, "YAML merge keys (<<) are not supported")
		return "", false
	}
	if k.ShortTag() != "!!str" {
		d.c.Addf(k.Line, "mapping keys must be strings, got %s %q", describe(k), k.Value)
		return "", false
	}
	return k.Value, true
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.c.Addf(n.Line, "expected a mapping, got %s", describe(n))
		return
	}
	fields := Fields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.mapKey(k)
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			d.c.Addf(k.Line, "duplicate key %q (first at line %d)", key, first)
			continue
		}
		seen[key] = k.Line
		idx := slices.IndexFunc(fields, func(f FieldInfo) bool { return f.Key == key })
		if idx < 0 {
			d.c.Addf(k.Line, "unknown key %q (known: %s)", key, knownKeys(fields))
			continue
		}
		fv := v.Field(fields[idx].Index)
		d.decode(val, fv, fields[idx].Nullable)
		// Report the key's line: it is where the setting is written.
		if vf, ok := addrValueField(fv); ok {
			_, line, _ := vf.target()
			*line = k.Line
		}
	}
}

func knownKeys(fields []FieldInfo) string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.Key
	}
	return strings.Join(keys, ", ")
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.c.Addf(n.Line, "expected a mapping, got %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		panic(fmt.Sprintf("strictyaml: map key type %s is not a string", v.Type().Key()))
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.mapKey(k)
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			d.c.Addf(k.Line, "duplicate key %q (first at line %d)", key, first)
			continue
		}
		seen[key] = k.Line
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, false)
		if vf, ok := addrValueField(elem); ok {
			_, line, _ := vf.target()
			*line = k.Line
		}
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.c.Addf(n.Line, "expected a list, got %s", describe(n))
		return
	}
	// A non-nil empty slice keeps "[]" (explicitly nothing) apart from an
	// absent key.
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), false)
	}
	v.Set(s)
}
