package errorpage

import (
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

// A pageSet is the pages of one format.
type pageSet struct {
	// pages holds the page for each status from 400 to 599, or nil for
	// none (JSON without an operator template).
	pages [200]*page
}

// A page is one template file, ready to render the statuses it serves:
// the embedded default, or an operator's file parsed on its own clone of
// the base.
type page struct {
	file string // the file it comes from, for errors, such as "503.html"
	exec func(w io.Writer, d *Data) error
	// cacheable reports whether the page may be cached with the
	// per-request values filled in later; see check.
	cacheable bool
	// reflects reports whether a template of the page names the Host or
	// Path field, which rules caching out. Other ways to reach them (printf
	// of the whole Data, {{.}}) are caught when a page is first cached, by
	// rendering it for two unlike requests (see probes).
	reflects bool
}

// page returns the page for status, or nil.
func (s *pageSet) page(status int) *page {
	if s == nil || status < 400 || status > 599 {
		return nil
	}
	return s.pages[status-400]
}

// readTemplates returns the operator's template files in fsys, by name:
// the files at its top level whose extension is html, txt or json. New
// reads them once, after checking the names, so that the pages can be
// parsed again from them at any later time (see Pages.set).
func readTemplates(fsys fs.FS) (map[string]string, error) {
	if fsys == nil {
		return nil, nil
	}
	if err := checkNames(fsys); err != nil {
		return nil, err
	}
	files := make(map[string]string)
	for _, ext := range [...]string{"html", "txt", "json"} {
		names, err := fs.Glob(fsys, "*."+ext)
		if err != nil {
			return nil, fmt.Errorf("errorpage: Templates: %w", err)
		}
		for _, name := range names {
			src, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("errorpage: Templates: %w", err)
			}
			files[name] = string(src)
		}
	}
	return files, nil
}

// parseSets parses the pages of every format from the embedded templates
// and the operator's files (see readTemplates).
func parseSets(files map[string]string) (sets [numFormats]*pageSet, err error) {
	for _, f := range [...]Format{HTML, Text, JSON} {
		if sets[f], err = parseSet(files, f); err != nil {
			return sets, err
		}
	}
	return sets, nil
}

// parseSet parses the pages of format f, one of HTML, Text and JSON, from
// the embedded templates and the operator's files.
func parseSet(files map[string]string, f Format) (*pageSet, error) {
	htmlTree := func(t *htmltemplate.Template) *parse.Tree { return t.Tree }
	textTree := func(t *texttemplate.Template) *parse.Tree { return t.Tree }
	switch f {
	case HTML:
		html, err := parseEmbeddedHTML()
		if err != nil {
			return nil, err
		}
		return newSet(html, files, "html", htmlTree)
	case Text:
		text, err := texttemplate.New("").ParseFS(embedded, "templates/*.txt")
		if err != nil {
			return nil, err
		}
		return newSet(text, files, "txt", textTree)
	case JSON:
		js := texttemplate.New("").Funcs(texttemplate.FuncMap{"json": jsonValue})
		return newSet(js, files, "json", textTree)
	}
	return nil, nil // ProblemJSON: rendered in Go
}

