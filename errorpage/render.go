package errorpage

import (
	"bytes"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
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

// parseSets parses the embedded templates and the operator's.
func parseSets(fsys fs.FS) (sets [numFormats]*pageSet, err error) {
	if fsys != nil {
		if err := checkNames(fsys); err != nil {
			return sets, err
		}
	}
	html, err := parseEmbeddedHTML()
	if err != nil {
		return sets, err
	}
	htmlTree := func(t *htmltemplate.Template) *parse.Tree { return t.Tree }
	if sets[HTML], err = newSet(html, fsys, "html", htmlTree); err != nil {
		return sets, err
	}
	text, err := texttemplate.New("").ParseFS(embedded, "templates/*.txt")
	if err != nil {
		return sets, err
	}
	textTree := func(t *texttemplate.Template) *parse.Tree { return t.Tree }
	if sets[Text], err = newSet(text, fsys, "txt", textTree); err != nil {
		return sets, err
	}
	js := texttemplate.New("").Funcs(texttemplate.FuncMap{"json": jsonValue})
	if sets[JSON], err = newSet(js, fsys, "json", textTree); err != nil {
		return sets, err
	}
	return sets, nil
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
// (none for JSON), and the operator's files in fsys with the extension ext.
//
// The operator's "default.ext" and any other file that is not a status
// file ("502.ext", "5xx.ext") are parsed over a clone of base, so that
// their {{define}}s replace blocks on every page. Then each status file is
// parsed on its own clone of that, so that its {{define}}s replace blocks
// on its own pages only. A file with nothing outside {{define}}s renders
// "default.ext" with its blocks; a file with content of its own renders
// that. For each status, the page is that of "502.ext", "5xx.ext" or
// "default.ext", the first that exists.
func newSet[T templateSet[T]](base T, fsys fs.FS, ext string, tree func(T) *parse.Tree) (*pageSet, error) {
	var files []string
	if fsys != nil {
		var err error
		if files, err = fs.Glob(fsys, "*."+ext); err != nil {
			return nil, fmt.Errorf("errorpage: Templates: %w", err)
		}
	}
	var shared, status []string
	for _, f := range files {
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
				if err := checkBlocks(base, fsys, f, ext, tree); err != nil {
					return nil, err
				}
			}
			if err := parseFile(base, fsys, f); err != nil {
				return nil, err
			}
		}
	}
	// Clone for the status files before the base becomes a page: an
	// html/template set cannot be cloned once executed.
	pages := make(map[string]*page)
	for _, f := range status {
		if err := checkBlocks(base, fsys, f, ext, tree); err != nil {
			return nil, err
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if err := parseFile(t, fsys, f); err != nil {
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

// checkBlocks checks a file of {{define}}s only, name in fsys, that is to
// override blocks of base: each block it defines must be one of base's, or
// be used by a block of its own, or it would never be rendered (such as a
// "message" in a ".txt" file: the text page has no such block). The error
// lists base's blocks. A file with content outside its {{define}}s is a page
// of its own, and is not checked.
func checkBlocks[T templateSet[T]](base T, fsys fs.FS, name, ext string, tree func(T) *parse.Tree) error {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("errorpage: Templates: %w", err)
	}
	trees, err := parseTrees(name, string(src))
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

// parseFile parses the file name of fsys into t's set, as a template of
// that name.
func parseFile[T templateSet[T]](t T, fsys fs.FS, name string) error {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("errorpage: Templates: %w", err)
	}
	if _, err := t.New(name).Parse(string(src)); err != nil {
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

// jsonValue is the "json" function of JSON templates: v encoded as JSON.
func jsonValue(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// render writes the body of the page j describes to buf.
func (p *Pages) render(buf *bytes.Buffer, j *job) {
	pg := p.sets[j.format].page(j.status)
	if pg == nil {
		p.writeJSON(buf, j)
		return
	}
	if pg.cacheable && !pg.reflects && !j.debug && (j.ge == nil || len(j.ge.Chain) == 0) {
		if seg := p.segments(pg, j); seg != nil {
			var ts, iso, at [48]byte
			var secs [20]byte
			vals := [numSlots][]byte{
				slotRequestID: []byte(j.rid),
				slotTime:      appendTime(ts[:0], j.now),
				slotTimeISO:   j.now.UTC().AppendFormat(iso[:0], time.RFC3339),
			}
			fillRetry(&vals, p.locales[j.loc], j, at[:0], secs[:0])
			seg.write(buf, &vals)
			return
		}
	}
	d := p.data(j)
	if err := pg.exec(buf, d); err != nil || (j.format == JSON && !jsonValid(buf.Bytes())) {
		// Templates were executed against sample data in New; should one
		// still fail for this request's data (a branch the samples did not
		// reach, a value that breaks a hand-written JSON string), the
		// visitor gets the built-in JSON document, or a plain status line.
		buf.Reset()
		if j.format == JSON {
			p.writeJSON(buf, j)
			return
		}
		fmt.Fprintf(buf, "%d %s\n", j.status, p.locales[j.loc].statusText(j.status))
	}
}

// data returns the template data of j.
func (p *Pages) data(j *job) *Data {
	l := p.locales[j.loc]
	g := j.group()
	d := &Data{
		Status:     j.status,
		StatusText: l.statusText(j.status),
		Title:      l.msgs["title."+groupNames[g]],
		Detail:     l.msgs["detail."+groupNames[g]],
		RequestID:  j.rid,
		Time:       string(appendTime(nil, j.now)),
		TimeISO:    j.now.UTC().Format(time.RFC3339),
		Lang:       l.tag,
		Dir:        l.dir,
		Host:       clean(j.host, 256),
		Path:       clean(j.path, 2048),
		Brand:      p.brand,
		T:          l.msgs,
	}
	d.Actions = actions(l, &p.brand, g, j.status, j.retry > 0)
	var chain []gatewayerr.ProxyStatus
	if j.ge != nil {
		d.Kind = j.ge.Kind.String()
		chain = j.ge.Chain
	}
	d.Hops = hops(l, g, chain, j.debug)
	if len(d.Hops) > 0 {
		d.HopsTitle = l.msgs["hop.title"]
		if g == gMaintenance {
			d.HopsTitle = l.msgs["hop.title.stopped"]
		}
	}
	if j.retry > 0 {
		d.RetryAt = string(appendRetryAt(nil, l, j.now, j.retry))
		if j.refresh {
			d.Refresh = strconv.FormatInt(refreshSeconds(j.now, j.retry), 10)
		}
		d.Retry = l.retry(d.RetryAt, j.refresh, j.dated())
	}
	if j.debug && j.ge != nil {
		d.Debug = debugOf(j.ge, j.retry)
		d.Debug.Hint = operatorHint(j.ge.Kind, g)
	}
	return d
}

// debugOf returns the operator's details of ge.
func debugOf(ge *gatewayerr.Error, retry time.Duration) *Debug {
	dbg := &Debug{
		Kind:           ge.Kind.String(),
		Upstream:       clean(ge.Upstream, 256),
		Attempts:       ge.Attempts,
		ReceivedStatus: ge.ReceivedStatus,
	}
	if dbg.Upstream == "" {
		dbg.Upstream = clean(ge.NextHop, 256)
	}
	if ge.Phase != gatewayerr.PhaseUnknown {
		dbg.Phase = ge.Phase.String()
	}
	if ge.Err != nil {
		dbg.Cause = clean(ge.Err.Error(), 1000)
	}
	if retry > 0 {
		dbg.RetryAfter = retry.String()
	}
	for i := len(ge.Chain) - 1; i >= 0 && len(dbg.Proxies) < maxChainHops; i-- {
		ps := ge.Chain[i]
		s := ps.Proxy
		if ps.Error != "" {
			s += ": " + ps.Error
		}
		if ps.ReceivedStatus != 0 {
			s += " (" + strconv.Itoa(ps.ReceivedStatus) + ")"
		}
		dbg.Proxies = append(dbg.Proxies, clean(s, 200))
	}
	return dbg
}

// appendTime appends t in UTC as "2006-01-02 15:04:05 UTC".
func appendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02 15:04:05 UTC")
}

// retryMoment returns the moment now+d as pages state it, in UTC: to the
// second when it is less than an hour away and today, to the minute
// otherwise (the dated layouts stop at the minute), rounded up, so that it
// is never too early; and the precision.
func retryMoment(now time.Time, d time.Duration) (time.Time, time.Duration) {
	t := now.Add(d).UTC()
	precision := time.Second
	y, m, dd := t.Date()
	ny, nm, nd := now.UTC().Date()
	if d >= time.Hour || y != ny || m != nm || dd != nd {
		precision = time.Minute
	}
	if r := t.Truncate(precision); !r.Equal(t) {
		t = r.Add(precision)
	}
	return t, precision
}

// sameDay reports whether the moment now+d (see retryMoment) falls on the
// same day as now, in UTC.
func sameDay(now time.Time, d time.Duration) bool {
	t, _ := retryMoment(now, d)
	y, m, dd := t.Date()
	ny, nm, nd := now.UTC().Date()
	return y == ny && m == nm && dd == nd
}

// appendRetryAt appends the moment now+d (see retryMoment) as the language
// l writes it: its time of day, with its date (l's "format.datetime") when
// it is not on the same day as now.
func appendRetryAt(b []byte, l *locale, now time.Time, d time.Duration) []byte {
	t, precision := retryMoment(now, d)
	if sameDay(now, d) {
		if precision == time.Second {
			return t.AppendFormat(b, "15:04:05 UTC")
		}
		return t.AppendFormat(b, "15:04 UTC")
	}
	return t.AppendFormat(b, l.msgs["format.datetime"])
}

// refreshSeconds returns the delay, in whole seconds, after which a page
// that refreshes itself reloads: at the moment it states (retryMoment),
// never before.
func refreshSeconds(now time.Time, d time.Duration) int64 {
	t, _ := retryMoment(now, d)
	return int64((t.Sub(now) + time.Second - 1) / time.Second)
}

// clean returns s as valid UTF-8 without control characters (replaced by
// U+FFFD), cut to at most max bytes.
func clean(s string, max int) string {
	ok := len(s) <= max
	for i := 0; ok && i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			ok = false // a control character, or not ASCII: check it all
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControlOrBreak(r) {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
