// Package canonjson produces the canonical JSON that hardenkit hashes and
// signs (policy digests, exception signatures): object keys sorted, no
// insignificant whitespace, no HTML escaping, numbers written as given.
//
// Canonical bytes must not depend on Go struct field order or on how a
// document was written, so the value is marshalled once, decoded into
// generic maps (which encoding/json writes with sorted keys) and marshalled
// again.
//
// go-securesystemslib's cjson (OLPC canonical JSON) is not used: it writes
// control characters inside strings unescaped, so a multi-line value such
// as a PEM approver key would not survive being read back as JSON or YAML,
// and the canonical policy must itself be a valid policy document.
package canonjson

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Marshal returns the canonical JSON encoding of v.
func Marshal(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	// Numbers stay as written: float64 would round large integers.
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("re-reading %T: %w", v, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return nil, fmt.Errorf("encoding canonical %T: %w", v, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
