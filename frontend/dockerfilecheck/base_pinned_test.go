package dockerfilecheck

import (
	"errors"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func TestBaseImageNotPinned(t *testing.T) {
	runRuleCases(t, "HK1001", []ruleCase{
		{name: "tag only", df: "FROM debian:bookworm\n", want: []int{1}, msg: "debian:bookworm@sha256:<digest>"},
		{name: "digest", df: "FROM debian:bookworm@" + testDigest + "\n"},
		{name: "digest without tag", df: "FROM debian@" + testDigest + "\n"},
		{name: "scratch", df: "FROM scratch\nCOPY a /a\n"},
		{name: "multi-stage: builder counts, stage reference does not", df: `FROM golang:1.22 AS build
RUN go build
FROM build AS test
FROM gcr.io/distroless/static@` + testDigest + `
COPY --from=build /app /app
`, want: []int{1}},
		{name: "ARG-expanded global default", df: `ARG IMG=debian:bookworm
FROM ${IMG}
`, want: []int{2}, msg: `"debian:bookworm" (from "${IMG}")`},
		{name: "ARG-expanded build arg pins it", df: `ARG IMG=debian:bookworm
FROM $IMG
`, opt: Options{BuildArgs: map[string]string{"IMG": "debian@" + testDigest}}},
		{name: "ARG in the tag", df: `ARG GO_VERSION=1.22
FROM golang:${GO_VERSION}-bookworm AS build
`, want: []int{2}, msg: `"golang:1.22-bookworm"`},
		{name: "unresolvable name is left to BuildKit", df: "FROM ${NOPE}:1\n"},
		{name: "line continuation", df: "FROM \\\n  debian:bookworm \\\n  AS base\n", want: []int{1}},
		{name: "escape directive", df: bt("# escape=§\nFROM §\n  debian:bookworm\n"), want: []int{2}},
		{name: "platform flag", df: "FROM --platform=$BUILDPLATFORM alpine:3.20 AS x\n", want: []int{1}},
	})
}

func TestBaseImageLatestTag(t *testing.T) {
	runRuleCases(t, "HK1003", []ruleCase{
		{name: "no tag", df: "FROM debian\n", want: []int{1}, msg: "no tag"},
		{name: "latest", df: "FROM debian:latest\n", want: []int{1}, msg: "latest tag"},
		{name: "versioned", df: "FROM debian:bookworm\n"},
		{name: "latest pinned by digest", df: "FROM debian:latest@" + testDigest + "\n"},
		{name: "registry with port, no tag", df: "FROM registry.example:5000/team/app\n", want: []int{1}},
		{name: "scratch", df: "FROM scratch\n"},
		{name: "multi-stage builder", df: "FROM node AS build\nFROM node:22-slim\n", want: []int{1}},
		{name: "ARG-expanded to latest by build arg", df: "ARG TAG=1.0\nFROM app:${TAG}\n",
			opt: Options{BuildArgs: map[string]string{"TAG": "latest"}}, want: []int{2}},
		{name: "ARG default without tag", df: "ARG BASE=alpine\nFROM $BASE\n", want: []int{2}, msg: `(from "$BASE")`},
		{name: "escape directive continuation", df: bt("# escape=§\nFROM alpine§\n:latest\n"), want: []int{2}},
	})
}

func TestOnbuildFromIsAParseError(t *testing.T) {
	_, err := Check([]byte("FROM alpine:3.20\nONBUILD FROM debian\n"), Options{})
	var le *parser.LocationError
	if !errors.As(err, &le) {
		t.Fatalf("Check() error = %v, want a *parser.LocationError", err)
	}
	if got := le.Locations[0][0].Start.Line; got != 2 {
		t.Errorf("error line = %d, want 2", got)
	}
}
