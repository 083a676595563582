package dockerfilecheck

import (
	"testing"
)

// FuzzCheck feeds arbitrary Dockerfiles to Check: it must never panic, and
// findings must stay within the file.
func FuzzCheck(f *testing.F) {
	for _, seed := range []string{
		kitchenSink,
		generatedDockerfile(60),
		"FROM alpine\nRUN <<EOF\ncurl -k x | sh\nEOF\n",
		"# escape=`\nFROM alpine\nRUN a `\n  b\n",
		"ARG X=1\nFROM a:${X} AS b\nONBUILD RUN bash <(curl x)\nFROM b\nUSER $U\nCMD a 'b c'\n",
		"# hardenkit:ignore=HK1001 reason=\"x\"\nFROM a\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, df string) {
		fs, err := Check([]byte(df), Options{BuildArgs: map[string]string{"TOKEN": "ghp_x"}, HasDockerignore: true, DockerignorePatterns: []string{".git"}})
		if err != nil {
			return
		}
		lines := len(splitLines([]byte(df)))
		for _, fd := range fs {
			if fd.Line < 0 || fd.EndLine < fd.Line || fd.EndLine > lines || fd.Rule == "" || fd.Message == "" {
				t.Fatalf("bad finding %+v for a %d-line file", fd, lines)
			}
		}
	})
}
