package dockerfilecheck

import (
	"fmt"

	"github.com/hardenkit/hardenkit/frontend/secrets"
)

// Every secret decision of the static rules — is this name a secret's,
// is this text or value a secret — is frontend/secrets', the detector
// that inspects the image: a Dockerfile and the image built from it are
// judged alike, and a finding's fingerprint (secrets.Fingerprint) is the
// same in both.

// isSecretName reports whether an ARG, ENV or build-arg name looks like it
// holds a secret.
func isSecretName(name string) bool {
	return secrets.SecretName(name)
}

// secretsIn returns the secrets in Dockerfile text (an instruction and
// its heredocs), given the assignments the instruction writes.
// One secret is reported once, by the first detector that names it.
func (f *file) secretsIn(text string, assigns []secrets.Assignment) []secrets.Finding {
	var out []secrets.Finding
	seen := map[string]bool{}
	for _, fd := range f.secrets.ScanText("dockerfile:", text, assigns) {
		if !seen[fd.Fingerprint] {
			seen[fd.Fingerprint] = true
			out = append(out, fd)
		}
	}
	return out
}

// describeDetector names what found a secret, for a message.
func describeDetector(fd secrets.Finding) string {
	if fd.Rule == secrets.RuleSecretName {
		return "a hard-coded value of a secret-named variable (detector " + fd.Rule + ")"
	}
	return "a secret (detector " + fd.Rule + ")"
}

// secretMessage is the message of a secret finding: the place, the
// detector and the fingerprint, never the value.
func secretMessage(what string, fd secrets.Finding, advice string) string {
	return fmt.Sprintf("%s contains %s, sha256 fingerprint %s; %s", what, describeDetector(fd), fd.Fingerprint, advice)
}

// assignments converts rawAssignments for the detector.
func assignments(kvs [][2]string) []secrets.Assignment {
	out := make([]secrets.Assignment, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, secrets.Assignment{Name: kv[0], Value: kv[1]})
	}
	return out
}

// hasSecret reports whether text holds a secret.
func (f *file) hasSecret(text string) bool {
	return len(f.secretsIn(text, nil)) > 0
}
