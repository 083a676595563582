package shellscript

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// ListItem is one simple command of an and-or list (`a && b || c`): its
// words, fully literal, and the operator that joins it to the command
// before it ("&&" or "||"; "" for the first).
type ListItem struct {
	Op   string
	Args []string
}

// AndOrList reads src as exactly one and-or list of simple commands, the
// shape of a one-line health check (`curl -fsS URL || exit 1`), so that a
// caller can tell what the line means, not only which commands it names.
// ok is false for anything else: more than one statement, a pipeline, a
// negation, a background job, a compound command, an assignment, a word
// that is not fully literal (its value is only known when it runs), a
// redirection other than of output to /dev/null or onto another output
// descriptor, or code the parser rejects.
func AndOrList(src string) ([]ListItem, bool) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(src), "")
	if err != nil || len(f.Stmts) != 1 {
		return nil, false
	}
	var out []ListItem
	var visit func(st *syntax.Stmt, op string) bool
	visit = func(st *syntax.Stmt, op string) bool {
		if st.Negated || st.Background || st.Coprocess {
			return false
		}
		switch c := st.Cmd.(type) {
		case *syntax.BinaryCmd:
			if len(st.Redirs) > 0 || (c.Op != syntax.AndStmt && c.Op != syntax.OrStmt) {
				return false
			}
			return visit(c.X, op) && visit(c.Y, c.Op.String())
		case *syntax.CallExpr:
			if len(c.Assigns) > 0 || len(c.Args) == 0 || !quietRedirects(st.Redirs) {
				return false
			}
			args, ok := literalWords(c.Args)
			if !ok {
				return false
			}
			out = append(out, ListItem{Op: op, Args: args})
			return true
		}
		return false
	}
	if !visit(f.Stmts[0], "") {
		return nil, false
	}
	return out, true
}

// quietRedirects reports whether rs only send output to /dev/null or onto
// another output descriptor (`>/dev/null 2>&1`): redirections that change
// what a command prints, never what it does or its exit status.
func quietRedirects(rs []*syntax.Redirect) bool {
	for _, r := range rs {
		if r.Hdoc != nil || r.Word == nil {
			return false
		}
		w, ok := literalWords([]*syntax.Word{r.Word})
		if !ok {
			return false
		}
		switch r.Op {
		case syntax.RdrOut, syntax.AppOut, syntax.RdrAll, syntax.AppAll, syntax.RdrClob:
			if w[0] != "/dev/null" {
				return false
			}
		case syntax.DplOut:
			if w[0] != "1" && w[0] != "2" {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// literalWords returns the words with quotes removed when every one of
// them is a fixed value: no parameter, command or arithmetic expansion,
// no unquoted glob character, no tilde.
func literalWords(ws []*syntax.Word) ([]string, bool) {
	out := make([]string, len(ws))
	for i, w := range ws {
		lit, ok := literal(w.Parts, false)
		if !ok {
			return nil, false
		}
		out[i] = lit
	}
	return out, true
}

// literal renders parts with quotes removed, or fails on any part whose
// value the shell decides when it runs; quoted says the parts are inside
// double quotes, where glob characters are plain.
func literal(parts []syntax.WordPart, quoted bool) (string, bool) {
	var b strings.Builder
	for i, p := range parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if !quoted && (strings.ContainsAny(p.Value, "*?[") || (i == 0 && strings.HasPrefix(p.Value, "~"))) {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			s, ok := literal(p.Parts, true)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		default:
			return "", false
		}
	}
	return b.String(), true
}
