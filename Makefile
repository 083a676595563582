# hardenkit — run everything as root on Debian (bookworm).
#   make demo   build the examples with hardenkit and show what came out
#   make test   unit + integration tests (real buildkitd, local registry)

SHELL           := /bin/bash
GO              ?= go
BIN             := $(CURDIR)/bin
BUILDKIT_VERSION := v0.34.2
BUILDX_VERSION  := v0.38.2
VERSION         ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS         := -X github.com/hardenkit/hardenkit/frontend.Version=$(VERSION)
DEVENV          := $(GO) run ./integration/cmd/devenv
APT_PACKAGES    := runc busybox-static mmdebstrap ca-certificates git dash bash perl-base python3 coreutils libcap2-bin gcc
DEMO_OUT        := $(CURDIR)/out/demo

.PHONY: all build examples deps buildx test test-unit test-integration vet devenv devenv-down frontend-image demo bench clean

all: build

## deps: Debian packages the daemon, the base images and the unit tests' host fixtures need (idempotent).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## build: the CLI, the frontend binary and a buildkitd/buildctl pinned by go.mod.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/hardenkit ./cmd/hardenkit
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/hardenkit-frontend ./cmd/hardenkit-frontend
	$(GO) build -ldflags "-X github.com/moby/buildkit/version.Version=$(BUILDKIT_VERSION)" -o $(BIN)/buildkitd github.com/moby/buildkit/cmd/buildkitd
	$(GO) build -ldflags "-X github.com/moby/buildkit/version.Version=$(BUILDKIT_VERSION)" -o $(BIN)/buildctl github.com/moby/buildkit/cmd/buildctl

## examples: prebuilt binaries some examples copy in (static-site's server).
examples:
	CGO_ENABLED=0 $(GO) build -trimpath -o examples/static-site/bin/server ./examples/static-site/server

## buildx: the docker buildx CLI plugin (remote driver needs no docker daemon).
buildx: $(BIN)/docker-buildx
$(BIN)/docker-buildx:
	mkdir -p $(BIN)
	GOBIN=$(BIN) GOFLAGS= $(GO) install github.com/docker/buildx/cmd/buildx@$(BUILDX_VERSION)
	mv $(BIN)/buildx $(BIN)/docker-buildx

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go'))" || { gofmt -l $$(git ls-files -co --exclude-standard '*.go'); echo "gofmt needed"; exit 1; }

test-unit: deps
	$(GO) test -race -count=1 -timeout 30m $$($(GO) list ./... | grep -v /integration$$)

## fuzz: every fuzz target of the repository for FUZZTIME each (default 5s; each package also compiles with fuzzing instrumentation).
fuzz:
	@set -e; for f in $$(git ls-files '*_test.go' | xargs grep -l '^func Fuzz'); do for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do echo "== $$t ./$$(dirname $$f)"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-5s} ./$$(dirname $$f); done; done

test-integration: deps buildx
	@mkdir -p out
	set -o pipefail; HARDENKIT_BUILDX=$(BIN)/docker-buildx $(GO) test -count=1 -timeout 80m -v ./integration/ 2>&1 | tee $(CURDIR)/out/integration.log | awk -f .ci/test-lines.awk

## test: everything — vet, unit tests, integration tests.
test: vet test-unit test-integration

## devenv: start (or reuse) buildkitd + registry + base images + frontend image; prints exports.
devenv: deps
	@$(DEVENV) up

devenv-down:
	@$(DEVENV) down

## frontend-image: assemble the frontend image from a local static binary.
##   make frontend-image PUSH=127.0.0.1:5055/hardenkit/frontend:dev   or   OCI_LAYOUT=out/frontend
##   ORG_POLICY=policy.yaml bakes an organisation policy into it (/etc/hardenkit/policy.yaml).
frontend-image:
	$(DEVENV) frontend-image $(if $(PUSH),--push $(PUSH)) $(if $(OCI_LAYOUT),--oci-layout $(OCI_LAYOUT)) $(if $(ORG_POLICY),--org-policy $(ORG_POLICY))

## demo: build examples/ with hardenkit against the dev environment, show the result, end with the report.
##   Steps that do not depend on each other run side by side; buildkitd is built once (by the dev environment).
demo: deps
	@examples/demo.sh $(BIN) $(DEMO_OUT) "$(LDFLAGS)"

## bench: `# syntax=` hardenkit vs plain dockerfile.v0 through buildctl (size, cold and cached build time, hardening MB/s on a 1 GiB tree), the static check, SBOM, secret scan and release verify.
bench: deps build examples
	@mkdir -p out
	@$(DEVENV) up > out/bench-env.sh
	@. out/bench-env.sh && $(GO) run ./integration/cmd/bench -buildctl $(BIN)/buildctl -runs 3
	@$(GO) test -run '^$$' -bench 'Check500LinesWithPolicy|Parse500Lines' -benchtime 50x ./frontend/dockerfilecheck/ | \
		awk '/^Benchmark/ {ms[$$1]=$$3/1e6; print $$1, ms[$$1], "ms/op"} END {for (k in ms) if (k ~ /Check500/) c=ms[k]; else p=ms[k]; if (p>0) printf "static check / BuildKit parse ratio: %.1f\n", c/p}'
	@echo "SBOM of the Debian minbase rootfs: hardenkit (syft library) vs the syft CLI"
	@BENCHTIME=3x frontend/evidence/sbom/bench.sh
	@echo "secret scan throughput (frontend/secrets)"
	@$(GO) test -run '^$$' -bench 'ScanDebianRootfs' -benchtime 3x ./frontend/secrets/ | grep -E '^Benchmark'
	@echo "inspection scan throughput (MB/s): in-build scanner vs gateway walk vs gitleaks CLI vs library, Debian rootfs and a 500 MB tree"
	@. out/bench-env.sh && $(GO) run ./integration/cmd/scanbench -runs 3
	@echo "release verify: hardenkit verify vs cosign's verification, time and registry round trips"
	@. out/bench-env.sh && $(GO) run ./integration/cmd/releasebench -hardenkit $(BIN)/hardenkit -runs 5

clean:
	rm -rf $(BIN) out
