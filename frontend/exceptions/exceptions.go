// Package exceptions reads, validates and applies hardenkit's exceptions:
// structured, approved, expiring waivers of individual findings.
//
// An exceptions file (YAML or JSON, docs/exceptions.md) lists records. Parse
// checks their syntax; Validate checks them against the policy at a given
// time (expired, unapproved, too long-lived, over-broad, unsigned or badly
// signed records are errors that fail the build); Apply turns the findings
// a valid record covers into waived findings — never dropping them — so that
// reports list every waiver next to what it waived.
//
// Records may carry a DSSE signature over their canonical JSON (Sign,
// Verify), checked offline against the approver keys of the policy.
package exceptions

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/hardenkit/hardenkit/frontend/policy/canonjson"
	sy "github.com/hardenkit/hardenkit/frontend/policy/strictyaml"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// APIVersion is the only exceptions file version this package reads. It is
// the policy's API version: both files are one configuration surface.
const APIVersion = "hardenkit.dev/v1alpha1"

// Kind is the kind of an exceptions document.
const Kind = "Exceptions"

// Exception is one waiver record.
type Exception struct {
	// ID names the record in reports and in Finding.Waiver.
	ID string `json:"id"`
	// Rule is the catalog id of the rule waived.
	Rule string `json:"rule"`
	// Scope narrows which findings of the rule are waived.
	Scope Scope `json:"scope"`
	// Justification says why the finding is acceptable.
	Justification string `json:"justification"`
	// Owner is who asked for the exception.
	Owner string `json:"owner"`
	// ApprovedBy is who approved it; never the owner.
	ApprovedBy string `json:"approvedBy"`
	// Created is when the exception starts to apply (UTC).
	Created time.Time `json:"created"`
	// Expires is when it stops applying (UTC). A date without a time
	// means the start of that day: the exception is gone on that date.
	Expires time.Time `json:"expires"`
	// Ticket is a tracker id or URL for the decision.
	Ticket string `json:"ticket,omitempty"`
	// Signature is a DSSE envelope over the record's canonical JSON
	// without the signature (see Sign).
	Signature *Envelope `json:"signature,omitempty"`
	// Line is where the record starts in its file, for messages.
	Line int `json:"-"`
	// SignerKeyID is the KeyID of the approver key whose signature
	// verified; Validate fills it in. Not part of the record.
	SignerKeyID string `json:"-"`
}

// Scope narrows an exception. Every non-empty field must match a finding;
// an exception with no scope at all is over-broad and rejected.
type Scope struct {
	// Stage is the Dockerfile stage name (or index) of the finding.
	Stage string `json:"stage,omitempty"`
	// Path is a path pattern (rootfs.Match) matched against the finding's file.
	Path string `json:"path,omitempty"`
	// Package is a package URL or a prefix of one ("pkg:deb/debian/openssl"
	// matches every version and qualifier of that package).
	Package string `json:"package,omitempty"`
	// CVE is a vulnerability id (CVE, GHSA, …), matched case-insensitively.
	CVE string `json:"cve,omitempty"`
	// Image is a path pattern (rootfs.Match) matched against the name (without tag or
	// digest) of the image being built, in full ("docker.io/library/app")
	// or familiar ("app") form.
	Image string `json:"image,omitempty"`
}

// Empty reports whether no scope field is set.
func (s Scope) Empty() bool {
	return s == Scope{}
}

// Set is the exceptions of one file.
type Set struct {
	// Exceptions in file order; Apply uses the first that matches.
	Exceptions []Exception
	// Source is the file name they came from.
	Source string
}

// Digest is "sha256:<hex>" of the canonical JSON of all records, signatures
// included, so that an attestation can name the exact waiver set applied.
func (s *Set) Digest() (string, error) {
	recs := []Exception{}
	if s != nil {
		for _, e := range s.Exceptions {
			// The same instants digest the same in any zone.
			e.Created, e.Expires = e.Created.UTC(), e.Expires.UTC()
			recs = append(recs, e)
		}
	}
	b, err := canonjson.Marshal(recs)
	if err != nil {
		return "", fmt.Errorf("digesting exceptions: %w", err)
	}
	return digest.FromBytes(b).String(), nil
}

