package exceptions

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func known(id string) bool {
	return slices.Contains([]string{"HK1001", "HK1020", "HK1043", "HK5001"}, id)
}

// head is the two header lines and the list key; the first record starts
// on line 4.
const head = "apiVersion: hardenkit.dev/v1alpha1\nkind: Exceptions\nexceptions:\n"

// rec is a complete, valid record body (to be indented under "- ").
const rec = `id: EX-1
  rule: HK1020
  scope:
    stage: build
  justification: needed for the migration
  owner: alice@example.com
  approvedBy: bob@example.com
  created: 2026-11-01
  expires: 2027-01-01
  ticket: SEC-1
`

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParse(t *testing.T) {
	in := head + "- " + rec + `- id: EX-2
  rule: HK5001
  scope:
    path: "vendor/**"
    package: pkg:deb/debian/openssl
    cve: CVE-2026-1234
    image: registry.example.com/team/*
  justification: x
  owner: a
  approvedBy: b
  created: 2026-11-01T10:30:00+02:00
  expires: "2026-12-01T00:00:00Z"
`
	set, err := Parse("ex.yaml", []byte(in), known)
	if err != nil {
		t.Fatal(err)
	}
	want := &Set{Source: "ex.yaml", Exceptions: []Exception{
		{ID: "EX-1", Rule: "HK1020", Scope: Scope{Stage: "build"}, Justification: "needed for the migration",
			Owner: "alice@example.com", ApprovedBy: "bob@example.com", Created: date("2026-11-01"), Expires: date("2027-01-01"),
			Ticket: "SEC-1", Line: 4},
		{ID: "EX-2", Rule: "HK5001", Scope: Scope{Path: "vendor/**", Package: "pkg:deb/debian/openssl", CVE: "CVE-2026-1234", Image: "registry.example.com/team/*"},
			Justification: "x", Owner: "a", ApprovedBy: "b",
			Created: time.Date(2026, 11, 1, 8, 30, 0, 0, time.UTC), Expires: date("2026-12-01"), Line: 14},
	}}
	if !reflect.DeepEqual(set, want) {
		t.Errorf("Parse() =\n%+v\nwant\n%+v", set, want)
	}

	json := `{"apiVersion": "hardenkit.dev/v1alpha1", "kind": "Exceptions", "exceptions": [
  {"id": "J", "rule": "HK1001", "scope": {"stage": "final"}, "created": "2026-01-01", "expires": "2026-02-01",
   "justification": "j", "owner": "o", "approvedBy": "a"}]}`
	js, err := Parse("ex.json", []byte(json), known)
	if err != nil || len(js.Exceptions) != 1 || js.Exceptions[0].Line != 2 || js.Exceptions[0].Scope.Stage != "final" {
		t.Errorf("Parse(JSON) = %+v, %v", js, err)
	}

	empty, err := Parse("ex.yaml", []byte(head+"  []\n"), known)
	if err != nil || empty.Exceptions == nil || len(empty.Exceptions) != 0 {
		t.Errorf("Parse(empty list) = %+v, %v", empty, err)
	}
}