// parseEmbeddedHTML parses the embedded HTML templates, with their lines
// joined.
func parseEmbeddedHTML() (*htmltemplate.Template, error) {
	files, err := fs.Glob(embedded, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := htmltemplate.New("")
	for _, f := range files {
		src, err := embedded.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if _, err := t.New(path.Base(f)).Parse(joinLines(string(src))); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// joinLines returns s without its line breaks and the tabs that start its
// lines. The embedded HTML page is written one rule or element a line, to be
// read, and served as one line, to be small.
func joinLines(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for line := range strings.Lines(s) {
		line = strings.TrimSuffix(line, "\n")
		b.WriteString(strings.TrimLeft(line, "\t"))
	}
	return b.String()
}

// A templateSet is what html/template and text/template templates share.
type templateSet[T any] interface {
	comparable
	Clone() (T, error)
	New(name string) T
	Parse(text string) (T, error)
	Lookup(name string) T
	Templates() []T
	Execute(w io.Writer, data any) error
}

// newSet builds the pages of one format from base, the embedded templates
// (none for JSON), and the operator's files with the extension ext.
//
// The operator's "default.ext" and any other file that is not a status
// file ("502.ext", "5xx.ext") are parsed over a clone of base, so that
// their {{define}}s replace blocks on every page. Then each status file is
// parsed on its own clone of that, so that its {{define}}s replace blocks
// on its own pages only. A file with nothing outside {{define}}s renders
// "default.ext" with its blocks; a file with content of its own renders
// that. For each status, the page is that of "502.ext", "5xx.ext" or
// "default.ext", the first that exists.
func newSet[T templateSet[T]](base T, files map[string]string, ext string, tree func(T) *parse.Tree) (*pageSet, error) {
	var shared, status []string
	for _, f := range slices.Sorted(maps.Keys(files)) {
		if !strings.HasSuffix(f, "."+ext) {
			continue
		}
		if isStatusFile(f, ext) {
			status = append(status, f)
		} else {
			shared = append(shared, f)
		}
	}
	if len(shared) > 0 {
		// Clone, so that the embedded base stays as it is.
		var err error
		if base, err = base.Clone(); err != nil {
			return nil, err
		}
		for _, f := range shared {
			if f == "default."+ext {
				if err := checkBlocks(base, files, f, ext, tree); err != nil {
					return nil, err
				}
			}
			if err := parseFile(base, files, f); err != nil {
				return nil, err
			}
		}
	}
	// Clone for the status files before the base becomes a page: an
	// html/template set cannot be cloned once executed.
	pages := make(map[string]*page)
	for _, f := range status {
		if err := checkBlocks(base, files, f, ext, tree); err != nil {
			return nil, err
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if err := parseFile(t, files, f); err != nil {
			return nil, err
		}
		if pages[f], err = newPage(t, f, ext, tree); err != nil {
			return nil, err
		}
	}
	def := "default." + ext
	var none T
	if base.Lookup(def) != none {
		var err error
		if pages[def], err = newPage(base, def, ext, tree); err != nil {
			return nil, err
		}
	}
	s := &pageSet{}
	for i := range s.pages {
		code := strconv.Itoa(400 + i)
		for _, n := range [...]string{code + "." + ext, code[:1] + "xx." + ext, def} {
			if pg := pages[n]; pg != nil {
				s.pages[i] = pg
				break
			}
		}
	}
	return s, nil
}

// checkNames rejects the files of fsys that look meant as templates but
// would be ignored or misread: one below the top level (an embed.FS not
// passed through fs.Sub, say), one whose extension is a near miss (".htm",
// ".HTML", ".tmpl"), and one named like a status file that is not one
// ("503.HTML", "5XX.html", "600.html", "0503.html").
func checkNames(fsys fs.FS) error {
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("errorpage: Templates: %w", err)
		}
		if d.IsDir() {
			return nil
		}
		stem, ext := cutExt(path.Base(name))
		known := ext == "html" || ext == "txt" || ext == "json"
		switch lower := strings.ToLower(ext); {
		case !known && (lower == "html" || lower == "htm" || lower == "txt" || lower == "json" || lower == "tmpl" || lower == "gohtml"):
			return fmt.Errorf("errorpage: Templates: %q: the extension must be .html, .txt or .json, in lower case", name)
		case !known:
			return nil // not a template: ignored
		case strings.Contains(name, "/"):
			return fmt.Errorf("errorpage: Templates: %q is not at the top level, where templates are read (use fs.Sub for a subdirectory)", name)
		case looksLikeStatus(stem) && !isStatusFile(path.Base(name), ext):
			return fmt.Errorf("errorpage: Templates: %q is named like a status file, but status files are 400.%s to 599.%s, 4xx.%s and 5xx.%s", name, ext, ext, ext, ext)
		}
		return nil
	})
}

// cutExt splits a file name at its last dot; ext is "" without one.
func cutExt(name string) (stem, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name, ""
	}
	return name[:i], name[i+1:]
}

// looksLikeStatus reports whether a file name's stem looks meant as a
// status: digits, or a digit followed by x's in any case.
func looksLikeStatus(stem string) bool {
	if stem == "" || stem[0] < '0' || stem[0] > '9' {
		return false
	}
	for i := 1; i < len(stem); i++ {
		if c := stem[i]; (c < '0' || c > '9') && c != 'x' && c != 'X' {
			return false
		}
	}
	return true
}

// isStatusFile reports whether name is a status file with the extension
// ext: a status from 400 to 599, such as "502.ext", or a class, "4xx.ext"
// or "5xx.ext".
func isStatusFile(name, ext string) bool {
	s, ok := strings.CutSuffix(name, "."+ext)
	if !ok || len(s) != 3 || (s[0] != '4' && s[0] != '5') {
		return false
	}
	if s[1:] == "xx" {
		return true
	}
	return '0' <= s[1] && s[1] <= '9' && '0' <= s[2] && s[2] <= '9'
}

