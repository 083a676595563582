package sbom

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// AttachedSPDX returns the SPDX document hardenkit wrote (the bytes whose
// digest the compliance statement records) from the predicate of the SBOM
// attestation as BuildKit exported it. BuildKit's image exporter
// supplements SBOM attestations (exporter/containerimage/attestations.go):
// it appends the creator "Tool: buildkit-<version>" and sets the comment
// "layerID: <digest>" on files without one, then re-encodes the document.
// Those additions are removed here and the document is encoded as Result
// encodes it, so a verifier can check the compliance statement's binding
// to the SBOM that is actually there. Nothing else is changed: any other
// difference keeps the digests apart.
func AttachedSPDX(predicate []byte) ([]byte, error) {
	var doc v2_3.Document
	if err := json.Unmarshal(predicate, &doc); err != nil {
		return nil, fmt.Errorf("sbom: reading the attached SPDX document: %w", err)
	}
	if ci := doc.CreationInfo; ci != nil && len(ci.Creators) > 0 {
		last := ci.Creators[len(ci.Creators)-1]
		if last.CreatorType == "Tool" && strings.HasPrefix(last.Creator, "buildkit-") {
			ci.Creators = ci.Creators[:len(ci.Creators)-1]
		}
	}
	unsupplement := func(f *v2_3.File) {
		if f != nil && strings.HasPrefix(f.FileComment, "layerID: sha256:") {
			f.FileComment = ""
		}
	}
	for _, f := range doc.Files {
		unsupplement(f)
	}
	for _, p := range doc.Packages {
		if p == nil {
			continue
		}
		for _, f := range p.Files {
			unsupplement(f)
		}
	}
	out, err := marshalJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("sbom: encoding SPDX: %w", err)
	}
	return out, nil
}