func TestParseErrors(t *testing.T) {
	one := func(body string) string { return head + "- " + body }
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"missing apiVersion", "kind: Exceptions\nexceptions: []\n", `ex.yaml:1: apiVersion is required ("hardenkit.dev/v1alpha1")`},
		{"wrong kind", "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nexceptions: []\n", `ex.yaml:2: kind must be "Exceptions", got "Policy"`},
		{"missing list", "apiVersion: hardenkit.dev/v1alpha1\nkind: Exceptions\n", `ex.yaml:1: exceptions is required (an empty list is fine)`},
		{"unknown key", one(rec + "  approver: carol\n"), `ex.yaml:14: unknown key "approver" (known: id, rule, scope, justification, owner, approvedBy, created, expires, ticket, signature)`},
		{"unknown scope key", one(strings.Replace(rec, "stage: build", "stage: build\n    file: x", 1)), `ex.yaml:8: unknown key "file" (known: stage, path, package, cve, image)`},
		{"wrong type", one(strings.Replace(rec, "ticket: SEC-1", "ticket: 1234", 1)), `ex.yaml:13: expected a string, got an integer ("1234"; quote it to make it a string)`},
		{"scope is a string", one(strings.Replace(rec, "scope:\n    stage: build", "scope: build", 1)), `ex.yaml:6: expected a mapping, got a string`},
		{"unknown rule id", one(strings.Replace(rec, "HK1020", "HK0000", 1)), `ex.yaml:5: unknown rule id "HK0000"`},
		{"missing id", one(strings.Replace(rec, "id: EX-1\n  ", "", 1)), `ex.yaml:4: exception has no id`},
		{"bad id", one(strings.Replace(rec, "EX-1", "EX 1", 1)), `ex.yaml:4: id "EX 1": want letters, digits, '.', '_' or '-', at most 64`},
		{"missing rule", one(strings.Replace(rec, "rule: HK1020\n  ", "", 1)), `ex.yaml:4: exception "EX-1" has no rule`},
		{"duplicate id", head + "- " + rec + "- " + rec, `ex.yaml:14: duplicate exception id "EX-1" (first at line 4)`},
		{"bad date", one(strings.Replace(rec, "2027-01-01", "01/01/2027", 1)), `ex.yaml:12: expires "01/01/2027": want a date (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z)`},
		{"impossible date", one(strings.Replace(rec, "2026-11-01", "2026-02-30", 1)), `ex.yaml:11: created "2026-02-30": want a date (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z)`},
		{"empty scope value", one(strings.Replace(rec, "stage: build", "stage: \"\"", 1)), `ex.yaml:7: scope.stage must not be empty (leave it out to not narrow by stage)`},
		{"bad path glob", one(strings.Replace(rec, "stage: build", "path: \"src/[a\"", 1)), `ex.yaml:7: scope.path "src/[a": segment "[a": syntax error in pattern`},
		{"path with ..", one(strings.Replace(rec, "stage: build", "path: ../x", 1)), `ex.yaml:7: scope.path "../x": ".." is not allowed in a pattern`},
		{"bad purl", one(strings.Replace(rec, "stage: build", "package: openssl", 1)), `ex.yaml:7: scope.package "openssl": want a package URL or prefix of one, like pkg:deb/debian/openssl`},
		{"purl type only", one(strings.Replace(rec, "stage: build", "package: \"pkg:deb/\"", 1)), `ex.yaml:7: scope.package "pkg:deb/": want a package URL or prefix of one, like pkg:deb/debian/openssl`},
		{"bad cve", one(strings.Replace(rec, "stage: build", "cve: \"2026-1234\"", 1)), `ex.yaml:7: scope.cve "2026-1234": want a vulnerability id like CVE-2024-3094 or GHSA-xxxx-xxxx-xxxx`},
		{"image with tag", one(strings.Replace(rec, "stage: build", "image: registry.example.com/app:1.2", 1)), `ex.yaml:7: scope.image "registry.example.com/app:1.2": an image pattern is a name without tag or digest`},
		{"stage with space", one(strings.Replace(rec, "stage: build", "stage: my stage", 1)), `ex.yaml:7: scope.stage "my stage": a stage name has no spaces`},
		{"incomplete signature", one(rec + "  signature:\n    payload: abc\n"), `ex.yaml:4: signature needs payloadType, payload and at least one signatures entry`},
		{"signature entry without sig", one(rec + "  signature:\n    payloadType: t\n    payload: abc\n    signatures:\n      - keyid: k\n"), `ex.yaml:18: signatures entry has no sig`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse("ex.yaml", []byte(tt.in), known)
			if err == nil {
				t.Fatalf("Parse() = %+v, want error %q", set, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse() error =\n%s\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestParseKnownNil(t *testing.T) {
	in := head + "- " + strings.Replace(rec, "HK1020", "HK77", 1)
	if _, err := Parse("ex.yaml", []byte(in), nil); err != nil {
		t.Errorf("Parse(known=nil) = %v", err)
	}
}

func TestDigest(t *testing.T) {
	a, err := Parse("a.yaml", []byte(head+"- "+rec), known)
	if err != nil {
		t.Fatal(err)
	}
	// The same record written differently.
	b, err := Parse("b.json", []byte(`{"kind":"Exceptions","apiVersion":"hardenkit.dev/v1alpha1","exceptions":[{"ticket":"SEC-1","expires":"2027-01-01T00:00:00Z","created":"2026-11-01","approvedBy":"bob@example.com","owner":"alice@example.com","justification":"needed for the migration","scope":{"stage":"build"},"rule":"HK1020","id":"EX-1"}]}`), known)
	if err != nil {
		t.Fatal(err)
	}
	da, err := a.Digest()
	if err != nil {
		t.Fatal(err)
	}
	db, err := b.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if da != db || !strings.HasPrefix(da, "sha256:") {
		t.Errorf("Digest() = %s and %s", da, db)
	}
	c, err := Parse("c.yaml", []byte(head+"- "+strings.Replace(rec, "SEC-1", "SEC-2", 1)), known)
	if err != nil {
		t.Fatal(err)
	}
	if dc, _ := c.Digest(); dc == da {
		t.Error("Digest() ignores the ticket")
	}
	var none *Set
	if d, err := none.Digest(); err != nil || d == "" {
		t.Errorf("nil Set Digest() = %q, %v", d, err)
	}
}
