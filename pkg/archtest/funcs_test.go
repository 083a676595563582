package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Limits on every non-test function (and function literal) of the module.
// A function past them does several jobs: split it at a job's seam.
const (
	maxFuncLines  = 100
	maxFuncParams = 6
)

// funcShape is one function's size, as the limits see it.
type funcShape struct {
	where  string
	name   string
	lines  int
	params int
}

// shapes returns the shape of every function and function literal in the
// Go files of dir (tests excluded).
func shapes(t *testing.T, dir string, files []string) []funcShape {
	t.Helper()
	fset := token.NewFileSet()
	var out []funcShape
	for _, name := range files {
		path := filepath.Join(dir, name)
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parsing %s: %v", path, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var typ *ast.FuncType
			var body *ast.BlockStmt
			fname := "func literal"
			switch fn := n.(type) {
			case *ast.FuncDecl:
				typ, body, fname = fn.Type, fn.Body, fn.Name.Name
			case *ast.FuncLit:
				typ, body = fn.Type, fn.Body
			default:
				return true
			}
			if body == nil {
				return true
			}
			out = append(out, funcShape{
				where:  fset.Position(n.Pos()).String(),
				name:   fname,
				lines:  fset.Position(body.End()).Line - fset.Position(body.Pos()).Line + 1,
				params: countParams(typ),
			})
			return true
		})
	}
	return out
}

func countParams(typ *ast.FuncType) int {
	n := 0
	for _, f := range typ.Params.List {
		n += max(1, len(f.Names))
	}
	return n
}

// TestFunctionsStaySmall checks every non-test function of the module
// against maxFuncLines and maxFuncParams.
func TestFunctionsStaySmall(t *testing.T) {
	checked := 0
	for _, p := range listPackages(t) {
		for _, s := range shapes(t, p.Dir, p.GoFiles) {
			checked++
			if s.lines > maxFuncLines {
				t.Errorf("%s: %s is %d lines (limit %d)", relative(s.where), s.name, s.lines, maxFuncLines)
			}
			if s.params > maxFuncParams {
				t.Errorf("%s: %s takes %d parameters (limit %d): pass a struct", relative(s.where), s.name, s.params, maxFuncParams)
			}
		}
	}
	if checked < 500 {
		t.Fatalf("checked %d functions; expected the whole module", checked)
	}
}

func TestShapesMeasure(t *testing.T) {
	src := `package x
func a(p, q int, r string) {
	_ = func() {}
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	fn := f.Decls[0].(*ast.FuncDecl)
	if got := countParams(fn.Type); got != 3 {
		t.Errorf("countParams = %d, want 3", got)
	}
}

// relative shortens a position to a path from the module root.
func relative(where string) string {
	root, err := filepath.Abs("../..")
	if err != nil {
		return where
	}
	return strings.TrimPrefix(where, root+string(filepath.Separator))
}
