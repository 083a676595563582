package policy

import (
	"errors"

	"github.com/opencontainers/go-digest"

	"github.com/hardenkit/hardenkit/frontend/policy/canonjson"
)

// CanonicalJSON encodes the effective policy with sorted keys and no
// whitespace, without Source. Equal content gives equal bytes, however the
// file was written (key order, comments, "2160h" or "90d"), and the result
// is itself a complete policy document that Parse accepts.
func (p *Policy) CanonicalJSON() ([]byte, error) {
	if p == nil {
		return nil, errors.New("encoding policy: nil policy")
	}
	q := *p
	normalize(&q)
	return canonjson.Marshal(q)
}

// Digest is "sha256:<hex>" of CanonicalJSON: the identity of the effective
// policy in reports and attestations. It is "" only for a nil policy; a
// Policy holds strings, numbers and booleans only, so encoding cannot
// otherwise fail.
func (p *Policy) Digest() string {
	b, err := p.CanonicalJSON()
	if err != nil {
		return ""
	}
	return digest.FromBytes(b).String()
}
