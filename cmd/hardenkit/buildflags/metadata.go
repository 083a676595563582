package buildflags

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// DecodeExporterResponse converts a solve's ExporterResponse into the JSON
// document buildx writes with --metadata-file: values that are base64
// encoded JSON (e.g. containerimage.descriptor) are embedded as JSON, the
// rest (e.g. containerimage.digest) stay strings.
func DecodeExporterResponse(resp map[string]string) map[string]any {
	out := make(map[string]any, len(resp))
	for k, v := range resp {
		dt, err := base64.StdEncoding.DecodeString(v)
		if k == "result.json" {
			// Subrequest results are plain JSON already.
			dt, err = []byte(v), nil
		}
		if err != nil || !isJSONObjectOrList(dt) {
			out[k] = v
			continue
		}
		out[k] = json.RawMessage(dt)
	}
	return out
}

func isJSONObjectOrList(dt []byte) bool {
	var obj map[string]any
	if err := json.Unmarshal(dt, &obj); err == nil && len(obj) > 0 {
		return true
	}
	var list []map[string]any
	return json.Unmarshal(dt, &list) == nil && len(list) > 0
}

// WriteMetadataFile writes the decoded exporter response to path atomically,
// so a reader never sees a half-written file.
func WriteMetadataFile(path string, resp map[string]string) error {
	b, err := json.MarshalIndent(DecodeExporterResponse(resp), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding metadata: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".metadata-*")
	if err != nil {
		return fmt.Errorf("writing metadata file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing metadata file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing metadata file: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing metadata file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing metadata file: %w", err)
	}
	return nil
}