type fileModel struct {
	APIVersion sy.Value[string]                  `yaml:"apiVersion"`
	Kind       sy.Value[string]                  `yaml:"kind"`
	Exceptions sy.Value[[]sy.Value[recordModel]] `yaml:"exceptions"`
}

type recordModel struct {
	ID            sy.Value[string] `yaml:"id"`
	Rule          sy.Value[string] `yaml:"rule"`
	Scope         *scopeModel      `yaml:"scope"`
	Justification sy.Value[string] `yaml:"justification"`
	Owner         sy.Value[string] `yaml:"owner"`
	ApprovedBy    sy.Value[string] `yaml:"approvedBy"`
	Created       sy.Value[string] `yaml:"created"`
	Expires       sy.Value[string] `yaml:"expires"`
	Ticket        sy.Value[string] `yaml:"ticket"`
	Signature     *envelopeModel   `yaml:"signature"`
}

type scopeModel struct {
	Stage   sy.Value[string] `yaml:"stage"`
	Path    sy.Value[string] `yaml:"path"`
	Package sy.Value[string] `yaml:"package"`
	CVE     sy.Value[string] `yaml:"cve"`
	Image   sy.Value[string] `yaml:"image"`
}

type envelopeModel struct {
	PayloadType sy.Value[string]                     `yaml:"payloadType"`
	Payload     sy.Value[string]                     `yaml:"payload"`
	Signatures  sy.Value[[]sy.Value[signatureModel]] `yaml:"signatures"`
}

type signatureModel struct {
	KeyID sy.Value[string] `yaml:"keyid"`
	Sig   sy.Value[string] `yaml:"sig"`
}

