package buildflags

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
)

// Output types accepted by --output. "registry" is shorthand for
// type=image,push=true and "cacheonly" exports nothing, as in buildx.
const (
	OutputOCI       = "oci"
	OutputDocker    = "docker"
	OutputImage     = "image"
	OutputRegistry  = "registry"
	OutputLocal     = "local"
	OutputTar       = "tar"
	OutputCacheOnly = "cacheonly"
)

// OutputTypes lists the valid --output types, for help and error messages.
var OutputTypes = []string{OutputCacheOnly, OutputDocker, OutputImage, OutputLocal, OutputOCI, OutputRegistry, OutputTar}

// Output is one parsed --output value.
type Output struct {
	// Type is the exporter, one of OutputTypes.
	Type string
	// Dest is the destination file or directory; "-" means stdout.
	Dest string
	// Attrs are the remaining exporter attributes (name, push, ...).
	Attrs map[string]string
}

// ParseOutputs parses all --output values.
func ParseOutputs(values []string) ([]Output, error) {
	outs := make([]Output, 0, len(values))
	for _, v := range values {
		o, err := ParseOutput(v)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// ParseOutput parses one --output value: CSV "type=...,dest=...,k=v", or
// like buildx a bare path (type=local) or "-" (a tar on stdout).
func ParseOutput(s string) (Output, error) {
	o := Output{Attrs: map[string]string{}}
	if strings.TrimSpace(s) == "" {
		return o, errors.New("empty --output")
	}
	if !strings.Contains(s, "=") {
		if s == "-" {
			o.Type, o.Dest = OutputTar, "-"
		} else {
			o.Type, o.Dest = OutputLocal, s
		}
		return o, nil
	}
	fields, err := splitCSV(s)
	if err != nil {
		return o, fmt.Errorf("invalid --output %q: %w", s, err)
	}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return o, fmt.Errorf("invalid --output field %q: expected key=value", f)
		}
		switch k = strings.ToLower(strings.TrimSpace(k)); k {
		case "type":
			o.Type = v
		case "dest":
			o.Dest = v
		case "output":
			return o, fmt.Errorf("output=%s is not supported in --output, did you mean dest=%s?", v, v)
		default:
			o.Attrs[k] = v
		}
	}
	if o.Type == "" {
		return o, fmt.Errorf("invalid --output %q: type is required (one of %s)", s, strings.Join(OutputTypes, ", "))
	}
	switch o.Type {
	case OutputLocal:
		if o.Dest == "" {
			return o, errors.New("--output type=local requires dest=DIRECTORY")
		}
	case OutputOCI, OutputDocker:
		if !o.tarball() && (o.Dest == "" || o.Dest == "-") {
			return o, fmt.Errorf("--output type=%s,tar=false requires dest=DIRECTORY", o.Type)
		}
	case OutputTar:
	case OutputImage, OutputRegistry, OutputCacheOnly:
		if o.Dest != "" {
			return o, fmt.Errorf("--output type=%s does not take dest (use name=REF for images)", o.Type)
		}
		if o.Type == OutputRegistry {
			o.Type = OutputImage
			o.Attrs["push"] = "true"
		}
	default:
		return o, fmt.Errorf("unknown --output type %q (valid types: %s)", o.Type, strings.Join(OutputTypes, ", "))
	}
	return o, nil
}

// tarball reports whether an oci/docker output is written as a tar file
// rather than an OCI layout directory (tar=false).
func (o Output) tarball() bool {
	t, err := strconv.ParseBool(o.Attrs["tar"])
	return err != nil || t
}

// Tarball reports whether an oci/docker output is written as a tar file
// rather than an OCI layout directory (tar=false).
func (o Output) Tarball() bool { return o.tarball() }

// ExportEntries turns outputs into BuildKit export entries. Files are only
// created when the exporter starts writing, so a failed build leaves no
// empty tarball behind; obvious destination mistakes are reported now.
// stdout receives "-" outputs, which are refused when it is a terminal.
func ExportEntries(outs []Output, stdout io.Writer, stdoutIsTerminal bool) ([]client.ExportEntry, error) {
	var entries []client.ExportEntry
	usedStdout := false
	for _, o := range outs {
		if o.Type == OutputCacheOnly {
			continue
		}
		e := client.ExportEntry{Type: o.Type, Attrs: map[string]string{}}
		for k, v := range o.Attrs {
			e.Attrs[k] = v
		}
		switch {
		case o.Type == OutputLocal || ((o.Type == OutputOCI || o.Type == OutputDocker) && !o.tarball()):
			if fi, err := os.Stat(o.Dest); err == nil && !fi.IsDir() {
				return nil, fmt.Errorf("--output type=%s: dest %s exists and is not a directory", o.Type, o.Dest)
			}
			e.OutputDir = o.Dest
		case o.Type == OutputTar || o.Type == OutputOCI || o.Type == OutputDocker:
			if o.Dest == "" || o.Dest == "-" {
				if stdoutIsTerminal {
					return nil, fmt.Errorf("--output type=%s: refusing to write a tarball to the terminal; set dest=FILE or redirect stdout", o.Type)
				}
				if usedStdout {
					return nil, errors.New("only one --output can write to stdout")
				}
				usedStdout = true
				w := stdout
				e.Output = func(map[string]string) (io.WriteCloser, error) { return nopCloser{w}, nil }
			} else {
				dest := o.Dest
				if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
					return nil, fmt.Errorf("--output type=%s: dest %s is a directory, expected a file", o.Type, dest)
				}
				if fi, err := os.Stat(filepath.Dir(dest)); err != nil || !fi.IsDir() {
					return nil, fmt.Errorf("--output type=%s: directory of dest %s does not exist", o.Type, dest)
				}
				e.Output = func(map[string]string) (io.WriteCloser, error) { return os.Create(dest) }
			}
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// nopCloser keeps the exporter from closing our stdout.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// splitCSV splits one CSV record, allowing quoted fields that contain
// commas (e.g. name="a,b").
func splitCSV(s string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		return nil, err
	}
	return fields, nil
}

// joinCSV is the inverse of splitCSV.
func joinCSV(fields []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(fields)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// ApplyTags sets the image name of every output that carries one (image,
// oci, docker) to the -t/--tag values, as buildx does. Tags without such an
// output would be silently lost, so that is an error.
func ApplyTags(outs []Output, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	for _, t := range tags {
		if _, err := reference.ParseNormalizedNamed(t); err != nil {
			return fmt.Errorf("invalid --tag %q: %w", t, err)
		}
	}
	applied := false
	for _, o := range outs {
		switch o.Type {
		case OutputImage, OutputOCI, OutputDocker:
			o.Attrs["name"] = strings.Join(tags, ",")
			applied = true
		}
	}
	if !applied {
		return errors.New("--tag needs an --output of type image, registry, oci or docker to name")
	}
	return nil
}
