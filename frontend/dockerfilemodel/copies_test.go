package dockerfilemodel

import (
	"slices"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestContextCopies(t *testing.T) {
	const df = `ARG SRC=keys
FROM busybox AS builder
COPY ${SRC}/id.pem /k/
COPY --from=busybox /bin/sh /x
ADD https://example.com/a.tgz vendor/*.tar /v/
RUN --mount=type=bind,source=${SRC}/tok,target=/t --mount=type=cache,target=/c true

FROM busybox AS unused
COPY unused.txt /

FROM busybox AS tools
COPY tools.txt /

FROM scratch AS final
COPY --from=builder /k /k
COPY ./app /app
COPY <<EOF /inline
x
EOF
RUN --mount=type=bind,from=tools,target=/t --mount=type=bind,target=/src true
`
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	got, err := mustView(t, df, Target{Platform: p, BuildPlatform: p}).ContextCopies()
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		stage, instr string
		line         int
		sources      []string
	}
	var rows []row
	for _, c := range got {
		rows = append(rows, row{c.Stage, c.Instruction, c.Line(), c.Sources})
	}
	want := []row{
		{"builder", "COPY", 3, []string{"keys/id.pem"}},
		{"builder", "ADD", 5, []string{"vendor/*.tar"}},
		{"builder", "RUN", 6, []string{"keys/tok"}},
		{"tools", "COPY", 12, []string{"tools.txt"}},
		{"final", "COPY", 16, []string{"app"}},
		{"final", "RUN", 20, []string{"."}},
	}
	if !slices.EqualFunc(rows, want, func(a, b row) bool {
		return a.stage == b.stage && a.instr == b.instr && a.line == b.line && slices.Equal(a.sources, b.sources)
	}) {
		t.Errorf("ContextCopies:\n got  %+v\n want %+v", rows, want)
	}
	if pats := IncludePatterns(got); pats != nil {
		t.Errorf("include patterns: %v, want the whole context (a bind mount of it)", pats)
	}
	if pats := IncludePatterns(got[:3]); !slices.Equal(pats, []string{"keys/id.pem", "keys/tok", "vendor/*.tar"}) {
		t.Errorf("include patterns: %v", pats)
	}

	// The build arg overrides the ARG default; the target limits the stages.
	got, err = mustView(t, df, Target{Stage: "builder", BuildArgs: map[string]string{"SRC": "other"}, Platform: p, BuildPlatform: p}).ContextCopies()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Sources[0] != "other/id.pem" || got[2].Sources[0] != "other/tok" {
		t.Errorf("target builder with SRC=other: %+v", got)
	}
}

func TestContextCopyBrings(t *testing.T) {
	tests := []struct {
		sources []string
		rel     string
		want    bool
	}{
		{[]string{"."}, "a/b/c", true},
		{[]string{"src"}, "src/main.go", true},
		{[]string{"src"}, "src", true},
		{[]string{"src"}, "srcx/main.go", false},
		{[]string{"*.pem"}, "key.pem", true},
		{[]string{"*.pem"}, "dir/key.pem", false},
		{[]string{"conf*"}, "config/app/key", true},
		{[]string{"app"}, "keys/id.pem", false},
	}
	for _, tt := range tests {
		c := ContextCopy{Sources: tt.sources}
		if got := c.Brings(tt.rel); got != tt.want {
			t.Errorf("%v brings %q = %v, want %v", tt.sources, tt.rel, got, tt.want)
		}
	}
	if got := cleanContextPath("/./a/../b/"); got != "b" {
		t.Errorf("cleanContextPath = %q", got)
	}
	if got := cleanContextPath("./"); got != "." {
		t.Errorf("cleanContextPath(./) = %q", got)
	}
}
