package protocol

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDocumentNamesEveryConstant: docs/protocol.md is the protocol for a
// new client; every event name, message type and refusal code of this
// package appears in it as `value`, and every timing constant by name.
func TestDocumentNamesEveryConstant(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					want := ""
					switch {
					case name == "timing.go":
						want = id.Name
					case strings.HasPrefix(id.Name, "Event"), strings.HasPrefix(id.Name, "Type"), strings.HasPrefix(id.Name, "Code"), strings.HasPrefix(id.Name, "Reject"):
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							t.Fatalf("%s: want a string literal", id.Name)
						}
						v, _ := strconv.Unquote(lit.Value)
						want = "`" + v + "`"
						if strings.HasPrefix(id.Name, "Reject") {
							want = `"` + v + `"`
						}
					default:
						continue
					}
					checked++
					if !strings.Contains(string(doc), want) {
						t.Errorf("docs/protocol.md does not name %s (%s)", id.Name, want)
					}
				}
			}
		}
	}
	if checked < 30 {
		t.Fatalf("checked only %d constants: the package's layout changed under this test", checked)
	}
}
