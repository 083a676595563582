// Package annotations checks OCI annotations for secrets, with the one
// secret detector (frontend/secrets) and its redaction: the annotations
// of an image index, of each manifest and of each descriptor, and the
// exporter attributes that set them (`--output
// type=…,annotation.KEY=VALUE`, `annotation-index.KEY=…`, …). BuildKit
// writes those into the index and manifest blobs without passing them to
// the frontend, so no build-time check sees them: the build checks the
// exporter attributes before export, and the release gate checks what
// the image carries.
//
// Rule ids: those of frontend/secrets. CIS Docker Benchmark 4.10 (do not
// store secrets in images).
package annotations

import (
	"fmt"
	"strings"

	"github.com/hardenkit/hardenkit/frontend/secrets"
)

// WhereAnnotation prefixes Finding.Where for an annotation:
// "annotation:PLACE:KEY", PLACE being what carries it (a manifest
// digest, "index.json", an exporter attribute).
const WhereAnnotation = "annotation:"

// Scan returns the secrets in the annotations ann carried by place. A
// finding names the rule, the place and key, and the fingerprint — never
// the value.
func Scan(sc *secrets.Scanner, place string, ann map[string]string) []secrets.Finding {
	if len(ann) == 0 {
		return nil
	}
	out := sc.ScanLabels(ann)
	for i := range out {
		out[i].Where = WhereAnnotation + place + ":" + strings.TrimPrefix(out[i].Where, secrets.WhereLabel)
	}
	return out
}

// exporterPrefix is how BuildKit's image and oci exporters name an
// annotation attribute: annotation[-TYPE][[PLATFORM]].KEY.
const exporterPrefix = "annotation"

// Exporter returns the annotations the exporter attributes attrs of one
// --output set, by attribute key (annotation-index.org.example.x), as
// BuildKit writes them into the index and manifests.
func Exporter(attrs map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range attrs {
		rest, ok := strings.CutPrefix(k, exporterPrefix)
		if ok && rest != "" && strings.ContainsAny(rest[:1], ".-[") {
			out[k] = v
		}
	}
	return out
}

// ScanExporter scans the annotation attributes of each --output (outs
// holds each output's attributes) and returns an error naming every
// finding (rule, output and attribute, fingerprint) when any carries a
// secret: a build must refuse them before it exports.
func ScanExporter(sc *secrets.Scanner, outs []map[string]string) error {
	var found []string
	for i, attrs := range outs {
		// Keyed by the whole attribute: the detector reads the value with
		// its name, and the annotation key is part of the attribute's.
		for _, f := range sc.ScanLabels(Exporter(attrs)) {
			attr := strings.TrimPrefix(f.Where, secrets.WhereLabel)
			found = append(found, fmt.Sprintf("%s in --output #%d attribute %s (fingerprint %s)", f.Rule, i+1, attr, f.Fingerprint))
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("exporter annotations carry secrets, which would be written into the image index and manifests: %s", strings.Join(found, "; "))
	}
	return nil
}

// CheckOutputFlags refuses --output values (as the user typed them) whose
// annotation attributes carry a secret. It splits each value on commas
// without unquoting, so it runs before the flags are parsed — a parse
// error that quotes the value must not be how a token reaches a terminal
// — and a quoted value split in two is still scanned piece by piece. The
// detector is compiled only when some attribute is an annotation.
func CheckOutputFlags(values []string) error {
	var outs []map[string]string
	for _, v := range values {
		attrs := map[string]string{}
		for _, field := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.Trim(strings.TrimSpace(field), `"'`), "=")
			attrs[k] = val
		}
		if len(Exporter(attrs)) > 0 {
			outs = append(outs, attrs)
		}
	}
	if len(outs) == 0 {
		return nil
	}
	sc, err := secrets.New(secrets.Options{})
	if err != nil {
		return fmt.Errorf("secret detector: %w", err)
	}
	return ScanExporter(sc, outs)
}
