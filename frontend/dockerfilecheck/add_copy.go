package dockerfilecheck

// Control: COPY instead of ADD — every stage.
//
//	HK1012 AddInsteadOfCopy  CIS 4.9

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleAddInsteadOfCopy = rules.Rule{
	ID:          "HK1012",
	Name:        "AddInsteadOfCopy",
	Title:       "ADD used where COPY would do",
	Family:      rules.FamilyHardening,
	Severity:    rules.SeverityLow,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.9"},
	Rationale:   "ADD also fetches URLs and unpacks archives. For plain local files it does what COPY does, but a later edit of the source (a URL, a .tar) silently changes its behaviour; CIS 4.9 asks for COPY.",
	Remediation: "Use COPY for local files and directories; keep ADD for local tar archives you mean to unpack and for checksummed URLs or pinned git sources.",
	HelpURI:     helpURI("HK1012"),
}

var addCopyControl = control{
	rules: []rules.Rule{ruleAddInsteadOfCopy},
	check: checkAddCopy,
}

// archiveSuffixes are the names ADD may unpack: tar archives, and
// compressed files, which ADD unpacks when their content is a tar (it
// decides by content, so file.gz may well be one).
var archiveSuffixes = []string{".tar", ".tgz", ".tbz", ".tbz2", ".txz", ".tzst", ".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma"}

func checkAddCopy(f *file, r *reporter) {
	f.each(func(in *instr) {
		add, ok := in.cmd.(*instructions.AddCommand)
		if !ok {
			return
		}
		unpackOff := add.Unpack != nil && !*add.Unpack
		var local []string
		for _, src := range add.SourcePaths {
			switch {
			case isVariable(src) || src == "":
				return // unresolved (an unset variable expands to ""): cannot tell what it is
			case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") || isGitSource(src):
				return // only ADD can fetch it
			case isArchive(src) && !unpackOff:
				return // ADD unpacks it
			}
			local = append(local, src)
		}
		for _, c := range add.SourceContents {
			local = append(local, "<<"+c.Path)
		}
		if len(local) == 0 {
			return
		}
		r.add(ruleAddInsteadOfCopy, in.at, in.stage, fmt.Sprintf("%sADD of local %s does what COPY does; use COPY", onbuildPrefix(in), quoteList(local)))
	})
}

// isArchive reports whether a path names a tar archive ADD would unpack.
func isArchive(p string) bool {
	p = strings.ToLower(p)
	for _, s := range archiveSuffixes {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

// quoteList renders names for a message: "a", "b".
func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
