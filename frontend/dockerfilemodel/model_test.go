package dockerfilemodel

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// mustView parses df and returns its view for t.
func mustView(t *testing.T, df string, target Target) *View {
	t.Helper()
	f, err := Parse([]byte(df))
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.For(target)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var amd64 = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

// TestShippedRepeatedName: with a stage name used twice, BuildKit builds
// the LAST stage of that name (it keeps stages in a map by name), and a
// FROM refers to the last earlier stage of that name. The shipped stage is
// that one, with its own USER line and base.
func TestShippedRepeatedName(t *testing.T) {
	const df = `FROM alpine:3.19 AS app
USER 1000
FROM busybox:1.36 AS base
FROM debian:12 AS app
USER root
FROM base AS app2
`
	tests := []struct {
		target, base, baseStage string
		user                    int
	}{
		{"app", "debian:12", "", 5},
		{"", "base", "base", 0},
		{"app2", "base", "base", 0},
	}
	for _, tt := range tests {
		v := mustView(t, df, Target{Stage: tt.target, Platform: amd64, BuildPlatform: amd64})
		got, err := v.Shipped()
		if err != nil {
			t.Fatal(err)
		}
		if got.BaseName != tt.base || got.BaseStage != tt.baseStage || firstLine(got.Lines.User) != tt.user {
			t.Errorf("target %q: base %q stage %q USER line %d, want %q %q %d", tt.target, got.BaseName, got.BaseStage, firstLine(got.Lines.User), tt.base, tt.baseStage, tt.user)
		}
	}
}

// TestShippedLines: USER, CMD, ENTRYPOINT and HEALTHCHECK come from the
// latest stage of the chain that sets them; FROM is the shipped stage's.
func TestShippedLines(t *testing.T) {
	const df = `FROM busybox AS base
USER 1000
CMD ["a"]
HEALTHCHECK CMD true
FROM base
ENTRYPOINT ["b"]
CMD ["c"]
`
	got, err := mustView(t, df, Target{Platform: amd64, BuildPlatform: amd64}).Shipped()
	if err != nil {
		t.Fatal(err)
	}
	l := got.Lines
	if lines := []int{firstLine(l.From), firstLine(l.User), firstLine(l.Cmd), firstLine(l.Entrypoint), firstLine(l.Healthcheck)}; !slices.Equal(lines, []int{5, 2, 7, 6, 4}) {
		t.Errorf("FROM, USER, CMD, ENTRYPOINT, HEALTHCHECK lines = %v", lines)
	}
}

// TestPlatformArgs: the automatic ARGs are BuildKit's eleven, with its
// formats (TARGETPLATFORM keeps the variant), and a build argument
// overrides one.
func TestPlatformArgs(t *testing.T) {
	arm := ocispecs.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	got := PlatformArgs(amd64, arm, "", map[string]string{"BUILDARCH": "x"})
	want := map[string]string{
		"BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDOSVERSION": "", "BUILDARCH": "x", "BUILDVARIANT": "",
		"TARGETPLATFORM": "linux/arm/v7", "TARGETOS": "linux", "TARGETOSVERSION": "", "TARGETARCH": "arm", "TARGETVARIANT": "v7",
		"TARGETSTAGE": "default",
	}
	if !maps.Equal(got, want) {
		t.Errorf("PlatformArgs = %v, want %v", got, want)
	}
}

// TestExpandPlatformArgs: a FROM line sees the platform ARGs, the global
// ARGs with build arguments over their defaults, and TARGETSTAGE.
func TestExpandPlatformArgs(t *testing.T) {
	const df = `ARG TAG=1
ARG IMG=busybox:${TAG}-${TARGETARCH}
FROM ${IMG} AS final
`
	v := mustView(t, df, Target{BuildArgs: map[string]string{"TAG": "2"}, Platform: ocispecs.Platform{OS: "linux", Architecture: "arm64"}, BuildPlatform: amd64})
	got, err := v.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	if got.BaseName != "busybox:2-arm64" {
		t.Errorf("base = %q", got.BaseName)
	}
	if s, _ := v.Expand("${TARGETSTAGE}"); s != "final" {
		t.Errorf("TARGETSTAGE = %q", s)
	}
}

// TestReachable: only the stages a build runs have their base image's
// triggers checked (and resolved): an unused stage's triggers never run.
func TestReachable(t *testing.T) {
	df := `FROM private.example/unused AS unused
RUN true
FROM busybox AS mnt
FROM busybox AS lib
RUN --mount=type=bind,from=mnt,target=/m true
FROM busybox AS base
FROM base
COPY --from=lib /x /x
COPY --from=1 /y /y
`
	for _, tt := range []struct {
		target string
		want   []int
	}{
		{"", []int{1, 2, 3, 4}},
		{"lib", []int{1, 2}},
		{"base", []int{3}},
	} {
		v := mustView(t, df, Target{Stage: tt.target, Platform: amd64, BuildPlatform: amd64})
		got, err := v.Reachable()
		if err != nil {
			t.Fatal(err)
		}
		var ids []int
		for i := range v.Stages() {
			if got[i] {
				ids = append(ids, i)
			}
		}
		if fmt.Sprint(ids) != fmt.Sprint(tt.want) {
			t.Errorf("target %q: stages %v, want %v", tt.target, ids, tt.want)
		}
	}
}

// TestImageBases: the image bases of the stages the build runs, with FROM
// --platform= resolved.
func TestImageBases(t *testing.T) {
	df := `FROM private.example/unused AS unused
FROM --platform=linux/arm64 busybox AS tools
FROM scratch
COPY --from=tools /x /x
`
	got, err := mustView(t, df, Target{Platform: amd64, BuildPlatform: amd64}).ImageBases()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Image != "busybox" || got[0].Stage != "tools" || got[0].FromLine != 2 || got[0].Platform.Architecture != "arm64" {
		t.Errorf("ImageBases = %+v", got)
	}
}

// TestTargetNotFound: a build of a stage the Dockerfile lacks has no view.
func TestTargetNotFound(t *testing.T) {
	f, err := Parse([]byte("FROM scratch\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.For(Target{Stage: "nope"}); err == nil {
		t.Error("For(nope) succeeded")
	}
	if _, err := Parse([]byte("ARG X=1\n")); err == nil {
		t.Error("a Dockerfile without stages parsed")
	}
}

// TestStageArgsInMounts: a RUN mount's options expand with the stage's own
// ARG and ENV lines, as dockerfile2llb expands them, so uid=${UID} after
// `ARG UID=1000` is a mount, not an error, and a bind mount's source
// follows the stage's ARG (a build argument overriding its default).
func TestStageArgsInMounts(t *testing.T) {
	const df = `FROM busybox AS tools
FROM alpine:3.20
ARG UID=1000
ARG SRC=conf
ENV DIR=/cache
RUN --mount=type=cache,target=${DIR},uid=${UID} --mount=from=tools,target=/t true
RUN --mount=type=bind,source=${SRC},target=/src true
`
	tests := []struct {
		name      string
		buildArgs map[string]string
		want      string
	}{
		{"defaults", nil, "conf"},
		{"build argument", map[string]string{"SRC": "etc"}, "etc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustView(t, df, Target{Platform: amd64, BuildPlatform: amd64, BuildArgs: tt.buildArgs})
			bases, err := v.ImageBases()
			if err != nil {
				t.Fatalf("ImageBases: %v", err)
			}
			if len(bases) != 2 {
				t.Errorf("ImageBases = %+v, want alpine and the tools stage's busybox", bases)
			}
			copies, err := v.ContextCopies()
			if err != nil {
				t.Fatalf("ContextCopies: %v", err)
			}
			if len(copies) != 1 || copies[0].Instruction != "RUN" || len(copies[0].Sources) != 1 || copies[0].Sources[0] != tt.want {
				t.Errorf("ContextCopies = %+v, want the RUN's bind mount of %s", copies, tt.want)
			}
		})
	}
}

// TestGlobalArgWithoutValue: a global ARG with neither a default nor a
// build argument is not set, as in dockerfile2llb's buildMetaArgs: it does
// not blank out an automatic platform ARG, and ${V-unset} sees it unset.
func TestGlobalArgWithoutValue(t *testing.T) {
	tests := []struct{ df, want string }{
		{"ARG TARGETARCH\nFROM img-${TARGETARCH}\n", "img-amd64"},
		{"ARG V\nFROM img${V-unset}\n", "imgunset"},
	}
	for _, tt := range tests {
		got, err := mustView(t, tt.df, Target{Platform: amd64, BuildPlatform: amd64}).base(0)
		if err != nil || got != tt.want {
			t.Errorf("%q: base = %q, %v; want %q", tt.df, got, err, tt.want)
		}
	}
}
