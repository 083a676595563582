package pin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
)

// fakeResolver answers from tables and records what it was asked.
type fakeResolver struct {
	images    []string
	urls      []string
	stages    []string
	built     [][]byte
	installed map[string]map[string]string
	fail      error
	mu        sync.Mutex
}

func (f *fakeResolver) ImageDigest(_ context.Context, ref string) (digest.Digest, error) {
	f.images = append(f.images, ref)
	if f.fail != nil {
		return "", f.fail
	}
	return digest.FromString(ref), nil
}

func (f *fakeResolver) URLDigest(_ context.Context, url string) (digest.Digest, error) {
	f.urls = append(f.urls, url)
	return digest.FromString(url), nil
}

func (f *fakeResolver) Installed(_ context.Context, dt []byte, stage string, _ map[string][]string) (map[string]map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stages = append(f.stages, stage)
	f.built = append(f.built, dt)
	return f.installed, nil
}

var debs = map[string]map[string]string{
	"apt": {"curl": "7.88.1-10+deb12u12", "ca-certificates": "20230311", "tzdata": "2024a-0+deb12u1"},
	"apk": {"curl": "8.9.1-r0"},
	"pip": {"flask": "3.0.3", "Jinja2": "3.1.4"},
	"npm": {"express": "4.21.2", "@types/node": "22.10.1"},
	"gem": {"sinatra": "4.1.1"},
}

func dig(ref string) string { return digest.FromString(ref).String() }

