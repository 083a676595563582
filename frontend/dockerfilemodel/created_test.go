package dockerfilemodel

import (
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestCreatedBy: a generated key is pointed at the instruction that made
// it — the package install whose maintainer script wrote it, the RUN that
// first names it — not at the last RUN.
func TestCreatedBy(t *testing.T) {
	df := `FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends postgresql && rm -rf /var/lib/apt/lists/*
RUN openssl genrsa -out /etc/app/key.pem 2048
RUN chmod 600 /etc/app/key.pem
COPY certs/ /etc/certs/
RUN su postgres -c "initdb -D /var/lib/postgresql/data"
`
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	o, err := mustView(t, df, Target{Platform: p, BuildPlatform: p}).Origins("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want, how string
		line            int
	}{
		{"/etc/ssl/private/ssl-cert-snakeoil.key", "created while RUN apt-get update", "run", 2},
		{"/etc/app/key.pem", "created by RUN openssl genrsa -out /etc/app/key.pem 2048 (Dockerfile:3), the first instruction that names it", "run", 3},
		{"/etc/certs/server.key", "written by COPY certs/ /etc/certs/ (Dockerfile:5)", "copy", 5},
	}
	for _, tt := range tests {
		what, how, rs := o.CreatedBy(tt.path)
		if !strings.Contains(what, tt.want) || how != tt.how || firstLine(rs) != tt.line {
			t.Errorf("CreatedBy(%s) = %q, %q, line %d; want %q, %q, line %d", tt.path, what, how, firstLine(rs), tt.want, tt.how, tt.line)
		}
	}

	noInstall, err := mustView(t, "FROM debian:bookworm\nRUN useradd app\n", Target{Platform: p, BuildPlatform: p}).Origins("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if what, how, _ := noInstall.CreatedBy("/etc/ssl/private/x.key"); how != "" || !strings.Contains(what, "from the base image") {
		t.Errorf("without a package install: %q, %q; want Of's answer", what, how)
	}
	withMount, err := mustView(t, "FROM debian:bookworm\nRUN --mount=type=cache,target=/var/cache/apt apt-get install -y ssl-cert\nRUN true\n", Target{Platform: p, BuildPlatform: p}).Origins("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if _, how, rs := withMount.CreatedBy("/etc/ssl/private/x.key"); how != "run" || firstLine(rs) != 2 {
		t.Errorf("RUN --mount apt-get install: %q at %d, want run at 2", how, firstLine(rs))
	}
}
