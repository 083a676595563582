package frontend

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/evidence/vuln"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// errorsDockerfile is the Dockerfile the table's messages are about.
const errorsDockerfile = `FROM busybox:1.35 AS build
RUN echo hi > /hi
FROM debian:bookworm
COPY --from=build /hi /srv/hi
RUN chmod 1733 /srv/drop
USER root
VOLUME /proc/x
RUN mknod /dev/mem c 1 1 && mkfifo /srv/fifo
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
				return violationsError(harden.Violations{{Rule: "HK2030", Message: "USER root resolves to uid 0", Ranges: lineRange(6)}}, errorsSource(), nil)
			},
			rule: "HK2030", where: "USER root", remedy: "to fix:\n  HK2030 ", line: 6,
		},
		"special-file": {
			err: func(t *testing.T) error {
				o := errorsOrigins(t)
				return violationsError(harden.Violations{{Rule: "HK2042", Ranges: lineRange(3), Paths: []string{"/dev/mem", "/srv/fifo"},
					Message: "the shipped stage creates device nodes, FIFOs or sockets, which never ship: /dev/mem (character device, Dcrw-r--r--), /srv/fifo (FIFO, prw-r--r--); remove the RUN mknod/mkfifo or COPY that makes them (the container runtime provides devices)"}},
					errorsSource(), &o)
			},
			rule: "HK2042", where: "[/dev/mem, /srv/fifo: written or changed by RUN mknod /dev/mem c 1 1 && mkfifo /srv/fifo (Dockerfile:8), the last instruction that names it]",
			remedy: "to fix:\n  HK2042 ", line: 8,
		},
		"verify-path": {
			err: func(t *testing.T) error {
				o := errorsOrigins(t)
				return violationsError(harden.Violations{{Rule: "HK2050", Paths: []string{"/srv/hi", "/srv/drop"},
					Message: "the hardened image failed verification: /srv/hi keeps its setuid/setgid bit (and 1 more)\n    /srv/drop has mtime 5, not SOURCE_DATE_EPOCH 0\n  to fix: a surviving setuid bit or timestamp is a bug in hardenkit"}},
					errorsSource(), &o)
			},
			rule: "HK2050", where: "[/srv/hi: written by COPY --from=build /hi /srv/hi (Dockerfile:4)]\n    [/srv/drop: written or changed by RUN chmod 1733 /srv/drop (Dockerfile:5), the last instruction that names it]\n  to fix: ",
			remedy: "to fix: a surviving setuid bit", line: 4,
		},
		"image": {
			err: func(t *testing.T) error {
				what, rs := errorsOrigins(t).Of("/srv/drop")
				return reportInspection(context.Background(), errorsSource().Warn, errorsSource().SourceMap, inspection{
					findings: []rules.Finding{{Rule: "HK3012", Level: rules.LevelEnforce, File: "/srv/drop", Message: "/srv/drop is a world-writable directory (mode drwx-wx-wt (1733)) [" + what + "]"}},
					origins:  map[int][]parser.Range{0: rs},
				})
			},
			rule: "HK3012", where: "/srv/drop: ", remedy: "to fix:\n  HK3012 ", line: 5,
		},
		"image-config": {
			err: func(*testing.T) error {
				return reportInspection(context.Background(), errorsSource().Warn, errorsSource().SourceMap, inspection{
					findings: []rules.Finding{{Rule: "HK3042", Level: rules.LevelEnforce, Message: "image config declares VOLUME /proc/x, on the kernel's /proc"}},
				})
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
		"policy-weakening": {
			err: func(*testing.T) error {
				return discoverBelowCI(policy.Sources{BesideDockerfile: func() ([]byte, bool, error) {
					return []byte(policyHeader + "defaults:\n  level: off\n"), true, nil
				}})
			},
			rule: " rules from enforce to off: HK1001, HK1002, ", where: "hardenkit.yaml:6: defaults.level: would lower ",
			remedy: "to fix: remove these settings from hardenkit.yaml, or make them at least as strict as hardenkit-policy:hardenkit.yaml (ci) has them; a setting the build needs weaker can only be changed by the owner of the policy that sets it (hardenkit-policy:hardenkit.yaml (ci)), there",
		},
		"policy-weakening-baseline": {
			err: func(*testing.T) error {
				return discoverBelowCI(policy.Sources{Explicit: "strict"})
			},
			rule: "controls.mode.allowOff: true would allow HARDENKIT_MODE=off", where: "policy builtin:strict (build-arg) may only tighten the policy of hardenkit-policy:hardenkit.yaml (ci)",
			remedy: "to fix: drop HARDENKIT_POLICY=strict (the build arg or --policy flag)",
		},
		"mode-off": {
			err: func(t *testing.T) error {
				p, err := policy.Parse("hardenkit.yaml", []byte(policyHeader+"controls:\n  mode:\n    allowOff: false\n"), nil)
				if err != nil {
					t.Fatal(err)
				}
				p.Sources = []policy.SourceRef{{Rank: policy.RankCI, Name: "hardenkit-policy:hardenkit.yaml"}}
				err = modeOffError(p)
				if !errors.Is(err, errModeOffForbidden) {
					t.Errorf("%v is not errModeOffForbidden", err)
				}
				return err
			},
			rule: "HARDENKIT_MODE=off is not allowed by the policy team (controls.mode.allowOff is false", where: "policy sources: hardenkit-policy:hardenkit.yaml (ci)",
			remedy: "to fix: build without HARDENKIT_MODE=off, so the hardening the policy requires runs; to switch it off, ask the owner of hardenkit-policy:hardenkit.yaml (ci) to set controls.mode.allowOff: true there",
		},
		"mode-off-default": {
			err: func(t *testing.T) error {
				p, err := policy.Discover(context.Background(), policy.Sources{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return modeOffError(p)
			},
			rule: "HARDENKIT_MODE=off is not allowed by the policy strict", where: "policy sources: builtin:strict (default)",
			remedy: "a team policy (hardenkit.yaml beside the Dockerfile, or the hardenkit-policy build context) must set controls.mode.allowOff: true",
		},
		"exception-unsigned": {
			err: func(t *testing.T) error {
				set, err := exceptions.Parse("exceptions.yaml", []byte(`apiVersion: hardenkit.dev/v1alpha1
