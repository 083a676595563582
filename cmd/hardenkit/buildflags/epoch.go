package buildflags

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/options"
)

// attrSourceDateEpoch is the SOURCE_DATE_EPOCH build arg as a frontend attr.
const attrSourceDateEpoch = options.BuildArgPrefix + options.KeySourceDateEpoch

// DefaultSourceDateEpoch fills in SOURCE_DATE_EPOCH when the user gave
// none, so that `hardenkit build` of the same commit gives the same image:
// $SOURCE_DATE_EPOCH from the environment (as buildctl and buildx forward
// it), else the commit time of HEAD when the context is a local git
// checkout. It returns where the value came from ("" when none was set).
func (p *Plan) DefaultSourceDateEpoch(ctx context.Context, contextDir string, getenv func(string) string) (string, error) {
	if _, ok := p.Attrs[attrSourceDateEpoch]; ok {
		return "", nil
	}
	if v := getenv(options.KeySourceDateEpoch); v != "" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return "", fmt.Errorf("$SOURCE_DATE_EPOCH=%q is not a unix time in seconds", v)
		}
		p.Attrs[attrSourceDateEpoch] = v
		return "environment", nil
	}
	if st, err := os.Stat(contextDir); err != nil || !st.IsDir() {
		return "", nil
	}
	cmd := exec.CommandContext(ctx, "git", "-C", contextDir, "log", "-1", "--format=%ct")
	out, err := cmd.Output()
	if err != nil {
		// Not a git checkout (or no git, or no commit yet): the policy's
		// epoch default applies in the frontend.
		return "", nil
	}
	v := strings.TrimSpace(string(out))
	if _, err := strconv.ParseInt(v, 10, 64); err != nil {
		return "", fmt.Errorf("git commit time of %s: unexpected output %q", contextDir, v)
	}
	p.Attrs[attrSourceDateEpoch] = v
	return "git HEAD commit time", nil
}
