package annotations_test

import (
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/release/annotations"
)

// TestScanExporter: an exporter annotation attribute of any kind (image,
// index, manifest, descriptor, per platform) carrying a secret is refused
// with the rule, the output and the attribute, never the value; other
// attributes and clean annotations pass.
func TestScanExporter(t *testing.T) {
	sc, err := secrets.New(secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := secretstest.Generate(t)
	cases := []struct {
		name  string
		attrs map[string]string
		attr  string // the attribute the error must name; "" for no error
	}{
		{"image annotation", map[string]string{"annotation.org.example.x": p.GitHubToken}, "annotation.org.example.x"},
		{"index annotation", map[string]string{"annotation-index.org.example.deploy": "token " + p.NPMToken}, "annotation-index.org.example.deploy"},
		{"per-platform manifest annotation", map[string]string{"annotation-manifest[linux/amd64].org.example.key": p.AWSAccessKeyID}, "annotation-manifest[linux/amd64].org.example.key"},
		{"index descriptor annotation", map[string]string{"annotation-index-descriptor.org.example.secret": p.JWT}, "annotation-index-descriptor.org.example.secret"},
		{"a secret-named annotation with a password", map[string]string{"annotation.org.example.password": p.Password}, "annotation.org.example.password"},
		{"clean annotations", map[string]string{"annotation.org.opencontainers.image.source": "https://git.example.com/app", "annotation-index.org.opencontainers.image.revision": "4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b"}, ""},
		{"not an annotation", map[string]string{"name": "reg/app:1", "annotations": p.GitHubToken}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := annotations.ScanExporter(sc, []map[string]string{{"type": "oci"}, tc.attrs})
			if tc.attr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "--output #2 attribute "+tc.attr) || !strings.Contains(err.Error(), "fingerprint") {
				t.Fatalf("err = %v, want a refusal naming --output #2 attribute %s with a fingerprint", err, tc.attr)
			}
			secretstest.AssertNoLeak(t, p, "the error", err.Error())
		})
	}
}
