package exceptions

import (
	"crypto"
	"fmt"
	"strings"
	"time"

	sy "github.com/hardenkit/hardenkit/frontend/policy/strictyaml"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
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
	// NarrowPaths reports whether rule's path scopes must name files
	// (wildcards only in the last segment, no "**"): for secret rules a
	// directory-wide waiver would let any secret placed there ship. Nil
	// means no rule is narrowed.
	NarrowPaths func(rule string) bool
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
	for i, e := range s.Exceptions {
		why, signer := e.problems(now, pol)
		for _, w := range why {
			c.Addf(e.Line, "exception %q: %s", e.ID, w)
		}
		if signer != nil {
			id, err := KeyID(signer)
			if err != nil {
				c.Addf(e.Line, "exception %q: identifying its signer key: %v", e.ID, err)
			}
			s.Exceptions[i].SignerKeyID = id
		}
	}
	return c.Err()
}

// problems lists why one record is not acceptable, and returns the
// approver key its signature verified with (nil when unsigned).
func (e Exception) problems(now time.Time, pol ValidationPolicy) ([]string, crypto.PublicKey) {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	if strings.TrimSpace(e.Justification) == "" {
		add("justification is missing")
	}
	owner, approver := strings.TrimSpace(e.Owner), strings.TrimSpace(e.ApprovedBy)
	ownerOK, approverOK := owner != "", approver != ""
	if !ownerOK {
		add("owner is missing")
	} else if err := plainEmail(e.Owner); err != nil {
		add("owner %q %v", e.Owner, err)
		ownerOK = false
	}
	if !approverOK {
		add("unapproved: approvedBy is missing")
	} else if err := plainEmail(e.ApprovedBy); err != nil {
		add("approvedBy %q %v", e.ApprovedBy, err)
		approverOK = false
	}
	if ownerOK && approverOK && SameIdentity(owner, approver) {
		add("approvedBy %q is the owner %q (compared after Unicode normalisation and confusable folding): an exception needs a second person's approval", e.ApprovedBy, e.Owner)
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

	out = append(out, e.breadthProblems(pol.NarrowPaths != nil && pol.NarrowPaths(e.Rule))...)

	var signer crypto.PublicKey
	switch {
	case e.Signature == nil && pol.RequireSignature && len(pol.ApproverKeys) == 0:
		add("unsigned: the policy requires a signature by an approver key and names none; a policy must list controls.exceptions.approverKeys (make a key pair with `hardenkit keygen --output-prefix approver`, put approver.pub there, sign with `hardenkit exceptions sign --key approver.key FILE`; docs/exceptions.md#signing)")
	case e.Signature == nil && pol.RequireSignature:
		add("unsigned: the policy requires a signature by an approver key: an approver signs the file with `hardenkit exceptions sign --key KEY FILE` (docs/exceptions.md#signing)")
	case e.Signature != nil && (pol.RequireSignature || len(pol.ApproverKeys) > 0):
		k, err := verifiedBy(e.Signature, e, pol.ApproverKeys)
		if err != nil {
			add("bad signature: %v", err)
		}
		signer = k
	}
	return out, signer
}

// breadthProblems reports scopes that waive more than a reviewer could
// have meant: none at all, patterns without a single literal character,
// and — when narrow is set (secret rules) — path patterns that reach a
// whole directory tree.
func (e Exception) breadthProblems(narrow bool) []string {
	if e.Scope.Empty() {
		return []string{"over-broad: no scope; narrow it by stage, path, package, cve or image"}
	}
	var out []string
	if e.Scope.Path != "" && rootfs.WildcardOnly(e.Scope.Path) {
		out = append(out, fmt.Sprintf("over-broad: scope.path %q matches every path", e.Scope.Path))
	}
	if e.Scope.Image != "" && rootfs.WildcardOnly(e.Scope.Image) {
		out = append(out, fmt.Sprintf("over-broad: scope.image %q matches every image", e.Scope.Image))
	}
	if narrow && e.Scope.Path != "" && !rootfs.WildcardOnly(e.Scope.Path) && spansDirectories(e.Scope.Path) {
		out = append(out, fmt.Sprintf("over-broad: scope.path %q waives %s in a whole directory tree; a secret waiver names files (wildcards only in the file name, no **)", e.Scope.Path, e.Rule))
	}
	if narrow && e.Scope.Path == "" {
		out = append(out, fmt.Sprintf("over-broad: a waiver of %s must name the file it covers in scope.path", e.Rule))
	}
	return out
}

// spansDirectories reports whether a path pattern has "**" or a wildcard
// in a directory segment: "/a*/**", "/app/*/key.pem".
func spansDirectories(p string) bool {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, seg := range segs {
		if seg == "**" || (i < len(segs)-1 && strings.ContainsAny(seg, "*?[\\")) {
			return true
		}
	}
	return false
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
