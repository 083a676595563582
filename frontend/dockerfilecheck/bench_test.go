package dockerfilecheck

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hardenkit/hardenkit/frontend/policy"
)

// generatedDockerfile builds a realistic multi-stage Dockerfile of about n
// lines: ARGs, package installs with continuations, heredocs, downloads,
// COPY/ADD, ENV, and a shipped stage with USER/CMD/HEALTHCHECK.
func generatedDockerfile(n int) string {
	var b strings.Builder
	lines := 0
	w := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		b.WriteString(s)
		lines += strings.Count(s, "\n")
	}
	w("# syntax=docker/dockerfile:1\nARG GO_VERSION=1.22\nARG BASE=debian:bookworm\n")
	for stage := 0; lines < n-12; stage++ {
		w("FROM ${BASE} AS stage%d\n", stage)
		w("ARG VERSION=1.%d.0\nENV APP_HOME=/opt/app%d PATH=/opt/app%d/bin:$PATH\n", stage, stage, stage)
		for i := 0; i < 6 && lines < n-12; i++ {
			w("RUN apt-get update \\\n    && apt-get install -y --no-install-recommends ca-certificates=2023%d curl git=1:2.39 \\\n    && rm -rf /var/lib/apt/lists/*\n", i)
			w("RUN curl -fsSL https://example.com/tool-${VERSION}.tar.gz -o /tmp/t.tgz && echo \"abc  /tmp/t.tgz\" | sha256sum -c && tar -xzf /tmp/t.tgz -C /usr/local\n")
			w("RUN <<EOF\nset -eux\npip install --no-cache-dir flask==3.0.%d requests\nnpm install -g typescript@5.4.%d\nEOF\n", i, i)
			w("COPY src/ $APP_HOME/src/\nADD https://example.com/data-%d.bin --checksum=sha256:%s /data/\n", i, strings.Repeat("a", 64))
			w("WORKDIR $APP_HOME\nRUN make -j2 build && ./bin/app --version | tee /tmp/v\n")
		}
	}
	w("FROM gcr.io/distroless/static-debian12@%s\n", testDigest)
	w("COPY --from=stage0 /opt/app0/bin/app /app\nUSER 65532:65532\nEXPOSE 8080\n")
	w("HEALTHCHECK --interval=30s CMD [\"/app\", \"health\"]\nENTRYPOINT [\"/app\"]\n")
	return b.String()
}

func TestGeneratedDockerfileSize(t *testing.T) {
	df := generatedDockerfile(500)
	if n := strings.Count(df, "\n"); n < 490 || n > 520 {
		t.Fatalf("generated Dockerfile has %d lines, want about 500", n)
	}
	if _, err := Check([]byte(df), Options{}); err != nil {
		t.Fatalf("Check() error = %v", err)
	}
}

// BenchmarkCheck500Lines measures a full static check of a 500-line
// multi-stage Dockerfile (parse, expansion, shell parsing, every rule).
func BenchmarkCheck500Lines(b *testing.B) {
	dt := []byte(generatedDockerfile(500))
	opt := Options{BuildArgs: map[string]string{"VERSION": "2.0.0"}, HasDockerignore: true, DockerignorePatterns: goodIgnore}
	b.ReportAllocs()
	b.SetBytes(int64(len(dt)))
	for b.Loop() {
		if _, err := Check(dt, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck500LinesWithPolicy is BenchmarkCheck500Lines with the
// policy already loaded, as the frontend calls Check.
func BenchmarkCheck500LinesWithPolicy(b *testing.B) {
	dt := []byte(generatedDockerfile(500))
	opt := Options{BuildArgs: map[string]string{"VERSION": "2.0.0"}, HasDockerignore: true, DockerignorePatterns: goodIgnore,
		Policy: strictWith(b, func(*policy.Policy) {})}
	b.ReportAllocs()
	b.SetBytes(int64(len(dt)))
	for b.Loop() {
		if _, err := Check(dt, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse500Lines is the baseline: BuildKit's own parse of the same
// Dockerfile, which any frontend does before converting it.
func BenchmarkParse500Lines(b *testing.B) {
	dt := []byte(generatedDockerfile(500))
	b.ReportAllocs()
	b.SetBytes(int64(len(dt)))
	for b.Loop() {
		res, err := parser.Parse(bytes.NewReader(dt))
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := instructions.Parse(res.AST, &linter.Linter{}); err != nil {
			b.Fatal(err)
		}
	}
}
