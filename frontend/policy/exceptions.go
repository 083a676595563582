package policy

import (
	"context"
	"crypto"
	"fmt"
	"strings"
	"time"

	"github.com/hardenkit/hardenkit/frontend/exceptions"
)

// ValidationPolicy turns the exceptions control into what
// exceptions.Set.Validate needs. Approver keys given inline are parsed;
// keys given as paths are read with read (the caller resolves them against
// the policy file's location, in the context it came from).
func (c ExceptionsControl) ValidationPolicy(ctx context.Context, read func(ctx context.Context, path string) ([]byte, error)) (exceptions.ValidationPolicy, error) {
	keys := make([]crypto.PublicKey, 0, len(c.ApproverKeys))
	for i, ref := range c.ApproverKeys {
		data := []byte(ref)
		where := fmt.Sprintf("approver key %d (inline)", i+1)
		if !strings.Contains(ref, pemMarker) {
			where = fmt.Sprintf("approver key %s", ref)
			if read == nil {
				return exceptions.ValidationPolicy{}, fmt.Errorf("%s: no way to read key files here", where)
			}
			var err error
			if data, err = read(ctx, ref); err != nil {
				return exceptions.ValidationPolicy{}, fmt.Errorf("reading %s: %w", where, err)
			}
		}
		key, err := exceptions.ParsePublicKey(data)
		if err != nil {
			return exceptions.ValidationPolicy{}, fmt.Errorf("%s: %w", where, err)
		}
		keys = append(keys, key)
	}
	return exceptions.ValidationPolicy{
		MaxLifetime:      time.Duration(c.MaxLifetime),
		RequireSignature: c.RequireSignature,
		ApproverKeys:     keys,
	}, nil
}
