package exceptions

import (
	"crypto"
	"fmt"
	"strings"
	"time"

	"github.com/hardenkit/hardenkit/frontend/policy/pathglob"
	sy "github.com/hardenkit/hardenkit/frontend/policy/strictyaml"
)

// ValidationPolicy is what the policy says about exceptions; policy builds
// it from its exceptions control (ExceptionsControl.ValidationPolicy).
type ValidationPolicy struct {
	// MaxLifetime is the longest created..expires span; 0 means no limit.
	MaxLifetime time.Duration
	// RequireSignature requires every record to be signed by one of
	// ApproverKeys.
	RequireSignature bool
	// ApproverKeys verify signatures. When keys are given, a record that
	// carries a signature must verify even if signatures are not required:
	// a bad signature is never ignored.
	ApproverKeys []crypto.PublicKey
}

// Validate checks every record at time now and returns all problems, each
// as "FILE:LINE: exception "ID": why". A record is rejected when it is
// expired or not yet valid, lacks a justification, owner, approver, created
// or expires date, is approved by its owner, lives longer than the policy
// allows, is over-broad (no scope, or a scope pattern that matches
// everything), or is unsigned (when signatures are required) or badly
// signed.
func (s *Set) Validate(now time.Time, pol ValidationPolicy) error {
	if s == nil {
		return nil
	}
	c := sy.NewCollector(s.Source)
	for _, e := range s.Exceptions {
		for _, why := range e.problems(now, pol) {
			c.Addf(e.Line, "exception %q: %s", e.ID, why)
		}
	}
	return c.Err()
}

// problems lists why one record is not acceptable.
func (e Exception) problems(now time.Time, pol ValidationPolicy) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	if strings.TrimSpace(e.Justification) == "" {
		add("justification is missing")
	}
	owner, approver := strings.TrimSpace(e.Owner), strings.TrimSpace(e.ApprovedBy)
	if owner == "" {
		add("owner is missing")
	}
	switch {
	case approver == "":
		add("unapproved: approvedBy is missing")
	case owner != "" && strings.EqualFold(owner, approver):
		add("approvedBy %q is the owner: an exception needs a second person's approval", e.ApprovedBy)
	}

	switch {
	case e.Created.IsZero():
		add("created is missing")
	case now.Before(e.Created):
		add("not valid yet: created %s is in the future", day(e.Created))
	}
	switch {
	case e.Expires.IsZero():
		add("expires is missing: every exception must expire")
	case !now.Before(e.Expires):
		add("expired on %s", day(e.Expires))
	}
	if !e.Created.IsZero() && !e.Expires.IsZero() {
		life := e.Expires.Sub(e.Created)
		switch {
		case life <= 0:
			add("expires %s is not after created %s", day(e.Expires), day(e.Created))
		case pol.MaxLifetime > 0 && life > pol.MaxLifetime:
			add("lifetime %s (created %s, expires %s) exceeds the policy's maximum of %s",
				span(life), day(e.Created), day(e.Expires), span(pol.MaxLifetime))
		}
	}

	out = append(out, e.breadthProblems()...)

	switch {
	case e.Signature == nil && pol.RequireSignature:
		add("unsigned: the policy requires a signature by an approver key")
	case e.Signature != nil && (pol.RequireSignature || len(pol.ApproverKeys) > 0):
		if err := Verify(e.Signature, e, pol.ApproverKeys); err != nil {
			add("bad signature: %v", err)
		}
	}
	return out
}

// breadthProblems reports scopes that waive more than a reviewer could
// have meant: none at all, or patterns without a single literal character.
func (e Exception) breadthProblems() []string {
	if e.Scope.Empty() {
		return []string{"over-broad: no scope; narrow it by stage, path, package, cve or image"}
	}
	var out []string
	if e.Scope.Path != "" && pathglob.WildcardOnly(e.Scope.Path) {
		out = append(out, fmt.Sprintf("over-broad: scope.path %q matches every path", e.Scope.Path))
	}
	if e.Scope.Image != "" && pathglob.WildcardOnly(e.Scope.Image) {
		out = append(out, fmt.Sprintf("over-broad: scope.image %q matches every image", e.Scope.Image))
	}
	return out
}

// day formats t for messages: a date when it is midnight UTC, else RFC 3339.
func day(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// span formats d in days when it is whole days, as policies write it.
func span(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