// checkBlocks checks a file of {{define}}s only, name in files, that is to
// override blocks of base: each block it defines must be one of base's, or
// be used by a block of its own, or it would never be rendered (such as a
// "message" in a ".txt" file: the text page has no such block). The error
// lists base's blocks. A file with content outside its {{define}}s is a page
// of its own, and is not checked.
func checkBlocks[T templateSet[T]](base T, files map[string]string, name, ext string, tree func(T) *parse.Tree) error {
	trees, err := parseTrees(name, files[name])
	if err != nil {
		return fmt.Errorf("errorpage: Templates: %w", err)
	}
	var none T
	if root := trees[name]; (root != nil && !parse.IsEmptyTree(root.Root)) || base.Lookup("default."+ext) == none {
		return nil // a page of its own; or no page to override, which newPage reports
	}
	used := make(map[string]bool)
	for _, tr := range trees {
		templatesCalled(tr.Root, used)
	}
	var unknown []string
	for n := range trees {
		if n == name || used[n] {
			continue
		}
		if x := base.Lookup(n); x == none || tree(x) == nil {
			unknown = append(unknown, strconv.Quote(n))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	var blocks []string
	for _, x := range base.Templates() {
		tr := tree(x)
		if tr == nil || tr.Name == "" || strings.HasSuffix(tr.Name, "."+ext) {
			continue
		}
		blocks = append(blocks, strconv.Quote(tr.Name))
	}
	slices.Sort(blocks)
	return fmt.Errorf("errorpage: Templates: %s holds only {{define}}s, and the %s page it overrides has no block %s, so it would never be shown; its blocks are %s", name, ext, strings.Join(unknown, ", "), strings.Join(blocks, ", "))
}

// parseTrees parses src, the file name, into its templates' trees, by name;
// functions are checked when the file is parsed into its set.
func parseTrees(name, src string) (map[string]*parse.Tree, error) {
	t := parse.New(name)
	t.Mode = parse.SkipFuncCheck
	trees := make(map[string]*parse.Tree)
	if _, err := t.Parse(src, "", "", trees); err != nil {
		return nil, err
	}
	return trees, nil
}

// templatesCalled adds the names of the templates that n executes with
// {{template}} to used.
func templatesCalled(n parse.Node, used map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			templatesCalled(c, used)
		}
	case *parse.IfNode:
		templatesCalled(n.List, used)
		templatesCalled(n.ElseList, used)
	case *parse.RangeNode:
		templatesCalled(n.List, used)
		templatesCalled(n.ElseList, used)
	case *parse.WithNode:
		templatesCalled(n.List, used)
		templatesCalled(n.ElseList, used)
	case *parse.TemplateNode:
		used[n.Name] = true
	}
}

// parseFile parses the file name of files into t's set, as a template of
// that name.
func parseFile[T templateSet[T]](t T, files map[string]string, name string) error {
	if _, err := t.New(name).Parse(files[name]); err != nil {
		return fmt.Errorf("errorpage: Templates: %w", err)
	}
	return nil
}

// newPage returns the page of the file name, parsed into t's set. A file
// with nothing outside {{define}}s renders the set's "default.ext".
func newPage[T templateSet[T]](t T, name, ext string, tree func(T) *parse.Tree) (*page, error) {
	var none T
	empty := func(x T) bool {
		return x == none || tree(x) == nil || parse.IsEmptyTree(tree(x).Root)
	}
	root := t.Lookup(name)
	if empty(root) {
		def := "default." + ext
		root = t.Lookup(def)
		if empty(root) {
			if name == def {
				return nil, fmt.Errorf("errorpage: Templates: %s has nothing outside {{define}} blocks, and there is no embedded %s page for them", name, ext)
			}
			return nil, fmt.Errorf("errorpage: Templates: %s has nothing outside {{define}} blocks, and there is no %s for them", name, def)
		}
	}
	pg := &page{file: name, cacheable: ext != "json"}
	pg.exec = func(w io.Writer, d *Data) error { return root.Execute(w, d) }
	for _, x := range t.Templates() {
		if tr := tree(x); tr != nil && refersTo(tr.Root, "Host", "Path") {
			pg.reflects = true
		}
	}
	return pg, nil
}

// refersTo reports whether a template tree mentions a field of the names.
func refersTo(n parse.Node, names ...string) bool {
	found := false
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		if n == nil || found {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			found = found || hasIdent(n.Ident, names)
		case *parse.ChainNode:
			found = found || hasIdent(n.Field, names)
			walk(n.Node)
		case *parse.VariableNode:
			found = found || hasIdent(n.Ident, names)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	walk(n)
	return found
}

func hasIdent(idents, names []string) bool {
	for _, id := range idents {
		for _, n := range names {
			if id == n {
				return true
			}
		}
	}
	return false
}
