package routertest

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeRouterSection checks that the Go blocks of the README's "Using
// Gatehouse with your router" section are the setups these tests run:
// each block is one "readme:NAME" block of setups_test.go, one tab less
// deep, and every such block is in the README.
func TestReadmeRouterSection(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile("(?s)\n## Using Gatehouse with your router\n(.*?)(\n## |$)").FindSubmatch(readme)
	if section == nil {
		t.Fatal(`README.md has no "## Using Gatehouse with your router" section`)
	}
	var inReadme []string
	for _, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(section[1], -1) {
		inReadme = append(inReadme, string(m[1]))
	}
	if len(inReadme) == 0 {
		t.Fatal("the section has no Go block")
	}

	src, err := os.ReadFile("setups_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var inTests []string
	for _, m := range regexp.MustCompile(`(?s)\t// readme:[a-z/-]+\n(.*?)\t// readme:end\n`).FindAllSubmatch(src, -1) {
		var b strings.Builder
		for _, line := range strings.SplitAfter(string(m[1]), "\n") {
			b.WriteString(strings.TrimPrefix(line, "\t"))
		}
		inTests = append(inTests, b.String())
	}
	for _, block := range inReadme {
		if !slices.Contains(inTests, block) {
			t.Errorf("this README block is not a setup of setups_test.go:\n%s", block)
		}
	}
	for _, block := range inTests {
		if !slices.Contains(inReadme, block) {
			t.Errorf("this setup of setups_test.go is not in the README:\n%s", block)
		}
	}
}
