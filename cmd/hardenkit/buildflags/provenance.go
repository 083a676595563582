package buildflags

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/options"
)

// DefaultProvenance requests BuildKit's SLSA provenance unless the user
// configured or disabled it: flag is the --provenance value ("mode=max" by
// default, "false" to disable, "" to leave --attest alone). For a local git
// checkout it also records the repository and commit (vcs:source,
// vcs:revision) as buildx does, so the provenance says what was built.
func (p *Plan) DefaultProvenance(ctx context.Context, flag, contextDir string) error {
	switch strings.ToLower(strings.TrimSpace(flag)) {
	case "", "true", "1":
		flag = "mode=max"
	case "false", "0", "off":
		delete(p.Attrs, options.OptProvenance)
		return nil
	}
	if _, ok := p.Attrs[options.OptProvenance]; !ok {
		if !strings.Contains(flag, "type=") {
			flag = "type=provenance," + flag
		}
		p.Attrs[options.OptProvenance] = flag
	}
	if st, err := os.Stat(contextDir); err != nil || !st.IsDir() {
		return nil
	}
	rev, err := exec.CommandContext(ctx, "git", "-C", contextDir, "rev-parse", "HEAD").Output()
	if err != nil {
		return nil // not a git checkout
	}
	p.setDefault("vcs:revision", strings.TrimSpace(string(rev)))
	if src, err := exec.CommandContext(ctx, "git", "-C", contextDir, "config", "--get", "remote.origin.url").Output(); err == nil {
		p.setDefault("vcs:source", strings.TrimSpace(string(src)))
	}
	return nil
}

func (p *Plan) setDefault(k, v string) {
	if _, ok := p.Attrs[k]; !ok && v != "" {
		p.Attrs[k] = v
	}
}

// provenanceFlagHelp documents --provenance.
var provenanceFlagHelp = fmt.Sprintf("SLSA provenance from BuildKit (%s): mode=max (default), mode=min, or false", options.OptProvenance)

// ProvenanceFlagHelp is the usage text of --provenance.
func ProvenanceFlagHelp() string { return provenanceFlagHelp }
