package frontend

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/evidence/vuln"
	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/rules"
	"github.com/hardenkit/hardenkit/llb/harden"
)

// errorsDockerfile is the Dockerfile the table's messages are about.
const errorsDockerfile = `FROM busybox:1.35 AS build
RUN echo hi > /hi
FROM debian:bookworm
COPY --from=build /hi /srv/hi
RUN chmod 1733 /srv/drop
USER root
VOLUME /proc/x
`

func errorsSource() *dockerui.Source {
	sm := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", []byte(errorsDockerfile))
	sm.Definition = &llb.Definition{}
	return &dockerui.Source{SourceMap: sm, Warn: func(context.Context, string, client.WarnOpts) {}}
}

func lineRange(n int) []parser.Range {
	return []parser.Range{{Start: parser.Position{Line: n}, End: parser.Position{Line: n}}}
}

// errorCase produces one row's message and says what it must name.
type errorCase struct {
	err func(t *testing.T) error
	// rule, where and remedy must each appear in the message; line, when
	// set, must be a source range attached to the error (the snippet the
	// client shows).
	rule, where, remedy string
	line                int
	// never must not appear (Dockerfile:0, a bare colon).
	never []string
}

func errorCases() map[string]errorCase {
	return map[string]errorCase{
		"static": {
			err: func(*testing.T) error {
				return reportStatic(context.Background(), errorsSource(), []rules.Finding{{
					Rule: "HK1050", Level: rules.LevelEnforce, File: "Dockerfile", Line: 6, EndLine: 6, Message: "last USER is root",
				}})
			},
			rule: "HK1050", where: "Dockerfile:6", remedy: "to fix:\n  HK1050 ", line: 6,
		},
		"static-noline": {
			err: func(*testing.T) error {
				return reportStatic(context.Background(), errorsSource(), []rules.Finding{{
					Rule: "HK1062", Level: rules.LevelEnforce, File: "Dockerfile", Message: "--build-arg TOKEN looks like a secret",
				}})
			},
			rule: "HK1062", where: "Dockerfile HK1062: --build-arg TOKEN", remedy: "--secret", never: []string{"Dockerfile:0"},
		},
		"hardening": {
			err: func(*testing.T) error {
				return violationsError(harden.Violations{{Rule: "HK2030", Message: "USER root resolves to uid 0", Ranges: lineRange(6)}}, errorsSource())
			},
			rule: "HK2030", where: "USER root", remedy: "to fix:\n  HK2030 ", line: 6,
		},
		"image": {
			err: func(t *testing.T) error {
				o, err := shippedOrigins([]byte(errorsDockerfile), "Dockerfile", "", nil, ocispecs.Platform{OS: "linux", Architecture: "amd64"}, ocispecs.Platform{OS: "linux", Architecture: "amd64"})
				if err != nil {
					t.Fatal(err)
				}
				what, rs := o.of("/srv/drop")
				return reportInspection(context.Background(), errorsSource(), inspection{
					findings: []rules.Finding{{Rule: "HK3012", Level: rules.LevelEnforce, File: "/srv/drop", Message: "/srv/drop is a world-writable directory (mode drwx-wx-wt (1733)) [" + what + "]"}},
					origins:  map[int][]parser.Range{0: rs},
				}, true)
			},
			rule: "HK3012", where: "/srv/drop: ", remedy: "to fix:\n  HK3012 ", line: 5,
		},
		"image-config": {
			err: func(*testing.T) error {
				return reportInspection(context.Background(), errorsSource(), inspection{
					findings: []rules.Finding{{Rule: "HK3042", Level: rules.LevelEnforce, Message: "image config declares VOLUME /proc/x, on the kernel's /proc"}},
				}, true)
			},
			rule: "HK3042", where: "HK3042 image config: ", remedy: "to fix:\n  HK3042 ", never: []string{"HK3042 : "},
		},
		"inspect-error": {
			err: func(*testing.T) error {
				return checkInspected(inspect.Result{
					Status: map[string]inspect.Status{"HK3010": inspect.StatusError},
					Errors: map[string]string{"HK3010": "reading /usr/bin/x: permission denied"},
				}, func(r rules.Rule) rules.Level {
					if r.ID == "HK3010" {
						return rules.LevelEnforce
					}
					return rules.LevelOff
				})
			},
			rule: "HK3010", where: "reading /usr/bin/x", remedy: "to fix: remove the cause",
		},
		"vuln": {
			err: func(*testing.T) error {
				return vulnGateError(vuln.Result{Matches: []vuln.Match{{CVE: "CVE-2024-0001", Severity: "critical", Name: "openssl", Version: "3.0.1", Result: compliance.MatchFail}}}, "high")
			},
			rule: "HK4001", where: "CVE-2024-0001 (critical) in openssl 3.0.1", remedy: "to fix: upgrade the packages",
		},
		"evidence-size": {
			err: func(*testing.T) error {
				_, err := evidenceState(evidenceInput{}, "SBOM", map[string][]byte{sbomSPDXPath: make([]byte, maxInlineEvidence+1)})
				return err
			},
			rule: "SBOM", where: "more than one BuildKit request carries", remedy: "build with `hardenkit build` (it gives one), or through `# syntax=`",
		},
		"step": {
			err: func(*testing.T) error {
				return sbomStepError(errors.New(`process "/bin/hardenkit-frontend sbom" did not complete successfully: exit code: 1`))
			},
			rule: "SBOM", where: "the in-build SBOM step (/bin/hardenkit-frontend sbom) failed", remedy: "to fix: the step's output",
		},
	}
}

