// Command gendocs writes docs/rules.md from the rule catalog. It is run by
// `go generate ./frontend/catalog`; TestRulesDocUpToDate fails when the
// committed file differs from what it would write.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/hardenkit/hardenkit/frontend/catalog"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs OUTPUT.md")
		os.Exit(2)
	}
	var b bytes.Buffer
	if err := catalog.WriteMarkdown(&b, catalog.All()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[1], b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, fmt.Errorf("writing %s: %w", os.Args[1], err))
		os.Exit(1)
	}
}
