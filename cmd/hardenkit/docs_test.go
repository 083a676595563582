package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// TestDocsCommandsParse: every `hardenkit …` command quoted in a shell
// block of the pages a new user follows names a subcommand that exists,
// with flags it accepts and as many arguments as it takes — so a renamed
// flag fails here, not in a reader's terminal. The commands that need a
// daemon, a registry or CI are run by the integration tests (report,
// CI templates); this test keeps the rest from going stale.
func TestDocsCommandsParse(t *testing.T) {
	pages := []string{"README.md", "docs/quickstart.md", "docs/adopting.md", "docs/troubleshooting.md", "docs/ci.md", "docs/evidence-report.md"}
	block := regexp.MustCompile("(?s)```sh\n(.*?)```")
	seen := 0
	for _, page := range pages {
		b, err := os.ReadFile(filepath.Join("..", "..", page))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range block.FindAllStringSubmatch(string(b), -1) {
			for _, c := range shellscript.Parse(m[1]).Calls {
				if len(c.Args) < 2 || c.Args[0] != "hardenkit" {
					continue
				}
				seen++
				if err := parses(c.Args[1:]); err != nil {
					t.Errorf("%s: `%s`: %v", page, strings.Join(c.Args, " "), err)
				}
			}
		}
	}
	// The check itself must be able to fail.
	for _, bad := range [][]string{{"report", "--no-such-flag", "x.tar"}, {"no-such-command"}, {"report"}} {
		if parses(bad) == nil {
			t.Errorf("parses(%q) = nil, want an error", bad)
		}
	}
	if seen < 20 {
		t.Errorf("found %d hardenkit commands in the docs; the pages quote more — is the extraction broken?", seen)
	}
}

// parses checks args against the CLI's command tree without running it.
func parses(args []string) error {
	root := newRootCommand()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root {
		return os.ErrNotExist
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	if cmd.Args != nil {
		return cmd.Args(cmd, cmd.Flags().Args())
	}
	return nil
}
