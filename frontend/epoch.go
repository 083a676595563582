package frontend

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/moby/buildkit/frontend/dockerui"

	"github.com/hardenkit/hardenkit/frontend/options"
)

// resolveEpoch decides the build's SOURCE_DATE_EPOCH: the build arg, else
// the commit time of a git context (or an HTTP context's time), else the
// policy's default. It returns ok=false when dockerfile2llb must resolve a
// symbolic build arg value itself ("context", a named context).
func resolveEpoch(ctx context.Context, bc *dockerui.Client, buildArgs map[string]string, policyDefault int64) (time.Time, bool, error) {
	if v, ok := buildArgs[options.KeySourceDateEpoch]; ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false, nil
		}
		return time.Unix(n, 0).UTC(), true, nil
	}
	t, err := bc.ResolveMainContextSourceDateEpoch(ctx)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("resolving the build context's commit time for SOURCE_DATE_EPOCH: %w", err)
	}
	if t != nil {
		return t.UTC(), true, nil
	}
	return time.Unix(policyDefault, 0).UTC(), true, nil
}
