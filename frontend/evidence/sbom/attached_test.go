package sbom

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// TestAttachedSPDX undoes what BuildKit's exporter adds to an SBOM
// attestation (a creator, file layer comments) and nothing else.
func TestAttachedSPDX(t *testing.T) {
	doc := v2_3.Document{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXIdentifier: "DOCUMENT", DocumentName: "rootfs",
		CreationInfo: &v2_3.CreationInfo{Creators: []common.Creator{{CreatorType: "Tool", Creator: "syft-v1.57.1"}}, Created: "1970-01-01T00:00:00Z"},
		Files:        []*v2_3.File{{FileName: "/app", FileSPDXIdentifier: "File-app", Checksums: []common.Checksum{{Algorithm: common.SHA256, Value: "ab"}}}},
	}
	wrote, err := marshalJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	// What BuildKit exports.
	doc.CreationInfo.Creators = append(doc.CreationInfo.Creators, common.Creator{CreatorType: "Tool", Creator: "buildkit-v0.34.2"})
	doc.Files[0].FileComment = "layerID: sha256:0123"
	exported, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := AttachedSPDX(exported)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wrote) {
		t.Fatalf("AttachedSPDX did not give back the document written:\n%s\n%s", got, wrote)
	}
	// Any other change stays.
	doc.DocumentName = "other"
	changed, _ := json.Marshal(doc)
	if got, _ := AttachedSPDX(changed); bytes.Equal(got, wrote) {
		t.Fatal("a changed document maps to the original")
	}
}
