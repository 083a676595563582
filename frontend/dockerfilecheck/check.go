package dockerfilecheck

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// DefaultFilename is the name findings carry when Options.Filename is empty.
const DefaultFilename = "Dockerfile"

// Options are the inputs of one static check besides the Dockerfile text.
type Options struct {
	// Filename is the Dockerfile's name as findings report it, relative
	// to the repository when known ("Dockerfile", "app/Dockerfile").
	Filename string
	// BuildArgs are the --build-arg values, used for expansion and
	// checked for secrets (they are recorded in build provenance).
	BuildArgs map[string]string
	// Target is the --target stage; empty means the last stage. It decides
	// the shipped stage that USER, HEALTHCHECK, CMD/ENTRYPOINT and EXPOSE
	// rules look at.
	Target string
	// DockerignorePatterns are the build context's .dockerignore patterns
	// (github.com/moby/patternmatcher/ignorefile syntax, already parsed).
	DockerignorePatterns []string
	// HasDockerignore says whether the context has an ignore file at all,
	// to word the finding; the patterns alone decide what is excluded.
	HasDockerignore bool
	// Policy sets each rule's level and the controls' parameters; nil
	// means the embedded strict baseline.
	Policy *policy.Policy
}

// control is one home file's rules and the function that checks them.
// check may be nil when another pass reports the rule (inline
// suppressions).
type control struct {
	rules []rules.Rule
	check func(*file, *reporter)
}

// controls is the rule table, in the order the checks run.
var controls = []control{
	basePinnedControl,
	baseAllowedControl,
	addChecksumControl,
	addGitControl,
	addCopyControl,
	curlPipeShellControl,
	tlsDisabledControl,
	packagePinsControl,
	aptUpdateControl,
	upgradeControl,
	runNetworkControl,
	runSecurityControl,
	sudoControl,
	exposeSSHControl,
	userRootControl,
	noUserControl,
	stateOwnerControl,
	secretNamesControl,
	secretValuesControl,
	secretBuildArgsControl,
	dockerignoreControl,
	execFormControl,
	healthcheckControl,
	inlineSuppressionControl,
}

// Rules returns every static rule, sorted by id. The slice and the rules'
// CIS slices are fresh copies the caller may keep or modify.
func Rules() []rules.Rule {
	var out []rules.Rule
	for _, c := range controls {
		for _, r := range c.rules {
			r.CIS = slices.Clone(r.CIS)
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b rules.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Check runs the static rules on a Dockerfile. Findings are sorted by line
// and carry the level the policy gives their rule; rules at `off` report
// nothing. A Dockerfile BuildKit cannot parse returns its error, which
// wraps a *parser.LocationError when BuildKit knows the line.
func Check(dt []byte, opt Options) ([]rules.Finding, error) {
	m, err := Parse(dt, opt.Filename)
	if err != nil {
		return nil, err
	}
	return CheckFile(m, opt)
}

// CheckFile is Check on a Dockerfile already parsed (Parse), so that a
// build that reads its Dockerfile once checks that reading.
func CheckFile(m *dockerfilemodel.File, opt Options) ([]rules.Finding, error) {
	if opt.Filename == "" {
		opt.Filename = DefaultFilename
	}
	if opt.Policy == nil {
		p, err := policy.Baseline("strict")
		if err != nil {
			return nil, fmt.Errorf("loading the strict baseline: %w", err)
		}
		opt.Policy = p
	}
	f, err := analyse(m, opt)
	if err != nil {
		return nil, err
	}
	r := newReporter(f)
	for _, c := range controls {
		if c.check != nil {
			c.check(f, r)
		}
	}
	applySuppressions(f, r)
	return r.sorted(), nil
}

// Ranges converts a finding's lines into BuildKit source ranges, for
// errdefs.WithSource errors and client warnings. A finding without a line
// has no range.
func Ranges(f rules.Finding) []parser.Range {
	if f.Line <= 0 {
		return nil
	}
	end := f.EndLine
	if end < f.Line {
		end = f.Line
	}
	return []parser.Range{{Start: parser.Position{Line: f.Line}, End: parser.Position{Line: end}}}
}

// reporter collects findings, applying the policy level and dropping
// duplicates (the same rule, line and message reached twice, e.g. through a
// nested `sh -c`).
type reporter struct {
	f        *file
	findings []rules.Finding
	seen     map[string]bool
}

func newReporter(f *file) *reporter {
	return &reporter{f: f, seen: map[string]bool{}}
}

// add reports a violation of rule at the given lines.
func (r *reporter) add(rule rules.Rule, at span, st *stage, msg string) {
	r.addFinding(rule, rules.Finding{Line: at.start, EndLine: at.end, StageName: st.label(), Message: msg})
}

// addSecret reports a secret, identified by fingerprint only.
func (r *reporter) addSecret(rule rules.Rule, at span, st *stage, msg, fp string) {
	r.addFinding(rule, rules.Finding{Line: at.start, EndLine: at.end, StageName: st.label(), Message: msg, Fingerprint: fp})
}

func (r *reporter) addFinding(rule rules.Rule, fd rules.Finding) {
	lvl := r.f.opt.Policy.Level(rule)
	switch lvl {
	case rules.LevelOff:
		return
	case "":
		lvl = rules.LevelEnforce // fail closed if a policy forgets a rule
	}
	key := fmt.Sprintf("%s\x00%d\x00%s", rule.ID, fd.Line, fd.Message)
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	fd.Rule = rule.ID
	fd.Level = lvl
	fd.File = r.f.opt.Filename
	r.findings = append(r.findings, fd)
}

// sorted returns the findings by line, then rule, then message.
func (r *reporter) sorted() []rules.Finding {
	out := slices.Clone(r.findings)
	slices.SortStableFunc(out, func(a, b rules.Finding) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Rule, b.Rule), strings.Compare(a.Message, b.Message))
	})
	return out
}

// helpURI is a rule's documentation anchor in docs/rules.md.
func helpURI(id string) string { return rules.HelpURI(id) }
