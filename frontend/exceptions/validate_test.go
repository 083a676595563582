package exceptions

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

// now is the fixed "current time" of these tests.
var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// valid returns a record that passes every check at now with a 90-day
// maximum lifetime.
func valid() Exception {
	return Exception{
		ID: "EX-1", Rule: "HK1020", Scope: Scope{Stage: "build"},
		Justification: "the vendor installer runs in the builder only",
		Owner:         "alice@example.com", ApprovedBy: "bob@example.com",
		Created: date("2026-11-01"), Expires: date("2027-01-15"), Ticket: "SEC-1", Line: 4,
	}
}

func keys(t *testing.T) (ed25519.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey) {
	t.Helper()
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return ed, ec, other
}

func signed(t *testing.T, e Exception, key crypto.Signer) Exception {
	t.Helper()
	env, err := Sign(e, key, "test-key")
	if err != nil {
		t.Fatal(err)
	}
	e.Signature = env
	return e
}

func TestValidate(t *testing.T) {
	ed, ec, other := keys(t)
	base := ValidationPolicy{MaxLifetime: 90 * 24 * time.Hour}
	signing := ValidationPolicy{MaxLifetime: 90 * 24 * time.Hour, RequireSignature: true,
		ApproverKeys: []crypto.PublicKey{ed.Public(), ec.Public()}}

	with := func(f func(*Exception)) Exception {
		e := valid()
		f(&e)
		return e
	}
	secretRules := ValidationPolicy{NarrowPaths: func(rule string) bool { return rule == "HK3052" }}
	tampered := signed(t, valid(), ed)
	tampered.Justification = "something else"
	wrongType := signed(t, valid(), ed)
	wrongType.Signature.PayloadType = "application/vnd.in-toto+json"
	garbled := signed(t, valid(), ed)
	garbled.Signature.Signatures[0].Sig = "%%%"
	twoSigs := signed(t, valid(), other)
	twoSigs.Signature.Signatures = append(twoSigs.Signature.Signatures, signed(t, valid(), ec).Signature.Signatures...)

	tests := []struct {
		name string
		e    Exception
		pol  ValidationPolicy
		want []string // problems, in order; nil = valid
	}{
		{"valid", valid(), base, nil},
		{"valid without limit", with(func(e *Exception) { e.Expires = date("2030-01-01") }), ValidationPolicy{}, nil},
		{"lifetime exactly the maximum", with(func(e *Exception) { e.Expires = e.Created.Add(90 * 24 * time.Hour) }), base, nil},
		{"lifetime too long", with(func(e *Exception) { e.Expires = date("2027-03-01") }), base,
			[]string{"lifetime 120d (created 2026-11-01, expires 2027-03-01) exceeds the policy's maximum of 90d"}},
		{"expired", with(func(e *Exception) { e.Expires = date("2026-11-30") }), base, []string{"expired on 2026-11-30"}},
		{"expires exactly now", with(func(e *Exception) { e.Expires = now }), base, []string{"expired on 2026-12-01T12:00:00Z"}},
		{"not valid yet", with(func(e *Exception) { e.Created = date("2026-12-02") }), base, []string{"not valid yet: created 2026-12-02 is in the future"}},
		{"expires before created", with(func(e *Exception) { e.Created, e.Expires = date("2026-11-20"), date("2026-11-10") }), base,
			[]string{"expired on 2026-11-10", "expires 2026-11-10 is not after created 2026-11-20"}},
		{"missing expiry", with(func(e *Exception) { e.Expires = time.Time{} }), base, []string{"expires is missing: every exception must expire"}},
		{"missing created", with(func(e *Exception) { e.Created = time.Time{} }), base, []string{"created is missing"}},
		{"missing justification", with(func(e *Exception) { e.Justification = "  " }), base, []string{"justification is missing"}},
		{"missing owner", with(func(e *Exception) { e.Owner = "" }), base, []string{"owner is missing"}},
		{"unapproved", with(func(e *Exception) { e.ApprovedBy = "" }), base, []string{"unapproved: approvedBy is missing"}},
		{"approved by owner", with(func(e *Exception) { e.ApprovedBy = "Alice@Example.com" }), base,
			[]string{`approvedBy "Alice@Example.com" is the owner "alice@example.com" (compared after Unicode normalisation and confusable folding): an exception needs a second person's approval`}},
		{"approved by owner in Cyrillic", with(func(e *Exception) { e.ApprovedBy = "\u0430lice@example.com" }), base,
			[]string{"approvedBy \"\u0430lice@example.com\" is the owner \"alice@example.com\" (compared after Unicode normalisation and confusable folding): an exception needs a second person's approval"}},
		{"approved by owner with look-alike digits", with(func(e *Exception) { e.Owner, e.ApprovedBy = "bob1@example.com", "bobl@example.com" }), base,
			[]string{`approvedBy "bobl@example.com" is the owner "bob1@example.com" (compared after Unicode normalisation and confusable folding): an exception needs a second person's approval`}},
		{"full-width approver", with(func(e *Exception) { e.ApprovedBy = "\uff41lice@example.com" }), base,
			[]string{"approvedBy \"\uff41lice@example.com\" is not in Unicode NFKC form: write it as it is normally typed"}},
		{"approver with a display name", with(func(e *Exception) { e.ApprovedBy = "Bob <bob@example.com>" }), base,
			[]string{`approvedBy "Bob <bob@example.com>" must be a plain e-mail address like alice@example.com, without a name or brackets`}},
		{"approver padded", with(func(e *Exception) { e.ApprovedBy = " bob@example.com" }), base,
			[]string{`approvedBy " bob@example.com" must be a plain e-mail address like alice@example.com`}},
		{"owner not an address", with(func(e *Exception) { e.Owner = "alice" }), base,
			[]string{`owner "alice" must be a plain e-mail address like alice@example.com, without a name or brackets`}},
		{"secret waiver over a directory tree", with(func(e *Exception) { e.Rule, e.Scope = "HK3052", Scope{Path: "/a*/**"} }), secretRules,
			[]string{`over-broad: scope.path "/a*/**" waives HK3052 in a whole directory tree; a secret waiver names files (wildcards only in the file name, no **)`}},
		{"secret waiver with a wildcard directory", with(func(e *Exception) { e.Rule, e.Scope = "HK3052", Scope{Path: "/app/*/key.pem"} }), secretRules,
			[]string{`over-broad: scope.path "/app/*/key.pem" waives HK3052 in a whole directory tree; a secret waiver names files (wildcards only in the file name, no **)`}},
		{"secret waiver without a path", with(func(e *Exception) { e.Rule, e.Scope = "HK3052", Scope{Stage: "build"} }), secretRules,
			[]string{`over-broad: a waiver of HK3052 must name the file it covers in scope.path`}},
		{"secret waiver of one file", with(func(e *Exception) { e.Rule, e.Scope = "HK3052", Scope{Path: "/app/testdata/fixture-*.pem"} }), secretRules, nil},
		{"directory tree for another rule", with(func(e *Exception) { e.Scope = Scope{Path: "/a*/**"} }), secretRules, nil},
		{"unsigned when no key is named", valid(), ValidationPolicy{RequireSignature: true},
			[]string{"unsigned: the policy requires a signature by an approver key and names none; a policy must list controls.exceptions.approverKeys (make a key pair with `hardenkit keygen --output-prefix approver`, put approver.pub there, sign with `hardenkit exceptions sign --key approver.key FILE`; docs/exceptions.md#signing)"}},
		{"no scope", with(func(e *Exception) { e.Scope = Scope{} }), base, []string{"over-broad: no scope; narrow it by stage, path, package, cve or image"}},
		{"path matches everything", with(func(e *Exception) { e.Scope.Path = "**" }), base, []string{`over-broad: scope.path "**" matches every path`}},
		{"path matches every file", with(func(e *Exception) { e.Scope = Scope{Path: "/**/*"} }), base, []string{`over-broad: scope.path "/**/*" matches every path`}},
		{"image matches everything", with(func(e *Exception) { e.Scope = Scope{Image: "*/*"} }), base, []string{`over-broad: scope.image "*/*" matches every image`}},
		{"narrow path", with(func(e *Exception) { e.Scope = Scope{Path: "**/testdata/**"} }), base, nil},
		{"unsigned when required", valid(), signing, []string{"unsigned: the policy requires a signature by an approver key: an approver signs the file with `hardenkit exceptions sign --key KEY FILE` (docs/exceptions.md#signing)"}},
		{"ed25519 signature", signed(t, valid(), ed), signing, nil},
		{"ECDSA P-256 signature", signed(t, valid(), ec), signing, nil},
		{"second signature verifies", twoSigs, signing, nil},
		{"signature by another key", signed(t, valid(), other), signing, []string{"bad signature: no signature verifies with an approver key"}},
		{"record changed after signing", tampered, signing, []string{"bad signature: the signed payload is not this record (was it changed after signing?)"}},
		{"wrong payload type", wrongType, signing, []string{`bad signature: payloadType "application/vnd.in-toto+json", want "application/vnd.hardenkit.exception+json"`}},
		{"garbled signature", garbled, signing, []string{"bad signature: no signature verifies with an approver key"}},
		{"bad signature checked when keys are known", signed(t, valid(), other), ValidationPolicy{ApproverKeys: signing.ApproverKeys}, []string{"bad signature: no signature verifies with an approver key"}},
		{"signature without keys or requirement", signed(t, valid(), other), base, nil},
		{"required but no keys", signed(t, valid(), ed), ValidationPolicy{RequireSignature: true}, []string{"bad signature: the policy lists no approver keys to verify it with"}},
		{"several problems", with(func(e *Exception) {
			e.Owner, e.ApprovedBy, e.Expires = "x@example.com", "X@example.com", date("2026-01-01")
		}), base,
			[]string{`approvedBy "X@example.com" is the owner "x@example.com" (compared after Unicode normalisation and confusable folding): an exception needs a second person's approval`, "expired on 2026-01-01", "expires 2026-01-01 is not after created 2026-11-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := &Set{Source: "ex.yaml", Exceptions: []Exception{tt.e}}
			err := set.Validate(now, tt.pol)
			if tt.want == nil {
				if err != nil {
					t.Errorf("Validate() = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, `ex.yaml:4: exception "EX-1": `+w)
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("Validate() =\n%s\nwant\n%s", got, strings.Join(want, "\n"))
			}
		})
	}
}

// TestValidateRecordsSigner: the key a signature verified with is named in
// the record, so evidence can say who approved it.
func TestValidateRecordsSigner(t *testing.T) {
	ed, ec, _ := keys(t)
	set := &Set{Source: "ex.yaml", Exceptions: []Exception{signed(t, valid(), ec)}}
	if err := set.Validate(now, ValidationPolicy{RequireSignature: true, ApproverKeys: []crypto.PublicKey{ed.Public(), ec.Public()}}); err != nil {
		t.Fatal(err)
	}
	want, err := KeyID(ec.Public())
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Exceptions[0].SignerKeyID; got != want || !strings.HasPrefix(got, "sha256:") {
		t.Errorf("SignerKeyID = %q, want %q", got, want)
	}
	if edID, _ := KeyID(ed.Public()); edID == want {
		t.Error("two keys share an id")
	}
}

func TestValidateReportsEveryRecord(t *testing.T) {
	a, b, c := valid(), valid(), valid()
	b.ID, b.Line, b.Expires = "EX-2", 15, date("2026-06-01")
	c.ID, c.Line, c.Scope = "EX-3", 26, Scope{}
	err := (&Set{Source: "ex.yaml", Exceptions: []Exception{a, b, c}}).Validate(now, ValidationPolicy{})
	want := "ex.yaml:15: exception \"EX-2\": expired on 2026-06-01\n" +
		"ex.yaml:15: exception \"EX-2\": expires 2026-06-01 is not after created 2026-11-01\n" +
		"ex.yaml:26: exception \"EX-3\": over-broad: no scope; narrow it by stage, path, package, cve or image"
	if err == nil || err.Error() != want {
		t.Errorf("Validate() =\n%v\nwant\n%s", err, want)
	}
	var none *Set
	if err := none.Validate(now, ValidationPolicy{RequireSignature: true}); err != nil {
		t.Errorf("nil Set Validate() = %v", err)
	}
}
