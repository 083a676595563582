package frontend

import (
	"strings"

	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/grpcerrors"
	"github.com/moby/buildkit/util/stack"
	"google.golang.org/grpc/codes"
)

// supportedCaps are the capabilities dockerfile.v0 has and hardenkit keeps.
var supportedCaps = map[string]bool{
	"moby.buildkit.frontend.inputs":         true,
	"moby.buildkit.frontend.subrequests":    true,
	"moby.buildkit.frontend.contexts":       true,
	"moby.buildkit.frontend.gitquerystring": true,
	"moby.buildkit.frontend.contexts.zstd":  true,
}

// validateCaps fails on a required capability hardenkit lacks. Unlike
// dockerfile.v0, hardenkit never forwards to another frontend ("+forward"):
// that would build the image without its controls.
func validateCaps(req string) error {
	if req == "" {
		return nil
	}
	for c := range strings.SplitSeq(req, ",") {
		name, _, _ := strings.Cut(c, "+")
		if !supportedCaps[name] {
			return stack.Enable(grpcerrors.WrapCode(errdefs.NewUnsupportedFrontendCapError(name), codes.Unimplemented))
		}
	}
	return nil
}
