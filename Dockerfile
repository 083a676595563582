# The hardenkit frontend image. Users reference it with
#   # syntax=<registry>/hardenkit/frontend:<version>
# Offline (no base image pull), `make frontend-image` assembles the same image
# from a locally built static binary.
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-X github.com/hardenkit/hardenkit/frontend.Version=${VERSION}" \
      -o /out/hardenkit-frontend ./cmd/hardenkit-frontend
# The health probe distroless images take with COPY --from= (docs/healthcheck.md).
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/hardenkit-probe ./cmd/hardenkit-probe
# The frontend (user 65532) writes temporary files, e.g. the filesystem an
# SBOM is catalogued from.
RUN mkdir -p /out/tmp && chmod 1777 /out/tmp

FROM scratch
COPY --from=build /out/hardenkit-frontend /bin/hardenkit-frontend
COPY --from=build /out/hardenkit-probe /bin/hardenkit-probe
COPY --from=build /out/tmp /tmp
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
USER 65532:65532
# BuildKit runs a frontend for the length of one build; there is no service
# to probe.
HEALTHCHECK NONE
ENTRYPOINT ["/bin/hardenkit-frontend"]
