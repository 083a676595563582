package frontend

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
	o, err := shippedOrigins([]byte(df), "Dockerfile", "", nil, p, p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
		line       int
	}{
		{"/app/data/x", "written by COPY --from=gen /data ./data/ (Dockerfile:8)", 8},
		{"/app/data", "written by COPY --from=gen /data ./data/ (Dockerfile:8)", 8},
		{"/usr/local/bin/server", "written by COPY server /usr/local/bin/server (Dockerfile:9)", 9},
		{"/srv", "no COPY or ADD writes it: from the base image debian:bookworm, or changed by RUN chmod 777 /srv (Dockerfile:11)", 11},
		{"/opt/thing", "no COPY or ADD writes it: from the base image debian:bookworm, or changed by RUN chmod 777 /srv (Dockerfile:11)", 11},
	}
	for _, tt := range tests {
		got, ranges := o.of(tt.path)
		if got != tt.want {
			t.Errorf("of(%s) = %q, want %q", tt.path, got, tt.want)
		}
		if firstRangeLine(ranges) != tt.line {
			t.Errorf("of(%s) ranges start at line %d, want %d", tt.path, firstRangeLine(ranges), tt.line)
		}
	}

	scratch, err := shippedOrigins([]byte("FROM scratch\nCOPY a /a\n"), "Dockerfile", "", nil, p, p)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := scratch.of("/etc/passwd"); got != "from the base image scratch (Dockerfile:1)" {
		t.Errorf("scratch of(/etc/passwd) = %q", got)
	}
}