kind: Exceptions
exceptions:
  - id: EX-1
    rule: HK1050
    scope: {stage: debug}
    justification: the debug stage runs as root
    owner: alice@example.com
    approvedBy: bob@example.com
    created: 2026-11-20
    expires: 2027-01-15
`), catalog.Known)
				if err != nil {
					t.Fatal(err)
				}
				pub, _, err := ed25519.GenerateKey(nil)
				if err != nil {
					t.Fatal(err)
				}
				return set.Validate(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), exceptions.ValidationPolicy{RequireSignature: true, ApproverKeys: []crypto.PublicKey{pub}})
			},
			rule: `exception "EX-1": unsigned`, where: "exceptions.yaml:4: ",
			remedy: "an approver signs the file with `hardenkit exceptions sign --key KEY FILE`",
		},
		"step": {
			err: func(*testing.T) error {
				return sbomStepError(errors.New(`process "/bin/hardenkit-frontend sbom" did not complete successfully: exit code: 1`))
			},
			rule: "SBOM", where: "the in-build SBOM step (/bin/hardenkit-frontend sbom) failed", remedy: "to fix: the step's output",
		},
	}
}

// errorsOrigins are the instructions that wrote each path of the image of
// errorsDockerfile.
func errorsOrigins(t *testing.T) dockerfilemodel.Origins {
	t.Helper()
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	m, err := dockerfilemodel.Parse([]byte(errorsDockerfile))
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.For(dockerfilemodel.Target{Platform: p, BuildPlatform: p})
	if err != nil {
		t.Fatal(err)
	}
	o, err := v.Origins("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// policyHeader starts a policy file; its first setting is on line 5.
const policyHeader = "apiVersion: hardenkit.dev/v1alpha1\nkind: Policy\nname: team\n\n"

// discoverBelowCI discovers the policy of s under a CI policy (the
// hardenkit-policy context) that forbids HARDENKIT_MODE=off, with the
// frontend's catalog: the error a weakening lower source gets.
func discoverBelowCI(s policy.Sources) error {
	s.NamedContext = func() ([]byte, string, bool, error) {
		return []byte(policyHeader + "controls:\n  mode:\n    allowOff: false\n  exceptions:\n    maxLifetime: 30d\n"), "", true, nil
	}
	s.Ranking = policy.Ranking{Catalog: catalog.All()}
	_, err := policy.Discover(context.Background(), s, catalog.Known)
	return err
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
