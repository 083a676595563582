package dockerfilecheck

// Control: inline suppressions are governed by the policy.
//
//	HK1099 InlineSuppressionInvalid  (no CIS item)
//
// A comment directly above an instruction,
//
//	# hardenkit:ignore=HK1003,HK1001 reason="vendor image, digest pinned by mirror"
//
// waives those rules' findings on that instruction — only when the policy
// sets controls.exceptions.allowInline, and only with a reason. A waived
// finding is kept with level waived, never dropped. Every other use (not
// allowed, no reason, unknown rule, malformed) is an HK1099 finding at the
// comment, and the findings it meant to waive stay as they are.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleInlineSuppression = rules.Rule{
	ID:          "HK1099",
	Name:        "InlineSuppressionInvalid",
	Title:       "Inline suppression not allowed or invalid",
	Family:      rules.FamilyHardening,
	Severity:    rules.SeverityMedium,
	Stage:       rules.StageStatic,
	Rationale:   "Exceptions must be explicit and justified. Inline `# hardenkit:ignore=` comments are honoured only when the policy allows them (controls.exceptions.allowInline) and only with a reason; otherwise they would let any Dockerfile author switch a control off unreviewed.",
	Remediation: "Record the exception in the exceptions file (owner, approver, expiry), or, if the policy allows inline suppressions, write `# hardenkit:ignore=HKxxxx reason=\"why\"` on the line directly above the instruction.",
	HelpURI:     helpURI("HK1099"),
}

var inlineSuppressionControl = control{
	rules: []rules.Rule{ruleInlineSuppression},
	// Reported by applySuppressions, after every other control ran.
}

// suppressionRe matches a hardenkit:ignore comment; group 1 is the rule
// list, group 2 the rest.
var (
	suppressionRe = regexp.MustCompile(`^#\s*hardenkit:ignore\b(.*)$`)
	suppressArgs  = regexp.MustCompile(`^=([A-Za-z0-9,]+)(?:\s+reason=(?:"([^"]*)"|'([^']*)'|(\S.*?)))?\s*$`)
	ruleIDRe      = regexp.MustCompile(`^HK[0-9]{4}$`)
)

// suppression is one parsed hardenkit:ignore comment.
type suppression struct {
	line    int      // the comment's line
	target  int      // the first line of the instruction below it
	rules   []string // rule ids to waive
	reason  string
	problem string // why it cannot be honoured; "" when valid
}

// applySuppressions waives the findings valid suppressions cover and
// reports invalid ones.
func applySuppressions(f *file, r *reporter) {
	known := map[string]bool{}
	for _, c := range controls {
		for _, rl := range c.rules {
			known[rl.ID] = true
		}
	}
	allow := f.opt.Policy.Controls.Exceptions.AllowInline
	for _, s := range f.suppressions(known, allow) {
		if s.problem != "" {
			r.add(ruleInlineSuppression, span{s.line, s.line}, nil, s.problem)
			continue
		}
		for i := range r.findings {
			fd := &r.findings[i]
			if fd.Line != s.target || !slices.Contains(s.rules, fd.Rule) || fd.Rule == ruleInlineSuppression.ID {
				continue
			}
			fd.Level = rules.LevelWaived
			fd.Waiver = fmt.Sprintf("inline:%d", s.line)
			fd.Message += fmt.Sprintf(" [waived inline at line %d: %s]", s.line, s.reason)
		}
	}
}

// suppressions finds hardenkit:ignore comments in the comment block
// directly above each instruction.
func (f *file) suppressions(known map[string]bool, allow bool) []suppression {
	var starts []int
	for _, s := range f.stages {
		starts = append(starts, s.from.start)
	}
	f.each(func(in *instr) {
		if !in.onbuild {
			starts = append(starts, in.at.start)
		}
	})
	slices.Sort(starts)
	starts = slices.Compact(starts)

	var out []suppression
	for _, start := range starts {
		for ln := start - 1; ln >= 1 && ln <= len(f.lines); ln-- {
			text := strings.TrimSpace(f.lines[ln-1])
			if !strings.HasPrefix(text, "#") {
				break
			}
			m := suppressionRe.FindStringSubmatch(text)
			if m == nil {
				continue
			}
			out = append(out, parseSuppression(m[1], ln, start, known, allow))
		}
	}
	slices.SortFunc(out, func(a, b suppression) int { return a.line - b.line })
	return out
}

// parseSuppression validates one directive's arguments.
func parseSuppression(args string, line, target int, known map[string]bool, allow bool) suppression {
	s := suppression{line: line, target: target}
	m := suppressArgs.FindStringSubmatch(args)
	if m == nil {
		s.problem = `malformed inline suppression; write # hardenkit:ignore=HKxxxx[,HKyyyy] reason="why"`
		return s
	}
	for _, id := range strings.Split(m[1], ",") {
		if id == "" {
			continue
		}
		switch {
		case !ruleIDRe.MatchString(id) || !known[id]:
			s.problem = fmt.Sprintf("inline suppression names %s, which is not a static Dockerfile rule", id)
			return s
		case id == ruleInlineSuppression.ID:
			s.problem = fmt.Sprintf("%s cannot be suppressed inline", id)
			return s
		}
		s.rules = append(s.rules, id)
	}
	s.reason = strings.TrimSpace(m[2] + m[3] + m[4])
	switch {
	case !allow:
		s.problem = fmt.Sprintf("inline suppression of %s is not allowed by the policy (controls.exceptions.allowInline is false); record an exception in the exceptions file instead", strings.Join(s.rules, ","))
	case len(s.rules) == 0:
		s.problem = "inline suppression names no rule"
	case s.reason == "":
		s.problem = fmt.Sprintf(`inline suppression of %s has no reason; add reason="why"`, strings.Join(s.rules, ","))
	}
	return s
}
