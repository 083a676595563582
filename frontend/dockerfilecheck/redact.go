package dockerfilecheck

import (
	"bytes"
	"strings"
)

// Redact returns a copy of the Dockerfile dt in which every value the
// secret rules (HK1061) would report — secret-shaped tokens anywhere,
// heredocs included, and literal values of secret-named ARG and ENV — is
// overwritten with '*', byte for byte, newlines kept.
//
// BuildKit shows the Dockerfile to the client: errors and warnings carry
// it whole (the client prints a snippet around the range; --progress
// rawjson passes every byte), and dockerfile2llb attaches it to the LLB
// as source information that provenance records. The frontend gives
// BuildKit the redacted copy for all of that and converts the real one.
// Same-length masking keeps every line and column of a range valid.
//
// A Dockerfile the model cannot be built for (a syntax error) is still
// redacted by pattern: the error that reports it shows a snippet too.
func Redact(dt []byte) []byte {
	values := map[string]bool{}
	for _, h := range findSecrets(string(dt)) {
		values[h.value] = true
	}
	if f, err := analyse(dt, Options{Filename: DefaultFilename}); err == nil {
		f.each(func(in *instr) {
			if in.node == nil {
				return
			}
			for _, kv := range rawAssignments(in) {
				if isSecretName(kv[0]) && literalSecretValue(kv[1]) {
					values[kv[1]] = true
				}
			}
		})
	}
	if len(values) == 0 {
		return bytes.Clone(dt)
	}
	out := bytes.Clone(dt)
	text := string(dt)
	for v := range values {
		if v == "" {
			continue
		}
		for off := 0; ; {
			i := strings.Index(text[off:], v)
			if i < 0 {
				break
			}
			start := off + i
			for j := start; j < start+len(v); j++ {
				if out[j] != '\n' && out[j] != '\r' {
					out[j] = '*'
				}
			}
			off = start + len(v)
		}
	}
	return out
}
