package dockerfilecheck

import (
	"testing"

	"github.com/hardenkit/hardenkit/frontend/policy"
)

func allowList(t *testing.T, bases ...policy.BaseImage) *policy.Policy {
	return strictWith(t, func(p *policy.Policy) { p.Controls.Distroless.AllowedBases = bases })
}

func TestBaseImageNotAllowed(t *testing.T) {
	distroless := allowList(t, policy.BaseImage{Pattern: "gcr.io/distroless/*"}, policy.BaseImage{Pattern: "alpine:3.20"})
	pinned := allowList(t, policy.BaseImage{Pattern: "gcr.io/distroless/static-debian12", Digest: testDigest})
	runRuleCases(t, "HK1002", []ruleCase{
		{name: "no allow-list", df: "FROM debian:bookworm\n"},
		{name: "not allowed", df: "FROM debian:bookworm\n", opt: Options{Policy: distroless}, want: []int{1}, msg: "gcr.io/distroless/*, alpine:3.20"},
		{name: "glob matches", df: "FROM gcr.io/distroless/static-debian12:nonroot\n", opt: Options{Policy: distroless}},
		{name: "glob stays in its segment", df: "FROM gcr.io/distroless/x/y\n", opt: Options{Policy: distroless}, want: []int{1}},
		{name: "tag must match", df: "FROM alpine:3.19\n", opt: Options{Policy: distroless}, want: []int{1}},
		{name: "normalized name", df: "FROM docker.io/library/alpine:3.20\n", opt: Options{Policy: distroless}},
		{name: "scratch is always allowed", df: "FROM scratch\n", opt: Options{Policy: distroless}},
		{name: "digest required", df: "FROM gcr.io/distroless/static-debian12\n", opt: Options{Policy: pinned}, want: []int{1}},
		{name: "digest matches", df: "FROM gcr.io/distroless/static-debian12@" + testDigest + "\n", opt: Options{Policy: pinned}},
		{name: "multi-stage: builder bases are not restricted", df: `FROM golang:1.22 AS build
RUN go build -o /app
FROM gcr.io/distroless/static-debian12
COPY --from=build /app /app
`, opt: Options{Policy: distroless}},
		{name: "multi-stage: shipped stage inherits its root's base", df: `FROM debian:bookworm AS base
RUN true
FROM base
`, opt: Options{Policy: distroless}, want: []int{1}},
		{name: "target selects the shipped stage", df: `FROM debian:bookworm AS debug
FROM gcr.io/distroless/base
`, opt: Options{Policy: distroless, Target: "debug"}, want: []int{1}},
		{name: "ARG-expanded base", df: "ARG BASE=gcr.io/distroless/cc\nFROM ${BASE}\n", opt: Options{Policy: distroless}},
		{name: "ARG-expanded to a disallowed base", df: "ARG BASE=gcr.io/distroless/cc\nFROM ${BASE}\n",
			opt: Options{Policy: distroless, BuildArgs: map[string]string{"BASE": "ubuntu:24.04"}}, want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM §\nubuntu:24.04\n"), opt: Options{Policy: distroless}, want: []int{2}},
	})
}
