package dockerfilecheck

// Control: whole-context copies exclude secrets — every stage.
//
//	HK1070 ContextCopyWithoutDockerignore  CIS 4.10

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"

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
		r.add(ruleContextCopy, in.at, in.stage, fmt.Sprintf("%s%s %s copies the whole build context, but %s %s", onbuildPrefix(in), name, src, why, strings.Join(missing, ", ")))
	})
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
