package dockerfilecheck

import (
	"bytes"

	"github.com/hardenkit/hardenkit/frontend/secrets"
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
	sc, err := secrets.Default()
	if err != nil {
		// Without the detector nothing can be told apart: mask it all.
		out := bytes.Clone(dt)
		for i, c := range out {
			if c != '\n' && c != '\r' {
				out[i] = '*'
			}
		}
		return out
	}
	var assigns []secrets.Assignment
	if f, err := analyse(dt, Options{Filename: DefaultFilename}); err == nil {
		f.each(func(in *instr) {
			if in.node != nil {
				assigns = append(assigns, assignments(rawAssignments(in))...)
			}
		})
	}
	return sc.Mask(dt, assigns)
}
