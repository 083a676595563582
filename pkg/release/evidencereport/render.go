package evidencereport

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Formats are the names Write accepts.
func Formats() []string { return []string{"text", "markdown", "html"} }

// Write renders r in format (one of Formats) to w.
func Write(w io.Writer, r *Report, format string) error {
	var err error
	switch format {
	case "text":
		err = writeText(w, r.sections())
	case "markdown":
		err = writeMarkdown(w, r.sections())
	case "html":
		err = writeHTML(w, r)
	default:
		return fmt.Errorf("format %q: want text, markdown or html", format)
	}
	if err != nil {
		return fmt.Errorf("writing the %s report: %w", format, err)
	}
	return nil
}

// writeText is for a terminal: underlined headings, aligned columns.
func writeText(w io.Writer, ss []section) error {
	var b strings.Builder
	for _, s := range ss {
		u := map[int]string{1: "=", 2: "=", 3: "-"}[s.Level]
		fmt.Fprintf(&b, "%s\n%s\n", s.Title, strings.Repeat(u, utf8.RuneCountInString(s.Title)))
		for _, l := range s.Lines {
			b.WriteString(l + "\n")
		}
		if s.Chart != nil {
			writeTextChart(&b, s.Chart)
		}
		if s.Table != nil {
			writeTextTable(&b, s.Table)
		}
		if s.Code != "" {
			for _, l := range strings.Split(s.Code, "\n") {
				b.WriteString("    " + l + "\n")
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTextTable(b *strings.Builder, t *table) {
	width := make([]int, len(t.Header))
	for _, row := range append([][]string{t.Header}, t.Rows...) {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(row []string) {
		var cells []string
		for i, c := range row {
			if i == len(row)-1 {
				cells = append(cells, c)
				continue
			}
			cells = append(cells, c+strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
		}
		b.WriteString("  " + strings.TrimRight(strings.Join(cells, "  "), " ") + "\n")
	}
	line(t.Header)
	for _, row := range t.Rows {
		line(row)
	}
}

// writeTextChart draws the before/after bars in characters.
func writeTextChart(b *strings.Builder, c *chart) {
	const cols = 40
	bar := func(n int64) string {
		k := int(float64(cols) * float64(n) / float64(max(c.Before, c.After, 1)))
		return strings.Repeat("#", max(k, 1))
	}
	fmt.Fprintf(b, "  before %-*s %s\n  after  %-*s %s\n", cols, bar(c.Before), humanSize(c.Before), cols, bar(c.After), humanSize(c.After))
}

// writeMarkdown is for a pull request comment, a job summary or a wiki.
func writeMarkdown(w io.Writer, ss []section) error {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", s.Level), s.Title)
		for _, l := range s.Lines {
			if strings.HasPrefix(l, "  - ") {
				b.WriteString(l + "\n")
				continue
			}
			b.WriteString(mdEscape(l) + "\n\n")
		}
		if s.Chart != nil {
			fmt.Fprintf(&b, "| | size |\n|---|---|\n| before | %s |\n| after | %s |\n\n", humanSize(s.Chart.Before), humanSize(s.Chart.After))
		}
		if s.Table != nil {
			writeMarkdownTable(&b, s.Table)
		}
		if s.Code != "" {
			fmt.Fprintf(&b, "```sh\n%s\n```\n\n", s.Code)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMarkdownTable(b *strings.Builder, t *table) {
	row := func(cells []string) {
		var out []string
		for _, c := range cells {
			out = append(out, strings.ReplaceAll(mdEscape(c), "|", `\|`))
		}
		b.WriteString("| " + strings.Join(out, " | ") + " |\n")
	}
	row(t.Header)
	b.WriteString(strings.Repeat("|---", len(t.Header)) + "|\n")
	for _, r := range t.Rows {
		row(r)
	}
	b.WriteString("\n")
}

// mdEscape keeps text that may come from an image (paths, messages) from
// being read as markup.
func mdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`).Replace(s)
}
