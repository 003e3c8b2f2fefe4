package protocol

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// constant is an exported constant of this package, as its source has it.
type constant struct {
	// Name is its Go name, e.g. TypeTalkRequest.
	Name string
	// Kind is its name's prefix (Event, Type, Code, Reject or Role), or
	// "timing" for those of timing.go, or "" for any other.
	Kind string
	// Value is the string it stands for; "" for a timing constant.
	Value string
}

// kinds are the name prefixes of the protocol's words.
var kinds = []string{"Event", "Type", "Code", "Reject", "Role", "Layer"}

// constants parses the package's Go files (not its tests) for every
// exported constant: a constant added in any file is found without this
// test being told.
func constants(t *testing.T) []constant {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var all []constant
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
					if !id.IsExported() {
						continue
					}
					c := constant{Name: id.Name}
					if name == "timing.go" {
						c.Kind = "timing"
					}
					for _, k := range kinds {
						if strings.HasPrefix(id.Name, k) {
							c.Kind = k
						}
					}
					if c.Kind != "" && c.Kind != "timing" {
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							t.Fatalf("%s: want a string literal", id.Name)
						}
						c.Value, _ = strconv.Unquote(lit.Value)
					}
					all = append(all, c)
				}
			}
		}
	}
	return all
}
