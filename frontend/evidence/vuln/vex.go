package vuln

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	openvex "github.com/openvex/go-vex/pkg/vex"

	"github.com/anchore/grype/grype/vex"
)

// validateVEX checks that every document is OpenVEX with valid statements. A
// not_affected statement without a justification or impact statement is
// rejected, not ignored: the OpenVEX spec requires one, and a gate must
// not be waived by an unexplained claim.
func validateVEX(docs [][]byte) error {
	for i, d := range docs {
		doc, err := openvex.Parse(d)
		if err != nil {
			return fmt.Errorf("vulnerability gate: VEX document %d: %w", i+1, err)
		}
		// go-vex decodes any JSON object; the context tells an OpenVEX
		// document from a CSAF one or a typo.
		if !strings.HasPrefix(doc.Context, openvex.TypeURI) {
			return fmt.Errorf("vulnerability gate: VEX document %d is not OpenVEX (@context %q)", i+1, doc.Context)
		}
		for _, st := range doc.Statements {
			if err := st.Validate(); err != nil {
				return fmt.Errorf("vulnerability gate: VEX document %d, statement for %s: %w", i+1, st.Vulnerability.Name, err)
			}
		}
	}
	return nil
}

// writeVEX writes the documents to a temporary directory, because grype's
// VEX processor reads files; cleanup removes it.
func writeVEX(docs [][]byte) (paths []string, cleanup func(), err error) {
	if len(docs) == 0 {
		return nil, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "hardenkit-vex-")
	if err != nil {
		return nil, nil, fmt.Errorf("vulnerability gate: staging VEX documents: %w", err)
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	for i, d := range docs {
		p := filepath.Join(dir, strconv.Itoa(i)+".openvex.json")
		if err := os.WriteFile(p, d, 0o600); err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("vulnerability gate: staging VEX documents: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, cleanup, nil
}

// vexProcessor is grype's VEX processor over the staged documents, with no
// extra rules: not_affected and fixed statements filter matches, affected
// ones add none.
func vexProcessor(paths []string) (*vex.Processor, error) {
	p, err := vex.NewProcessor(vex.ProcessorOptions{Documents: paths})
	if err != nil {
		return nil, fmt.Errorf("vulnerability gate: %w", err)
	}
	return p, nil
}
