package dockerfilecheck

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

func TestRules(t *testing.T) {
	rs := Rules()
	if len(rs) < 20 {
		t.Fatalf("Rules() = %d rules, want at least 20", len(rs))
	}
	idRe := regexp.MustCompile(`^HK1[0-9]{3}$`)
	for i, r := range rs {
		if i > 0 && rs[i-1].ID >= r.ID {
			t.Errorf("Rules() not sorted or duplicated at %s", r.ID)
		}
		if !idRe.MatchString(r.ID) || r.Stage != rules.StageStatic || r.Name == "" || r.HelpURI == "" {
			t.Errorf("rule %+v: bad id, stage, name or help URI", r)
		}
	}
	rs[0].CIS = append(rs[0].CIS, "mutated")
	if slices.Contains(Rules()[0].CIS, "mutated") {
		t.Error("Rules() shares CIS slices with the rule table")
	}
}

func TestEveryRuleIsReachable(t *testing.T) {
	// Each rule id must be produced by at least one test Dockerfile: a rule
	// nothing reports is dead.
	seen := map[string]bool{}
	pol := strictWith(t, func(p *policy.Policy) {
		p.Controls.Distroless.AllowedBases = []policy.BaseImage{{Pattern: "gcr.io/distroless/*"}}
	})
	for _, f := range mustCheck(t, kitchenSink, Options{Policy: pol, BuildArgs: map[string]string{"NPM_TOKEN": "x"}}) {
		seen[f.Rule] = true
	}
	// The kitchen sink runs as root; the notes about a non-root image need one.
	for _, f := range mustCheck(t, "FROM debian\nWORKDIR /data\n", Options{Policy: pol}) {
		seen[f.Rule] = true
	}
	for _, r := range Rules() {
		if !seen[r.ID] {
			t.Errorf("%s (%s) not reported by the kitchen-sink Dockerfile", r.ID, r.Name)
		}
	}
}

// kitchenSink violates every static rule at least once.
const kitchenSink = `# hardenkit:ignore=HK1003 reason="x"
FROM debian AS build
ARG NPM_TOKEN
ARG AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
RUN apt-get update
RUN apt-get update && apt-get upgrade -y && apt-get install -y curl
RUN --network=host --security=insecure sudo curl -k https://x.example/i | sh
RUN apt-get install -y --allow-unauthenticated make=4
ADD https://example.com/t.tgz /t.tgz
ADD https://github.com/moby/buildkit.git#main /src
ADD app.sh /app.sh
COPY . .
FROM debian:bookworm
EXPOSE 22
USER root
CMD /app
`

func TestFindingsCarryLocationAndPolicyLevel(t *testing.T) {
	df := "FROM alpine:3.20 AS final\nRUN apk add \\\n  curl\n"
	pol := strictWith(t, func(p *policy.Policy) {
		p.Rules = map[string]rules.Level{"HK1001": rules.LevelOff, "HK1030": rules.LevelWarn}
	})
	fs := mustCheck(t, df, Options{Filename: "app/Dockerfile", Policy: pol})
	if len(findings(fs, "HK1001")) != 0 {
		t.Errorf("HK1001 is off but reported:\n%s", dump(fs))
	}
	got := findings(fs, "HK1030")
	if len(got) != 1 {
		t.Fatalf("HK1030 = %+v, want 1", got)
	}
	want := rules.Finding{Rule: "HK1030", Level: rules.LevelWarn, File: "app/Dockerfile", Line: 2, EndLine: 3, StageName: "final", Message: got[0].Message}
	if got[0] != want {
		t.Errorf("finding = %+v, want %+v", got[0], want)
	}
	if r := Ranges(got[0]); len(r) != 1 || r[0].Start.Line != 2 || r[0].End.Line != 3 {
		t.Errorf("Ranges() = %+v, want lines 2-3", r)
	}
}

func TestDefaultsAndOrdering(t *testing.T) {
	fs := mustCheck(t, "FROM debian\nUSER root\n", Options{})
	for i, f := range fs {
		if f.File != DefaultFilename {
			t.Errorf("File = %q, want %q", f.File, DefaultFilename)
		}
		if i > 0 && (fs[i-1].Line > f.Line || (fs[i-1].Line == f.Line && fs[i-1].Rule > f.Rule)) {
			t.Errorf("findings not sorted by line then rule:\n%s", dump(fs))
		}
	}
	if len(fs) == 0 || fs[0].StageName != "0" {
		t.Errorf("unnamed stage label = %q, want \"0\"", fs[0].StageName)
	}
}

func TestRangesWithoutLine(t *testing.T) {
	if r := Ranges(rules.Finding{}); r != nil {
		t.Errorf("Ranges(no line) = %v, want nil", r)
	}
	if r := Ranges(rules.Finding{Line: 4}); len(r) != 1 || r[0].End.Line != 4 {
		t.Errorf("Ranges(line 4) = %v, want 4-4", r)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		df   string
		line int
	}{
		{"unknown instruction", "FROM alpine:3.20\nFROB x\n", 2},
		{"unterminated heredoc", "FROM alpine:3.20\nRUN <<EOF\necho\n", 2},
		{"bad network", "FROM alpine:3.20\nRUN --network=bogus true\n", 2},
		{"no stages", "ARG X=1\n", 0},
		{"empty file", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check([]byte(tt.df), Options{})
			var le *parser.LocationError
			if !errors.As(err, &le) {
				t.Fatalf("Check() error = %v, want a *parser.LocationError", err)
			}
			if tt.line > 0 && le.Locations[0][0].Start.Line != tt.line {
				t.Errorf("error at line %d, want %d", le.Locations[0][0].Start.Line, tt.line)
			}
			if !strings.Contains(err.Error(), "Dockerfile") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestUnknownTarget(t *testing.T) {
	_, err := Check([]byte("FROM alpine:3.20 AS a\n"), Options{Target: "b"})
	if err == nil || !strings.Contains(err.Error(), `target stage "b"`) {
		t.Fatalf("Check() error = %v, want unknown target", err)
	}
}

func TestOnbuildTriggerThatDoesNotParseIsSkipped(t *testing.T) {
	// BuildKit accepts it here and fails the downstream build that runs it.
	fs := mustCheck(t, "FROM alpine:3.20@"+testDigest+"\nONBUILD FROB x\nHEALTHCHECK NONE\nHEALTHCHECK CMD [\"x\"]\nUSER 65532\n", Options{})
	if len(fs) != 0 {
		t.Errorf("findings = \n%s, want none", dump(fs))
	}
}

func TestCheckCommentDirectiveDoesNotPanic(t *testing.T) {
	// instructions.Parse merges `# check=` comments into the linter.
	mustCheck(t, "# check=skip=JSONArgsRecommended\nFROM alpine:3.20\n# check=error=true\nRUN true\n", Options{})
}
