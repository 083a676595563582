package rebuild

import (
	"fmt"
	"io"
	"strings"
)

// The verdicts of a Report.
const (
	// VerdictReproduced: every platform's image manifest digest matched.
	VerdictReproduced = "reproduced"
	// VerdictDiffers: at least one platform differs.
	VerdictDiffers = "differs"
	// VerdictContextDiffers: the supplied checkout is not the context the
	// build used; nothing was rebuilt.
	VerdictContextDiffers = "context-differs"
)

// Report is the outcome of a rebuild.
type Report struct {
	// Image is the reference verified.
	Image string `json:"image"`
	// Verdict is VerdictReproduced, VerdictDiffers or
	// VerdictContextDiffers.
	Verdict string `json:"verdict"`
	// Cause says in one line why it differs.
	Cause string `json:"cause,omitempty"`
	// Context is the checkout against the recorded context.
	Context ContextCheck `json:"context"`
	// Plan is what was rebuilt with.
	Plan Plan `json:"plan"`
	// Platforms are the per-platform verdicts.
	Platforms []PlatformResult `json:"platforms,omitempty"`
	// Differences are every difference, outermost first.
	Differences []Difference `json:"differences"`
}

// Finish sets the verdict and cause from the platforms and differences.
func (r *Report) Finish() {
	switch {
	case !r.Context.Matches():
		r.Verdict = VerdictContextDiffers
		r.Cause = fmt.Sprintf("the supplied build context is not the one the image was built from (recorded %s, supplied %s): your checkout differs; nothing was rebuilt", r.Context.Want, r.Context.Got)
	case len(r.Platforms) > 0 && allReproduced(r.Platforms):
		r.Verdict = VerdictReproduced
	default:
		r.Verdict = VerdictDiffers
		r.Cause = Cause(r.Differences)
	}
	if r.Differences == nil {
		r.Differences = []Difference{}
	}
}

func allReproduced(ps []PlatformResult) bool {
	for _, p := range ps {
		if !p.Reproduced {
			return false
		}
	}
	return true
}

// WriteText writes the report for a person.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", r.Image, r.Verdict)
	if r.Cause != "" {
		fmt.Fprintf(&b, "  %s\n", r.Cause)
	}
	for _, c := range r.Context.Changes {
		fmt.Fprintf(&b, "  context file %s: %s\n", c.Path, c.Change)
	}
	for _, p := range r.Platforms {
		mark := "differs"
		if p.Reproduced {
			mark = "reproduced"
		}
		fmt.Fprintf(&b, "  %s: %s (original %s, rebuilt %s)\n", p.Platform, mark, p.Want, orEmpty(p.Got))
	}
	for _, d := range r.Differences {
		fmt.Fprintf(&b, "  %s", d.Level)
		if d.Platform != "" {
			fmt.Fprintf(&b, " [%s]", d.Platform)
		}
		fmt.Fprintf(&b, " %s", d.What)
		if d.Change != "" {
			fmt.Fprintf(&b, ": %s", d.Change)
		}
		b.WriteString("\n")
		if d.Want != "" || d.Got != "" {
			fmt.Fprintf(&b, "      original: %s\n      rebuilt:  %s\n", orEmpty(d.Want), orEmpty(d.Got))
		}
		if d.Instruction != "" {
			fmt.Fprintf(&b, "      %s\n", d.Instruction)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
