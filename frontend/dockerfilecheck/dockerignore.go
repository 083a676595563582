package dockerfilecheck

// Control: whole-context copies exclude secrets — every stage.
//
//	HK1070 ContextCopyWithoutDockerignore  CIS 4.10
//
// HK1070 is hygiene: it looks at the ignore patterns, not at the files. The
// real check is HK3054, which reads every context file a COPY, ADD or RUN
// bind mount brings in and fails the build at that instruction when one
// holds a secret. While the policy evaluates HK3054, an incomplete
// .dockerignore therefore only warns (a `COPY . /app` with a typical
// Django or Node .dockerignore and no secret in the context builds); a
// secret-looking file that is actually copied fails through HK3054. With
// HK3054 off nothing reads the files, and HK1070 keeps its own level.

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"

	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleContextCopy = rules.Rule{
	ID:          "HK1070",
	Name:        "ContextCopyWithoutDockerignore",
	Title:       "Whole build context copied without excluding .git, .env and keys",
	Family:      rules.FamilySecrets,
	Severity:    rules.SeverityHigh,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.10"},
	Rationale:   "`COPY . .` copies everything in the build context into a layer: the .git directory (history, remotes with tokens), .env files and private keys lying in the working tree. A .dockerignore is what keeps them out of the image and the build cache.",
	Remediation: "Add a .dockerignore (or <Dockerfile>.dockerignore) excluding at least .git, .env, **/*.key, **/*.pem and **/id_rsa*, **/id_ecdsa*, **/id_ed25519*; or copy only the paths the build needs.",
	HelpURI:     helpURI("HK1070"),
}

var dockerignoreControl = control{
	rules: []rules.Rule{ruleContextCopy},
	check: checkContextCopy,
}

// sensitiveContextPaths are probed against the ignore patterns; pattern is
// what to add when a probe is not excluded.
var sensitiveContextPaths = []struct{ probe, pattern string }{
	{".git", ".git"},
	{".env", ".env"},
	{"private.key", "**/*.key"},
	{"private.pem", "**/*.pem"},
	{"id_rsa", "**/id_rsa*"},
	{"id_ecdsa", "**/id_ecdsa*"},
	{"id_ed25519", "**/id_ed25519*"},
}

func checkContextCopy(f *file, r *reporter) {
	f.each(func(in *instr) {
		var srcs, excludes []string
		name := "COPY"
		switch c := in.cmd.(type) {
		case *instructions.CopyCommand:
			if c.From != "" {
				return // another stage or image, not the build context
			}
			srcs, excludes = c.SourcePaths, c.ExcludePatterns
		case *instructions.AddCommand:
			srcs, excludes, name = c.SourcePaths, c.ExcludePatterns, "ADD"
		default:
			return
		}
		src := wholeContextSource(srcs)
		if src == "" {
			return
		}
		missing, err := unexcluded(append(append([]string{}, f.opt.DockerignorePatterns...), excludes...))
		if err != nil {
			r.add(ruleContextCopy, in.at, in.stage, fmt.Sprintf("%s%s %s copies the whole build context, and the .dockerignore patterns cannot be evaluated: %v", onbuildPrefix(in), name, src, err))
			return
		}
		if len(missing) == 0 {
			return
		}
		why := "the .dockerignore does not exclude"
		if !f.opt.HasDockerignore && len(f.opt.DockerignorePatterns) == 0 {
			why = "there is no .dockerignore; add one excluding"
		}
		msg := fmt.Sprintf("%s%s %s copies the whole build context, but %s %s", onbuildPrefix(in), name, src, why, strings.Join(missing, ", "))
		if !contextScanned(f.opt.Policy) {
			r.add(ruleContextCopy, in.at, in.stage, msg)
			return
		}
		n := len(r.findings)
		r.add(ruleContextCopy, in.at, in.stage, msg+"; a warning only: the build context scan (HK3054) reads every file this brings in and fails the build at this line on a secret")
		if len(r.findings) > n && r.findings[n].Level == rules.LevelEnforce {
			r.findings[n].Level = rules.LevelWarn
		}
	})
}

// contextSecretRule is HK3054 SecretInBuildContext (frontend/inspect).
const contextSecretRule = "HK3054"

// contextScanned reports whether policy p evaluates HK3054, the scan of
// the context files COPY and ADD bring in, which covers what HK1070 can
// only guess from the ignore patterns.
func contextScanned(p *policy.Policy) bool {
	for _, r := range inspect.Rules() {
		if r.ID == contextSecretRule {
			return p.Level(r) != rules.LevelOff
		}
	}
	return false
}

// wholeContextSource returns the source that names the context root
// (".", "./", "/", "*"), or "".
func wholeContextSource(srcs []string) string {
	for _, s := range srcs {
		switch filepath.ToSlash(filepath.Clean(s)) {
		case ".", "/", "*", "**":
			return s
		}
	}
	return ""
}

// unexcluded returns the patterns to add for sensitive paths the ignore
// patterns leave in the context.
func unexcluded(patterns []string) ([]string, error) {
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("compiling ignore patterns: %w", err)
	}
	var missing []string
	for _, p := range sensitiveContextPaths {
		ok, err := pm.MatchesOrParentMatches(p.probe)
		if err != nil {
			return nil, fmt.Errorf("matching %s: %w", p.probe, err)
		}
		if !ok {
			missing = append(missing, p.pattern)
		}
	}
	return missing, nil
}
