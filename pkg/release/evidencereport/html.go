package evidencereport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// page.html.tmpl is the whole page: its style is inline and it loads
// nothing, so the file can be mailed to an auditor or opened offline. The
// layout is one column that fits a phone; print hides nothing.
//
//go:embed page.html.tmpl
var pageTemplate string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"statusClass": statusClass,
	"chart":       svgChart,
	"verdictClass": func(v Verdict) string {
		if v == VerdictPass {
			return "pass"
		}
		return "fail"
	},
}).Parse(pageTemplate))

func writeHTML(w io.Writer, r *Report) error {
	return page.Execute(w, struct {
		R        *Report
		Sections []section
		Counts   string
	}{r, r.sections(), r.resultCounts()})
}

// statusClass is the CSS class of a result cell.
func statusClass(s string) string {
	switch {
	case strings.HasPrefix(s, "pass"), s == "not_affected", s == "fixed":
		return "pass"
	case strings.HasPrefix(s, "fail"):
		return "fail"
	case s == "waived" || s == "warn":
		return "warn"
	}
	return "na"
}

// svgChart draws the image size before and after hardening as two bars,
// with the numbers as text so that they read without the picture.
func svgChart(c *chart) template.HTML {
	const width, barMax = 320, 200.0
	scale := barMax / float64(max(c.Before, c.After, 1))
	bw := func(n int64) int { return max(int(float64(n)*scale), 1) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-label="image size before %s, after %s" viewBox="0 0 %d 70" xmlns="http://www.w3.org/2000/svg">`,
		humanSize(c.Before), humanSize(c.After), width)
	fmt.Fprintf(&b, `<text x="0" y="20" font-size="12">before</text><rect x="50" y="8" width="%d" height="16" fill="#b0b0b0"/><text x="%d" y="20" font-size="12">%s</text>`,
		bw(c.Before), 54+bw(c.Before), humanSize(c.Before))
	fmt.Fprintf(&b, `<text x="0" y="52" font-size="12">after</text><rect x="50" y="40" width="%d" height="16" fill="#2e7d32"/><text x="%d" y="52" font-size="12">%s</text>`,
		bw(c.After), 54+bw(c.After), humanSize(c.After))
	b.WriteString(`</svg>`)
	// Every value is a number formatted here, so the markup is safe.
	return template.HTML(b.String()) //nolint:gosec // only numbers are interpolated
}
