package dockerfilecheck

import (
	"bytes"
	"errors"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
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
	m, _ := dockerfilemodel.Parse(dt)
	return RedactFile(dt, m)
}

// RedactFile is Redact with the Dockerfile dt already parsed as m; m is
// nil when dt does not parse, and dt is then redacted by pattern only.
func RedactFile(dt []byte, m *dockerfilemodel.File) []byte {
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
	labels := map[string]string{}
	if f, err := analyseOrNil(m); err == nil {
		f.each(func(in *instr) {
			if in.node != nil {
				assigns = append(assigns, assignments(rawAssignments(in))...)
				for _, kv := range labelValues(in) {
					labels[kv[0]] = kv[1]
				}
			}
		})
	}
	return maskSplitLabels(sc.Mask(dt, assigns), sc, labels)
}

// maskSplitLabels masks the halves of a token split across two LABELs:
// neither is a secret alone, so Mask leaves them, but a snippet showing
// both lines would show the token. The scanner's own label joining
// (ScanLabels, "label:A+B") decides which labels hold one.
func maskSplitLabels(dt []byte, sc *secrets.Scanner, labels map[string]string) []byte {
	if len(labels) < 2 {
		return dt
	}
	for _, f := range sc.ScanLabels(labels) {
		keys := strings.TrimPrefix(f.Where, secrets.WhereLabel)
		a, b, split := strings.Cut(keys, "+")
		if !split {
			continue
		}
		for _, k := range []string{a, b} {
			if v := labels[k]; v != "" {
				dt = bytes.ReplaceAll(dt, []byte(v), bytes.Repeat([]byte("*"), len(v)))
			}
		}
	}
	return dt
}

// labelValues returns a LABEL instruction's keys and literal values.
func labelValues(in *instr) [][2]string {
	cmd, err := parseCommand(in.node)
	if err != nil {
		return nil
	}
	c, ok := cmd.(*instructions.LabelCommand)
	if !ok {
		return nil
	}
	var out [][2]string
	for _, kv := range c.Labels {
		out = append(out, [2]string{unquote(kv.Key), unquote(kv.Value)})
	}
	return out
}

// analyseOrNil is the model of m for redaction (no build arguments, the
// last stage), or an error when m is nil.
func analyseOrNil(m *dockerfilemodel.File) (*file, error) {
	if m == nil {
		return nil, errors.New("the Dockerfile did not parse")
	}
	return analyse(m, Options{Filename: DefaultFilename})
}