var (
	idRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	vulnRe  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$`)
	purlRe  = regexp.MustCompile(`^pkg:[A-Za-z][A-Za-z0-9.+-]*/[^\s]+$`)
	dateRe  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	stageRe = regexp.MustCompile(`^[^\s]+$`)
	ruleRe  = regexp.MustCompile(`^HK[0-9]+$`)
)

// Parse reads an exceptions file. known reports whether a rule id is in the
// catalog; nil accepts any id of the form HK<digits>. Every error starts
// with "FILE:LINE: ". Parse checks syntax only; call Validate before Apply.
func Parse(filename string, data []byte, known func(string) bool) (*Set, error) {
	var f fileModel
	if err := sy.Decode(filename, data, &f); err != nil {
		return nil, err
	}
	c := sy.NewCollector(filename)
	requireConst(c, f.APIVersion, "apiVersion", APIVersion)
	requireConst(c, f.Kind, "kind", Kind)
	if !f.Exceptions.Set {
		c.Addf(1, "exceptions is required (an empty list is fine)")
	}
	set := &Set{Source: filename, Exceptions: []Exception{}}
	ids := map[string]int{}
	for _, item := range f.Exceptions.V {
		e := parseRecord(c, item, known)
		if e.ID != "" {
			if first, dup := ids[e.ID]; dup {
				c.Addf(item.V.ID.Line, "duplicate exception id %q (first at line %d)", e.ID, first)
			}
			ids[e.ID] = item.V.ID.Line
		}
		set.Exceptions = append(set.Exceptions, e)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return set, nil
}

func requireConst(c *sy.Collector, v sy.Value[string], key, want string) {
	switch {
	case !v.Set:
		c.Addf(1, "%s is required (%q)", key, want)
	case v.V != want:
		c.Addf(v.Line, "%s must be %q, got %q", key, want, v.V)
	}
}

func parseRecord(c *sy.Collector, item sy.Value[recordModel], known func(string) bool) Exception {
	r := item.V
	e := Exception{Line: item.Line}
	switch {
	case !r.ID.Set:
		c.Addf(item.Line, "exception has no id")
	case !idRe.MatchString(r.ID.V):
		c.Addf(r.ID.Line, "id %q: want letters, digits, '.', '_' or '-', at most 64", r.ID.V)
	default:
		e.ID = r.ID.V
	}
	switch {
	case !r.Rule.Set:
		c.Addf(item.Line, "exception %q has no rule", r.ID.V)
	case !knownRule(known, r.Rule.V):
		c.Addf(r.Rule.Line, "unknown rule id %q", r.Rule.V)
	default:
		e.Rule = r.Rule.V
	}
	if r.Scope != nil {
		e.Scope = parseScope(c, r.Scope)
	}
	e.Justification = r.Justification.V
	e.Owner = r.Owner.V
	e.ApprovedBy = r.ApprovedBy.V
	e.Ticket = r.Ticket.V
	e.Created = parseTime(c, r.Created, "created")
	e.Expires = parseTime(c, r.Expires, "expires")
	if r.Signature != nil {
		e.Signature = parseEnvelope(c, r.Signature, item.Line)
	}
	return e
}

func knownRule(known func(string) bool, id string) bool {
	if known == nil {
		return ruleRe.MatchString(id)
	}
	return known(id)
}

func parseScope(c *sy.Collector, s *scopeModel) Scope {
	check := func(v sy.Value[string], key string, valid func(string) error) string {
		if !v.Set {
			return ""
		}
		if strings.TrimSpace(v.V) == "" {
			c.Addf(v.Line, "scope.%s must not be empty (leave it out to not narrow by %s)", key, key)
			return ""
		}
		if err := valid(v.V); err != nil {
			c.Addf(v.Line, "scope.%s %q: %v", key, v.V, err)
			return ""
		}
		return v.V
	}
	return Scope{
		Stage: check(s.Stage, "stage", func(v string) error {
			if !stageRe.MatchString(v) {
				return fmt.Errorf("a stage name has no spaces")
			}
			return nil
		}),
		Path: check(s.Path, "path", rootfs.ValidatePattern),
		Package: check(s.Package, "package", func(v string) error {
			if !purlRe.MatchString(v) {
				return fmt.Errorf("want a package URL or prefix of one, like pkg:deb/debian/openssl")
			}
			return nil
		}),
		CVE: check(s.CVE, "cve", func(v string) error {
			if !vulnRe.MatchString(v) {
				return fmt.Errorf("want a vulnerability id like CVE-2024-3094 or GHSA-xxxx-xxxx-xxxx")
			}
			return nil
		}),
		Image: check(s.Image, "image", validImagePattern),
	}
}

// validImagePattern accepts a name glob without tag or digest: scopes match
// names, so a tag in the pattern would silently match nothing.
func validImagePattern(p string) error {
	if err := rootfs.ValidatePattern(p); err != nil {
		return err
	}
	last := p[strings.LastIndexByte(p, '/')+1:]
	if strings.ContainsAny(last, ":@") {
		return fmt.Errorf("an image pattern is a name without tag or digest")
	}
	return nil
}

// parseTime accepts a date (2026-01-31, meaning 00:00 UTC) or an RFC 3339
// timestamp, and returns it in UTC.
func parseTime(c *sy.Collector, v sy.Value[string], key string) time.Time {
	if !v.Set {
		return time.Time{}
	}
	layout := time.RFC3339
	if dateRe.MatchString(v.V) {
		layout = time.DateOnly
	}
	t, err := time.Parse(layout, v.V)
	if err != nil {
		c.Addf(v.Line, "%s %q: want a date (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z)", key, v.V)
		return time.Time{}
	}
	return t.UTC()
}

func parseEnvelope(c *sy.Collector, m *envelopeModel, line int) *Envelope {
	env := &Envelope{PayloadType: m.PayloadType.V, Payload: m.Payload.V}
	if !m.PayloadType.Set || !m.Payload.Set || len(m.Signatures.V) == 0 {
		c.Addf(line, "signature needs payloadType, payload and at least one signatures entry")
	}
	for _, s := range m.Signatures.V {
		if !s.V.Sig.Set {
			c.Addf(s.Line, "signatures entry has no sig")
		}
		env.Signatures = append(env.Signatures, Signature{KeyID: s.V.KeyID.V, Sig: s.V.Sig.V})
	}
	return env
}