func TestDockerfile(t *testing.T) {
	deb := dig("docker.io/library/debian:bookworm")
	tests := []struct {
		name       string
		in         string
		buildArgs  map[string]string
		want       string
		wantStages []string
	}{
		{
			name:       "base and apt packages",
			in:         "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates\n",
			want:       "FROM debian:bookworm@" + deb + "\nRUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u12 ca-certificates=20230311\n",
			wantStages: []string{"hkpin-stage-0"},
		},
		{
			name: "comments and line continuations",
			in: "# syntax=docker/dockerfile:1\n# the builder\nFROM debian:bookworm AS build\n\n# tools\nRUN apt-get update && \\\n" +
				"    # the download tool\n    apt-get install -y \\\n\n      curl \\\n      'ca-certificates' \\\n && rm -rf /var/lib/apt/lists/*\n",
			want: "# syntax=docker/dockerfile:1\n# the builder\nFROM debian:bookworm@" + deb + " AS build\n\n# tools\nRUN apt-get update && \\\n" +
				"    # the download tool\n    apt-get install -y \\\n\n      curl=7.88.1-10+deb12u12 \\\n      'ca-certificates=20230311' \\\n && rm -rf /var/lib/apt/lists/*\n",
			wantStages: []string{"build"},
		},
		{
			name:       "heredoc",
			in:         "FROM debian:bookworm\nRUN <<EOF\nset -e\napt-get update\napt-get install -y tzdata\nEOF\nCMD [\"/bin/true\"]\n",
			want:       "FROM debian:bookworm@" + deb + "\nRUN <<EOF\nset -e\napt-get update\napt-get install -y tzdata=2024a-0+deb12u1\nEOF\nCMD [\"/bin/true\"]\n",
			wantStages: []string{"hkpin-stage-0"},
		},
		{
			name: "multiple FROMs, a stage reference and a second registry",
			in:   "FROM debian:bookworm AS base\nFROM base AS app\nRUN apt-get install -y curl\nFROM registry.example:5000/team/busybox:1.36\nCOPY --from=app /usr/bin/curl /curl\n",
			want: "FROM debian:bookworm@" + deb + " AS base\nFROM base AS app\nRUN apt-get install -y curl=7.88.1-10+deb12u12\nFROM registry.example:5000/team/busybox:1.36@" +
				dig("registry.example:5000/team/busybox:1.36") + "\nCOPY --from=app /usr/bin/curl /curl\n",
			wantStages: []string{"app"},
		},
		{
			name: "a builder and an unnamed runtime stage both build",
			in:   "FROM debian:bookworm AS build\nRUN apt-get install -y tzdata\nFROM debian:bookworm\nRUN apt-get install -y curl\nCOPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo\n",
			want: "FROM debian:bookworm@" + deb + " AS build\nRUN apt-get install -y tzdata=2024a-0+deb12u1\nFROM debian:bookworm@" + deb +
				"\nRUN apt-get install -y curl=7.88.1-10+deb12u12\nCOPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo\n",
			wantStages: []string{"build", "hkpin-stage-1"},
		},
		{
			name: "pip, npm and gem in their own syntax",
			in: "FROM debian:bookworm@" + deb + "\nRUN pip install --no-cache-dir flask 'Jinja2'\n" +
				"RUN npm install -g express @types/node && gem install --no-document sinatra\n",
			want: "FROM debian:bookworm@" + deb + "\nRUN pip install --no-cache-dir flask==3.0.3 'Jinja2==3.1.4'\n" +
				"RUN npm install -g express@4.21.2 @types/node@22.10.1 && gem install --no-document sinatra:4.1.1\n",
			wantStages: []string{"hkpin-stage-0"},
		},
		{
			name: "ARG-substituted image: the digest goes into the ARG",
			in:   "ARG BASE=debian:bookworm\nFROM ${BASE} AS one\nFROM $BASE\n",
			want: "ARG BASE=debian:bookworm@" + deb + "\nFROM ${BASE} AS one\nFROM $BASE\n",
		},
		{
			name: "quoted ARG default",
			in:   "ARG BASE=\"debian:bookworm\"\nFROM ${BASE}\n",
			want: "ARG BASE=\"debian:bookworm@" + deb + "\"\nFROM ${BASE}\n",
		},
		{
			name: "already pinned is left alone",
			in:   "FROM debian:bookworm@" + deb + "\nRUN apt-get install -y curl=7.88.1-10+deb12u12\nADD --checksum=sha256:" + strings.Repeat("a", 64) + " https://example.com/a.tgz /a.tgz\n",
			want: "FROM debian:bookworm@" + deb + "\nRUN apt-get install -y curl=7.88.1-10+deb12u12\nADD --checksum=sha256:" + strings.Repeat("a", 64) + " https://example.com/a.tgz /a.tgz\n",
		},
		{
			name: "--platform flag",
			in:   "FROM --platform=$BUILDPLATFORM debian:bookworm AS build\nFROM --platform=linux/arm64 alpine:3.20\nRUN apk add --no-cache curl\n",
			want: "FROM --platform=$BUILDPLATFORM debian:bookworm@" + deb + " AS build\nFROM --platform=linux/arm64 alpine:3.20@" +
				dig("docker.io/library/alpine:3.20") + "\nRUN apk add --no-cache curl=8.9.1-r0\n",
			wantStages: []string{"hkpin-stage-1"},
		},
		{
			name: "ADD of a URL gets --checksum",
			in:   "FROM scratch\nADD --chmod=0644 https://example.com/tool.tar.gz /tool.tar.gz\n",
			want: "FROM scratch\nADD --checksum=" + dig("https://example.com/tool.tar.gz") + " --chmod=0644 https://example.com/tool.tar.gz /tool.tar.gz\n",
		},
		{
			name:       "sh -c string and sudo",
			in:         "FROM debian:bookworm\nRUN sh -c 'apt-get update && sudo apt-get install -y curl'\n",
			want:       "FROM debian:bookworm@" + deb + "\nRUN sh -c 'apt-get update && sudo apt-get install -y curl=7.88.1-10+deb12u12'\n",
			wantStages: []string{"hkpin-stage-0"},
		},
		{
			name:       "CRLF line endings",
			in:         "FROM debian:bookworm\r\nRUN apt-get install -y curl\r\n",
			want:       "FROM debian:bookworm@" + deb + "\r\nRUN apt-get install -y curl=7.88.1-10+deb12u12\r\n",
			wantStages: []string{"hkpin-stage-0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeResolver{installed: debs}
			res, err := Dockerfile(context.Background(), []byte(tt.in), Options{BuildArgs: tt.buildArgs}, r)
			if err != nil {
				t.Fatalf("Dockerfile: %v", err)
			}
			if string(res.Data) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", res.Data, tt.want)
			}
			slices.Sort(r.stages) // stages build concurrently
			if !slices.Equal(r.stages, tt.wantStages) {
				t.Errorf("stages built = %q, want %q", r.stages, tt.wantStages)
			}
			for _, b := range r.built {
				if strings.Contains(string(b), "debian:bookworm\n") || strings.Contains(string(b), "debian:bookworm AS") {
					t.Errorf("a stage was built on the unpinned base:\n%s", b)
				}
			}
			// Idempotent: pinning the result changes nothing and resolves nothing.
			r2 := &fakeResolver{installed: debs}
			again, err := Dockerfile(context.Background(), res.Data, Options{BuildArgs: tt.buildArgs}, r2)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if string(again.Data) != string(res.Data) || len(again.Changes) != 0 {
				t.Errorf("second run changed the Dockerfile:\n%s", Diff("Dockerfile", res.Data, again.Data))
			}
			if len(r2.images)+len(r2.urls)+len(r2.stages) != 0 {
				t.Errorf("second run resolved %q %q %q", r2.images, r2.urls, r2.stages)
			}
		})
	}
}

