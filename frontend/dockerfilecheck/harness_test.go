package dockerfilecheck

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// A digest to pin base images with in test Dockerfiles.
const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// ruleCase is one table row of a rule test: the Dockerfile, the options,
// and the lines at which the rule under test must report (nil: nowhere).
type ruleCase struct {
	name string
	df   string
	opt  Options
	want []int
	// msg, when set, must appear in every finding of the rule.
	msg string
	// notMsg, when set, must appear in no finding of the rule.
	notMsg string
}

// runRuleCases runs the table against one rule id.
func runRuleCases(t *testing.T, rule string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs, err := Check([]byte(tc.df), tc.opt)
			if err != nil {
				t.Fatalf("Check() error = %v", err)
			}
			var got []int
			for _, f := range fs {
				if f.Rule != rule {
					continue
				}
				got = append(got, f.Line)
				if tc.msg != "" && !strings.Contains(f.Message, tc.msg) {
					t.Errorf("%s message = %q, want it to contain %q", rule, f.Message, tc.msg)
				}
				if tc.notMsg != "" && strings.Contains(f.Message, tc.notMsg) {
					t.Errorf("%s message = %q, must not contain %q", rule, f.Message, tc.notMsg)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s at lines %v, want %v; all findings:\n%s", rule, got, tc.want, dump(fs))
			}
		})
	}
}

// dump renders findings for failure messages.
func dump(fs []rules.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %d-%d %s [%s] %s\n", f.Line, f.EndLine, f.Rule, f.Level, f.Message)
	}
	return b.String()
}

// findings returns the findings of one rule.
func findings(fs []rules.Finding, rule string) []rules.Finding {
	var out []rules.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// mustCheck runs Check and fails the test on error.
func mustCheck(t *testing.T, df string, opt Options) []rules.Finding {
	t.Helper()
	fs, err := Check([]byte(df), opt)
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	return fs
}

// strictWith returns the strict baseline changed by fn, for tests that
// need a control's parameters.
func strictWith(t testing.TB, fn func(p *policy.Policy)) *policy.Policy {
	t.Helper()
	p, err := policy.Baseline(policy.BaselineStrict)
	if err != nil {
		t.Fatalf("Baseline() error = %v", err)
	}
	fn(p)
	return p
}

// bt turns § into a backtick, for Dockerfiles using `# escape=` + "`"
// inside Go raw strings.
func bt(s string) string { return strings.ReplaceAll(s, "§", "`") }
