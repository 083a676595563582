package dockerfilemodel

import (
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestOrigins(t *testing.T) {
	df := `ARG BASE=debian:bookworm
FROM busybox AS gen
RUN mkdir /data && echo x > /data/x
FROM ${BASE} AS base
RUN apt-get update
FROM base
WORKDIR /app
COPY --from=gen /data ./data/
COPY server /usr/local/bin/server
COPY x ${DEST}/
RUN chmod 777 /srv
`
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	o, err := mustView(t, df, Target{Platform: p, BuildPlatform: p}).Origins("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	tests := []originCase{
		{"/app/data/x", "written by COPY --from=gen /data ./data/ (Dockerfile:8)", 8},
		{"/app/data", "written by COPY --from=gen /data ./data/ (Dockerfile:8)", 8},
		{"/usr/local/bin/server", "written by COPY server /usr/local/bin/server (Dockerfile:9)", 9},
		{"/srv", "written or changed by RUN chmod 777 /srv (Dockerfile:11), the last instruction that names it", 11},
		{"/data/x", "no COPY or ADD writes it: from the base image debian:bookworm, or changed by RUN chmod 777 /srv (Dockerfile:11)", 11},
		{"/sr", "no COPY or ADD writes it: from the base image debian:bookworm, or changed by RUN chmod 777 /srv (Dockerfile:11)", 11},
		{"/opt/thing", "no COPY or ADD writes it: from the base image debian:bookworm, or changed by RUN chmod 777 /srv (Dockerfile:11)", 11},
	}
	checkOrigins(t, o, tests)

	scratch, err := mustView(t, "FROM scratch\nCOPY a /a\n", Target{Platform: p, BuildPlatform: p}).Origins("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := scratch.Of("/etc/passwd"); got != "from the base image scratch (Dockerfile:1)" {
		t.Errorf("scratch of(/etc/passwd) = %q", got)
	}
}

// TestOriginsNamingRun: a path no COPY or ADD covers is attributed to the
// last RUN that names it as a whole path, even when a later RUN exists; a
// COPY after that RUN that covers it wins.
func TestOriginsNamingRun(t *testing.T) {
	df := `FROM busybox:1.35
RUN mkdir -p /app && mknod /app/mem c 1 1 && mkfifo /app/fifo
RUN echo done > /tmp/log
COPY conf/ /app/conf/
RUN touch /app/conf/x
`
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	o, err := mustView(t, df, Target{Platform: p, BuildPlatform: p}).Origins("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	tests := []originCase{
		{"/app/mem", "written or changed by RUN mkdir -p /app && mknod /app/mem c 1 1 && mkfifo /app/fifo (Dockerfile:2), the last instruction that names it", 2},
		{"/app/fifo", "written or changed by RUN mkdir -p /app && mknod /app/mem c 1 1 && mkfifo /app/fifo (Dockerfile:2), the last instruction that names it", 2},
		{"/app", "written or changed by RUN mkdir -p /app && mknod /app/mem c 1 1 && mkfifo /app/fifo (Dockerfile:2), the last instruction that names it", 2},
		{"/app/me", "no COPY or ADD writes it: from the base image busybox:1.35, or changed by RUN touch /app/conf/x (Dockerfile:5)", 5},
		{"/app/conf/x", "written or changed by RUN touch /app/conf/x (Dockerfile:5), the last instruction that names it", 5},
		{"/app/conf/y", "written by COPY conf/ /app/conf/ (Dockerfile:4)", 4},
	}
	checkOrigins(t, o, tests)
}

// originCase is a path and what Origins.Of must say about it.
type originCase struct {
	path, want string
	line       int
}

func checkOrigins(t *testing.T, o Origins, tests []originCase) {
	t.Helper()
	for _, tt := range tests {
		got, ranges := o.Of(tt.path)
		if got != tt.want {
			t.Errorf("of(%s) = %q, want %q", tt.path, got, tt.want)
		}
		if firstLine(ranges) != tt.line {
			t.Errorf("of(%s) ranges start at line %d, want %d", tt.path, firstLine(ranges), tt.line)
		}
	}
}
