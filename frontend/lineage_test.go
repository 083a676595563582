package frontend

import (
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
)

// TestCopyImages: the images and named contexts a stage copies from —
// COPY --from and RUN --mount=from=, with ARGs expanded — are lineage
// sources; stages, by name or number, are not (they are sources as
// stages).
func TestCopyImages(t *testing.T) {
	df := `ARG PERL_IMAGE=debian:bookworm
FROM debian:bookworm AS kit
RUN true
FROM debian:bookworm
ARG PERL_IMAGE
COPY --from=kit /out/app /app/server
COPY --from=0 /out/app /app/server0
COPY --from=${PERL_IMAGE} /usr/bin/perl /app/bin/worker
COPY --from=tools /bin/x /app/x
RUN --mount=type=bind,from=busybox:musl,target=/m cp /m/bin/busybox /app/helper
RUN --mount=type=bind,from=kit,target=/k true
CMD ["/app/server"]
`
	f, err := dockerfilemodel.Parse([]byte(df))
	if err != nil {
		t.Fatal(err)
	}
	linux := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	view, err := f.For(dockerfilemodel.Target{Platform: linux, BuildPlatform: linux})
	if err != nil {
		t.Fatal(err)
	}
	stages := view.Stages()
	got := strings.Join(copyImages(view, stages, len(stages)-1), ",")
	if want := "debian:bookworm,tools,busybox:musl"; got != want {
		t.Errorf("copyImages = %s, want %s", got, want)
	}
}
