package gatehouse_test

import (
	"go/ast"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestReadmeQuickStart checks that the README's quick start is a whole
// program, gofmt-clean, that type-checks against this module, in fewer than
// 15 lines.
func TestReadmeQuickStart(t *testing.T) {
	defer goleak.VerifyNone(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Quick start\n\n```go\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no Go block under \"## Quick start\"")
	}
	src := m[1]
	if n := strings.Count(string(src), "\n"); n >= 15 {
		t.Errorf("the quick start has %d lines, want fewer than 15", n)
	}
	if formatted, err := format.Source(src); err != nil || string(formatted) != string(src) {
		t.Errorf("the quick start is not gofmt-clean (%v):\n%s", err, formatted)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "quickstart.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	if _, err := conf.Check("main", fset, []*ast.File{f}, nil); err != nil {
		t.Errorf("the quick start does not type-check: %v", err)
	}
}
