package dockerfilecheck

import (
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

func inlineAllowed(t *testing.T) *policy.Policy {
	return strictWith(t, func(p *policy.Policy) { p.Controls.Exceptions.AllowInline = true })
}

func TestInlineSuppressionWaives(t *testing.T) {
	df := `# hardenkit:ignore=HK1001,HK1003 reason="vendor base, mirrored by digest"
FROM debian
RUN true
`
	fs := mustCheck(t, df, Options{Policy: inlineAllowed(t)})
	for _, id := range []string{"HK1001", "HK1003"} {
		got := findings(fs, id)
		if len(got) != 1 {
			t.Fatalf("%s findings = %d, want 1 (waived, never dropped):\n%s", id, len(got), dump(fs))
		}
		if got[0].Level != rules.LevelWaived || got[0].Waiver != "inline:1" || !strings.Contains(got[0].Message, "vendor base") {
			t.Errorf("%s = %+v, want waived by inline:1 with the reason", id, got[0])
		}
	}
	if len(findings(fs, "HK1099")) != 0 {
		t.Errorf("unexpected HK1099:\n%s", dump(fs))
	}
}

func TestInlineSuppressionOnlyCoversItsInstruction(t *testing.T) {
	df := `FROM alpine:3.20@` + testDigest + `
# hardenkit:ignore=HK1021 reason="internal mirror with a private CA, tracked in SEC-12"
RUN curl -k https://mirror.internal/a

RUN curl -k https://mirror.internal/b
`
	fs := findings(mustCheck(t, df, Options{Policy: inlineAllowed(t)}), "HK1021")
	if len(fs) != 2 || fs[0].Level != rules.LevelWaived || fs[1].Level != rules.LevelEnforce {
		t.Fatalf("HK1021 = %+v, want line 3 waived and line 5 enforced", fs)
	}
}

func TestInlineSuppressionInvalid(t *testing.T) {
	runRuleCases(t, "HK1099", []ruleCase{
		{name: "not allowed by the policy", df: "# hardenkit:ignore=HK1003 reason=\"x\"\nFROM debian\n", want: []int{1}, msg: "not allowed by the policy"},
		{name: "missing reason", df: "# hardenkit:ignore=HK1003\nFROM debian\n", opt: Options{Policy: inlineAllowed(t)}, want: []int{1}, msg: "no reason"},
		{name: "empty reason", df: "# hardenkit:ignore=HK1003 reason=\"\"\nFROM debian\n", opt: Options{Policy: inlineAllowed(t)}, want: []int{1}, msg: "no reason"},
		{name: "unknown rule", df: "# hardenkit:ignore=HK9999 reason=\"x\"\nFROM debian\n", opt: Options{Policy: inlineAllowed(t)}, want: []int{1}, msg: "HK9999"},
		{name: "malformed", df: "# hardenkit:ignore HK1003\nFROM debian\n", opt: Options{Policy: inlineAllowed(t)}, want: []int{1}, msg: "malformed"},
		{name: "cannot suppress itself", df: "# hardenkit:ignore=HK1099 reason=\"x\"\nFROM debian\n", opt: Options{Policy: inlineAllowed(t)}, want: []int{1}},
		{name: "valid", df: "# hardenkit:ignore=HK1003 reason=bare words work too\nFROM debian\n", opt: Options{Policy: inlineAllowed(t)}},
		{name: "single quotes", df: "# hardenkit:ignore=HK1003 reason='ok'\nFROM debian\n", opt: Options{Policy: inlineAllowed(t)}},
		{name: "in a comment block", df: "FROM alpine:3.20\n# why:\n# hardenkit:ignore=HK1042\n# more text\nRUN sudo true\n", opt: Options{Policy: inlineAllowed(t)}, want: []int{3}},
		{name: "comment inside a continuation is not a directive", df: "FROM alpine:3.20\nRUN true \\\n# hardenkit:ignore=HK1042\n  && sudo true\n", opt: Options{Policy: inlineAllowed(t)}},
		{name: "separated by a blank line", df: "# hardenkit:ignore=HK1003\n\nFROM debian\n", opt: Options{Policy: inlineAllowed(t)}},
		{name: "above ONBUILD", df: "FROM alpine:3.20\n# hardenkit:ignore=HK1020\nONBUILD RUN curl x | sh\n", want: []int{2}},
	})
}

func TestInlineSuppressionNotAllowedKeepsFinding(t *testing.T) {
	df := "# hardenkit:ignore=HK1003 reason=\"x\"\nFROM debian\n"
	fs := mustCheck(t, df, Options{})
	got := findings(fs, "HK1003")
	if len(got) != 1 || got[0].Level != rules.LevelEnforce {
		t.Fatalf("HK1003 = %+v, want enforced: the policy does not allow inline suppressions", got)
	}
}

func TestInlineSuppressionWithEscapeDirectiveAndHeredoc(t *testing.T) {
	df := bt("# escape=§\nFROM alpine:3.20@" + testDigest + "\n# hardenkit:ignore=HK1021 reason=\"private CA\"\nRUN <<EOF\ncurl -k https://x\nEOF\nRUN curl §\n  -k https://y\n")
	fs := findings(mustCheck(t, df, Options{Policy: inlineAllowed(t)}), "HK1021")
	if len(fs) != 2 || fs[0].Line != 4 || fs[0].Level != rules.LevelWaived || fs[1].Line != 7 || fs[1].Level != rules.LevelEnforce {
		t.Fatalf("HK1021 = %+v, want line 4 waived, line 7 enforced", fs)
	}
}
