package inspect

import (
	"strings"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// secretFindings turns secret scanner findings into findings of r. File
// is the image path for file findings and the scanner's place otherwise
// ("env:API_TOKEN", "history:3"), so that an exception can be scoped to
// it. The message is built from the detector id, the place and the
// fingerprint only: the scanner never hands out anything else.
func secretFindings(r rules.Rule, fs []secrets.Finding, advice string) []rules.Finding {
	out := make([]rules.Finding, 0, len(fs))
	for _, f := range fs {
		file := f.Where
		if p, ok := strings.CutPrefix(f.Where, secrets.WhereFile); ok {
			file = p
		}
		out = append(out, rules.Finding{
			Rule: r.ID, File: file, Line: f.Line, Fingerprint: f.Fingerprint,
			Message: describeSecret(f) + "; " + advice,
		})
	}
	return out
}

// describeSecret says where a secret is and what found it.
func describeSecret(f secrets.Finding) string {
	kind, name, _ := strings.Cut(f.Where, ":")
	var place string
	switch kind + ":" {
	case secrets.WhereFile:
		place = "file " + name
	case secrets.WhereContext:
		place = "build context file " + name
	case secrets.WhereEnv:
		place = "Env " + name
	case secrets.WhereLabel:
		place = "label " + name
	case secrets.WhereHistory:
		place = "history entry " + name
	case secrets.WhereBuildArg:
		place = BuildArgPlace(name)
	case secrets.WhereOnBuild:
		place = "ONBUILD trigger " + name
	default:
		place = f.Where
	}
	return place + " holds a secret (detector " + f.Rule + ", sha256 fingerprint " + f.Fingerprint + ")"
}

// BuildArgPlace is how a secret finding names build argument name (its
// message begins with it), so that the evidence that must leave a flagged
// argument's value out finds the finding by the same words.
func BuildArgPlace(name string) string { return "build argument " + name }
