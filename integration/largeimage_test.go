package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
)

// largeFiles is how many files the many-files image ships, a few bytes
// each to keep CI fast; a dpkg database names the package that owns them,
// and apt's record says it was asked for by name (a data package, so it
// ships: pkg/keep/runtimeext.go).
// (syft does not list files without digests in the package database, so
// this SBOM stays small: that documents over 16 MiB never enter an LLB
// definition is checked by TestEvidenceState and sbomstep's tests.)
const largeFiles = 100_000

// transportFailures are what a build that hit a gRPC limit, or a step that
// failed without saying why, prints.
var transportFailures = []string{"ResourceExhausted", "larger than max", "message larger", "grpc: received message"}

// TestLargeImages builds an image of 100,000 files and one that copies the
// whole Debian base image (`COPY --from=debian / /`) through `# syntax=`
// and the CLI. Each must build hardened, or fail on a finding that names
// its rule, never on a transport limit or a bare "exit code: 1".
func TestLargeImages(t *testing.T) {
	if env.BaseDebian == "" {
		t.Fatal("the dev environment has no Debian base image")
	}
	root, err := filepath.Abs(filepath.Join("..", "examples", "static-site"))
	if err != nil {
		t.Fatal(err)
	}
	var sbomDigests []string
	cases := []struct {
		name, dockerfile string
		check            func(t *testing.T, out, tar string, err error)
	}{
		{
			name: "100k-files",
			dockerfile: `FROM busybox:1.35 AS gen
RUN mkdir -p /data /var/lib/dpkg/info && cd /data && for d in $(seq 0 99); do mkdir $d; for f in $(seq 0 999); do echo "$d/$f" > $d/$f; echo "/data/$d/$f"; done >> /var/lib/dpkg/info/bigdata.list; done && printf 'Package: bigdata\nStatus: install ok installed\nPriority: optional\nSection: misc\nMaintainer: hardenkit tests <tests@example.invalid>\nArchitecture: all\nVersion: 1.0\nDescription: 100,000 small files\n' > /var/lib/dpkg/status && mkdir -p /var/lib/apt && : > /var/lib/apt/extended_states
FROM scratch
COPY --from=gen /data /data
COPY --from=gen /var/lib/dpkg /var/lib/dpkg
COPY --from=gen /var/lib/apt /var/lib/apt
COPY bin/server /server
ENTRYPOINT ["/server"]
`,
			check: func(t *testing.T, out, tar string, err error) {
				if err != nil {
					t.Fatalf("build failed: %v\n%s", err, tail(out, 80))
				}
				img := readImage(t, tar)
				files, err := img.Files()
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for p := range files {
					if strings.HasPrefix(p, "/data/") && strings.Count(p, "/") == 3 {
						n++
					}
				}
				if n != largeFiles {
					t.Errorf("%d files under /data ship, want %d", n, largeFiles)
				}
				if got := string(files["/data/42/917"].Content); got != "42/917\n" {
					t.Errorf("/data/42/917 = %q", got)
				}
				atts := readAttestations(t, tar, img)
				spdx := atts["https://spdx.dev/Document"]
				if len(spdx) != 1 || !strings.Contains(string(spdx[0]), `"bigdata"`) {
					t.Fatalf("%d SPDX attestations, want one listing the package bigdata", len(spdx))
				}
				if len(atts[compliance.PredicateType]) != 1 || len(atts["https://cyclonedx.org/bom"]) != 1 {
					t.Errorf("attestations: %d compliance, %d CycloneDX, want 1 each", len(atts[compliance.PredicateType]), len(atts["https://cyclonedx.org/bom"]))
				}
				var comp struct {
					Predicate struct {
						SBOM struct{ Digest string } `json:"sbom"`
					} `json:"predicate"`
				}
				if err := json.Unmarshal(atts[compliance.PredicateType][0], &comp); err != nil || !strings.HasPrefix(comp.Predicate.SBOM.Digest, "sha256:") {
					t.Errorf("compliance statement's SBOM digest %q (%v)", comp.Predicate.SBOM.Digest, err)
				}
				// The SBOM step of the frontend image and syft in the CLI
				// are the same code on the same files: the same document.
				sbomDigests = append(sbomDigests, comp.Predicate.SBOM.Digest)
				if len(sbomDigests) > 1 && sbomDigests[0] != sbomDigests[len(sbomDigests)-1] {
					t.Errorf("SBOM digests differ between paths: %v", sbomDigests)
				}
			},
		},
		{
			name: "copy-debian-root",
			dockerfile: `FROM debian:bookworm AS debian
FROM scratch
COPY --from=debian / /
COPY bin/server /server
ENTRYPOINT ["/server"]
`,
			check: func(t *testing.T, out, tar string, err error) {
				if err == nil {
					img := readImage(t, tar)
					files, err := img.Files()
					if err != nil {
						t.Fatal(err)
					}
					if u := img.Config["config"].(map[string]any)["User"]; u != "65532:65532" {
						t.Errorf("User = %v, want the injected 65532:65532", u)
					}
					for _, gone := range []string{"/bin/sh", "/usr/bin/sh", "/usr/bin/dash", "/usr/bin/bash", "/usr/bin/apt-get", "/usr/bin/dpkg"} {
						if _, ok := files[gone]; ok {
							t.Errorf("%s ships", gone)
						}
					}
					if _, ok := files["/server"]; !ok {
						t.Error("/server is missing")
					}
					return
				}
				// A real finding fails the build with its rule and what to do.
				if !regexp.MustCompile(`HK[0-9]{4}`).MatchString(out) {
					t.Errorf("the build failed without naming a rule:\n%s", tail(out, 80))
				}
			},
		},
	}
	paths := []userPath{userPaths[0], userPaths[1]} // # syntax= (buildctl) and the CLI
	for _, tc := range cases {
		dir := t.TempDir()
		df := filepath.Join(dir, "Dockerfile")
		if err := os.WriteFile(df, []byte(tc.dockerfile), 0o644); err != nil {
			t.Fatal(err)
		}
		// The examples' policy: their base images are built on each
		// machine, so FROM lines cannot be pinned by digest.
		pol, err := os.ReadFile(filepath.Join(root, "hardenkit.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "hardenkit.yaml"), pol, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			t.Run(tc.name+"/"+p.name, func(t *testing.T) {
				tar := filepath.Join(t.TempDir(), "image.tar")
				// One epoch on both paths: the CLI would pass the commit
				// time, and the hardened layer of 100,000 files would be
				// copied twice instead of coming from the cache.
				out, err := p.build(context.Background(), t, root, df, tar, []string{"SOURCE_DATE_EPOCH=0"})
				for _, bad := range transportFailures {
					if strings.Contains(out, bad) {
						t.Fatalf("the build hit a transport limit (%q):\n%s", bad, tail(out, 80))
					}
				}
				if err != nil && strings.Contains(out, "exit code: 1") && !regexp.MustCompile(`HK[0-9]{4}`).MatchString(out) {
					t.Fatalf("a step failed with a bare exit code:\n%s", tail(out, 80))
				}
				tc.check(t, out, tar, err)
			})
		}
	}
}