func TestDockerfileRefuses(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		buildArgs map[string]string
		contexts  []string
		fail      error
		want      []string
	}{
		{
			name:     "base replaced by a named context",
			in:       "FROM docker.io/library/debian:bookworm AS a\nFROM alpine\n",
			contexts: []string{"debian:bookworm", "alpine"},
			want:     []string{"line 1: FROM docker.io/library/debian:bookworm builds on the --build-context", "line 2: FROM alpine builds on the --build-context"},
		},
		{
			name: "yum is not read",
			in:   "FROM fedora:41@" + dig("x") + "\nRUN dnf install -y curl\n",
			want: []string{"line 2: dnf installs curl: hardenkit pin reads the versions of apt, apk, pip, npm and gem packages only"},
		},
		{
			name: "pip specifier",
			in:   "FROM python:3.12@" + dig("x") + "\nRUN pip install 'flask>=3'\n",
			want: []string{`line 2: pip operand "flask>=3" carries a version specifier`},
		},
		{
			name: "npm tag",
			in:   "FROM node:22@" + dig("x") + "\nRUN npm install -g express@latest\n",
			want: []string{`line 2: npm operand "express@latest" names a tag or range`},
		},
		{
			name: "image built from ARGs",
			in:   "ARG V=bookworm\nFROM debian:${V}\n",
			want: []string{`line 2: the base image "debian:${V}" is built from ARGs`},
		},
		{
			name:      "image from --build-arg",
			in:        "ARG BASE=debian:bookworm\nFROM $BASE\n",
			buildArgs: map[string]string{"BASE": "debian:trixie"},
			want:      []string{"line 2: the base image comes from --build-arg BASE=debian:trixie"},
		},
		{
			name: "packages from a variable",
			in:   "FROM debian:bookworm@" + dig("x") + "\nENV PKGS=curl\nRUN apt-get install -y $PKGS\n",
			want: []string{"line 3: apt-get installs curl, but not all of them are written out"},
		},
		{
			name: "registry error names the image",
			in:   "FROM debian:bookworm\n",
			fail: errors.New("not found"),
			want: []string{"line 1: resolving base image docker.io/library/debian:bookworm: not found"},
		},
		{
			name: "ADD with two URLs",
			in:   "FROM scratch\nADD https://example.com/a https://example.com/b /d/\n",
			want: []string{"line 2: ADD has 2 sources"},
		},
		{
			name: "ONBUILD",
			in:   "FROM debian:bookworm@" + dig("x") + "\nONBUILD RUN apt-get install -y curl\n",
			want: []string{"line 2: ONBUILD RUN apt-get runs in the builds that use this image"},
		},
		{
			name: "apt release selection",
			in:   "FROM debian:bookworm@" + dig("x") + "\nRUN apt-get install -y -t bookworm-backports curl/bookworm-backports\n",
			want: []string{"line 2: apt-get curl/bookworm-backports selects a release"},
		},
		{
			name: "every refusal is listed",
			in:   "FROM debian:bookworm\nRUN zypper install -y curl\nRUN zypper in git\n",
			fail: errors.New("no registry"),
			want: []string{"line 1: resolving", "line 2: zypper installs curl", "line 3: zypper installs git"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeResolver{installed: debs, fail: tt.fail}
			res, err := Dockerfile(context.Background(), []byte(tt.in), Options{BuildArgs: tt.buildArgs, NamedContexts: tt.contexts}, r)
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, %v; want a RefusedError", res, err)
			}
			if len(re.Reasons) != len(tt.want) {
				t.Errorf("reasons = %q, want %d", re.Reasons, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				} else if i < len(re.Reasons) && !strings.Contains(re.Reasons[i], w) {
					t.Errorf("reason %d is %q, want %q: reasons go in line order", i, re.Reasons[i], w)
				}
			}
		})
	}
}

func TestDockerfileUnknownPackage(t *testing.T) {
	r := &fakeResolver{installed: map[string]map[string]string{"apt": {}}}
	_, err := Dockerfile(context.Background(), []byte("FROM debian:bookworm\nRUN apt-get install -y mail-transport-agent\n"), Options{}, r)
	if err == nil || !strings.Contains(err.Error(), `no package "mail-transport-agent" is installed in stage 0`) {
		t.Fatalf("got %v", err)
	}
}

func ExampleDiff() {
	fmt.Print(Diff("Dockerfile", []byte("# app\nFROM debian:bookworm\nRUN true\n"), []byte("# app\nFROM debian:bookworm@sha256:ab\nRUN true\n")))
	// Output:
	// --- Dockerfile
	// +++ Dockerfile (pinned)
	// @@ -1,3 +1,3 @@
	//  # app
	// -FROM debian:bookworm
	// +FROM debian:bookworm@sha256:ab
	//  RUN true
}