// TestErrorsTable produces every message of docs/errors.md that this
// package raises and checks it names the rule, the place and the remedy.
func TestErrorsTable(t *testing.T) {
	for id, c := range errorCases() {
		t.Run(id, func(t *testing.T) {
			err := c.err(t)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, want := range []string{c.rule, c.where, c.remedy} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			for _, bad := range append([]string{": \n", ":\n  to fix"}, c.never...) {
				if strings.Contains(msg, bad) {
					t.Errorf("message contains %q:\n%s", bad, msg)
				}
			}
			if c.line > 0 {
				found := false
				for _, s := range errdefs.Sources(err) {
					for _, r := range s.Ranges {
						found = found || int(r.Start.Line) == c.line
					}
				}
				if !found {
					t.Errorf("no source snippet at line %d", c.line)
				}
			}
		})
	}
}

// TestErrorsDocRows keeps docs/errors.md and the tests in step: every row
// is a case of TestErrorsTable or names a test that exists, and every case
// has a row.
func TestErrorsDocRows(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "docs", "errors.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases := errorCases()
	rows := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) < 8 || !strings.HasPrefix(strings.TrimSpace(cols[1]), "`") {
			continue
		}
		id := strings.Trim(strings.TrimSpace(cols[1]), "`")
		test := strings.Trim(strings.TrimSpace(cols[6]), "`")
		rows[id] = true
		if _, ok := cases[id]; ok {
			if test != "TestErrorsTable/"+id {
				t.Errorf("row %s names test %q, want TestErrorsTable/%s", id, test, id)
			}
			continue
		}
		pkg, name, ok := strings.Cut(test, " ")
		if !ok {
			t.Errorf("row %s has no case here and names no test (%q)", id, test)
			continue
		}
		if !testExists(t, filepath.Join("..", pkg), name) {
			t.Errorf("row %s names %s in %s, which does not exist", id, name, pkg)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for id := range cases {
		if !rows[id] {
			t.Errorf("case %s has no row in docs/errors.md", id)
		}
	}
}

func testExists(t *testing.T, dir, name string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		dt, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(dt), "func "+name+"(t *testing.T)") {
			return true
		}
	}
	return false
}
