package dockerfilecheck

// Control: no secret values in the Dockerfile — every instruction of every
// stage, heredocs included.
//
//	HK1061 SecretValueInDockerfile  CIS 4.10

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSecretValue = rules.Rule{
	ID:          "HK1061",
	Name:        "SecretValueInDockerfile",
	Title:       "Secret value written in the Dockerfile",
	Family:      rules.FamilySecrets,
	Severity:    rules.SeverityCritical,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.10"},
	Rationale:   "A token, key or password in the Dockerfile is in the repository history, the build cache, the image history or config, and the provenance: everyone with any of them has it. The detector is the one that inspects the image (frontend/secrets: gitleaks' rule set, private keys, passwords in URLs, and hard-coded random-looking values of secret-named ARG/ENV/LABEL; numbers, durations, booleans, paths and public key ids are not secrets). Findings show a SHA-256 fingerprint, never the value.",
	Remediation: "Remove the value, rotate it (it is compromised), and pass it at build time with `--secret` and RUN --mount=type=secret.",
	HelpURI:     helpURI("HK1061"),
}

var secretValuesControl = control{
	rules: []rules.Rule{ruleSecretValue},
	check: checkSecretValues,
}

func checkSecretValues(f *file, r *reporter) {
	f.each(func(in *instr) {
		if in.onbuild || in.node == nil {
			return // the ONBUILD instruction's own text covers its trigger
		}
		name := strings.ToUpper(in.node.Value)
		text := in.node.Original + "\n" + in.heredocText()
		raw := rawAssignments(in)
		fds := f.secretsIn(text, assignments(raw))
		if len(fds) > 0 {
			fds = dropPublic(fds, f.publicValues(in, text, raw))
		}
		for _, fd := range fds {
			r.addSecret(ruleSecretValue, in.at, in.stage, secretMessage(name, fd, "remove and rotate it, and pass it with --secret and RUN --mount=type=secret"), fd.Fingerprint)
		}
	})
}

// rawAssignments returns the key/value pairs an ARG or ENV (possibly
// wrapped in ONBUILD) writes, as written in the Dockerfile: a value that
// only references another variable is not a hard-coded secret.
func rawAssignments(in *instr) [][2]string {
	node := in.node
	if strings.EqualFold(node.Value, "onbuild") && node.Next != nil && len(node.Next.Children) == 1 {
		node = node.Next.Children[0]
	}
	cmd, err := parseCommand(node)
	if err != nil {
		return nil
	}
	var out [][2]string
	switch c := cmd.(type) {
	case *instructions.ArgCommand:
		for _, kv := range c.Args {
			if kv.Value != nil {
				out = append(out, [2]string{kv.Key, unquote(*kv.Value)})
			}
		}
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			out = append(out, [2]string{kv.Key, unquote(kv.Value)})
		}
	}
	return out
}

// unquote removes one pair of matching surrounding quotes, so the
// fingerprint is of the value the build would see.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
