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
	"sync"
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
	fset, imp := sourceImporter()
	f, err := parser.ParseFile(fset, "quickstart.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: imp}
	if _, err := conf.Check("main", fset, []*ast.File{f}, nil); err != nil {
		t.Errorf("the quick start does not type-check: %v", err)
	}
}

// TestReadmeFaultTest checks that the test file in the README's "Testing
// your own gateway" section is gofmt-clean and type-checks against this
// module; gatewayerr/faulttest/usertest runs the same test.
func TestReadmeFaultTest(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Testing your own gateway\n\n[^\n]*\n\n```go\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no Go block under \"## Testing your own gateway\"")
	}
	src := m[1]
	if formatted, err := format.Source(src); err != nil || string(formatted) != string(src) {
		t.Errorf("the test is not gofmt-clean (%v):\n%s", err, formatted)
	}
	fset, imp := sourceImporter()
	f, err := parser.ParseFile(fset, "gateway_test.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: imp}
	if _, err := conf.Check(f.Name.Name, fset, []*ast.File{f}, nil); err != nil {
		t.Errorf("the test does not type-check: %v", err)
	}
}

// sourceImporter returns the importer that type-checks the README's code
// against this module's source, shared by the tests so that each package is
// type-checked once, with its file set. The tests using it do not run in
// parallel: a types.Importer is not safe for concurrent use.
var sourceImporter = sync.OnceValues(func() (*token.FileSet, types.Importer) {
	fset := token.NewFileSet()
	return fset, importer.ForCompiler(fset, "source", nil)
})
