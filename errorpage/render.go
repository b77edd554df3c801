package errorpage

import (
	"bytes"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// A pageSet is the templates of one format.
type pageSet struct {
	ext  string
	exec func(w io.Writer, name string, d *Data) error
	// names holds the template to use for each status from 400 to 599,
	// or "" for none (JSON without an operator template).
	names [200]string
	// cacheable reports whether the set's pages may be cached with the
	// per-request values filled in later; see check.
	cacheable bool
	// reflects reports whether a template shows Host or Path, which
	// rules caching out.
	reflects bool
}

// name returns the template for status, or "".
func (s *pageSet) name(status int) string {
	if s == nil || status < 400 || status > 599 {
		return ""
	}
	return s.names[status-400]
}

// parseSets parses the embedded templates and the operator's.
func parseSets(fsys fs.FS) (sets [numFormats]*pageSet, err error) {
	// HTML: the embedded base, cloned, with the operator's files parsed
	// over it so that their {{define}}s replace blocks.
	base, err := parseEmbeddedHTML()
	if err != nil {
		return sets, err
	}
	html := base
	if ok, err := fsHas(fsys, "*.html"); err != nil {
		return sets, fmt.Errorf("errorpage: Templates: %w", err)
	} else if ok {
		if html, err = base.Clone(); err != nil {
			return sets, err
		}
		if html, err = html.ParseFS(fsys, "*.html"); err != nil {
			return sets, fmt.Errorf("errorpage: Templates: %w", err)
		}
	}
	sets[HTML] = newSet("html", html.Templates(), func(w io.Writer, name string, d *Data) error {
		return html.ExecuteTemplate(w, name, d)
	})

	text, err := texttemplate.New("").ParseFS(embedded, "templates/*.txt")
	if err != nil {
		return sets, err
	}
	if ok, err := fsHas(fsys, "*.txt"); err != nil {
		return sets, fmt.Errorf("errorpage: Templates: %w", err)
	} else if ok {
		if text, err = text.ParseFS(fsys, "*.txt"); err != nil {
			return sets, fmt.Errorf("errorpage: Templates: %w", err)
		}
	}
	sets[Text] = newSet("txt", text.Templates(), func(w io.Writer, name string, d *Data) error {
		return text.ExecuteTemplate(w, name, d)
	})

	if ok, err := fsHas(fsys, "*.json"); err != nil {
		return sets, fmt.Errorf("errorpage: Templates: %w", err)
	} else if ok {
		js, err := texttemplate.New("").Funcs(texttemplate.FuncMap{"json": jsonValue}).ParseFS(fsys, "*.json")
		if err != nil {
			return sets, fmt.Errorf("errorpage: Templates: %w", err)
		}
		sets[JSON] = newSet("json", js.Templates(), func(w io.Writer, name string, d *Data) error {
			return js.ExecuteTemplate(w, name, d)
		})
		sets[JSON].cacheable = false
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

// newSet resolves, for every status, the template to use: "502.ext", then
// "5xx.ext", then "default.ext".
func newSet[T interface{ Name() string }](ext string, ts []T, exec func(io.Writer, string, *Data) error) *pageSet {
	s := &pageSet{ext: ext, exec: exec, cacheable: true}
	have := make(map[string]bool)
	for _, t := range ts {
		have[t.Name()] = true
		var root *parse.ListNode
		switch t := any(t).(type) {
		case *htmltemplate.Template:
			if t.Tree != nil {
				root = t.Tree.Root
			}
		case *texttemplate.Template:
			if t.Tree != nil {
				root = t.Tree.Root
			}
		}
		if root != nil && refersTo(root, "Host", "Path") {
			s.reflects = true
		}
	}
	for i := range s.names {
		status := strconv.Itoa(400 + i)
		for _, n := range []string{status + "." + ext, status[:1] + "xx." + ext, "default." + ext} {
			if have[n] {
				s.names[i] = n
				break
			}
		}
	}
	return s
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
	set := p.sets[j.format]
	name := set.name(j.status)
	if name == "" {
		p.writeJSON(buf, j)
		return
	}
	if set.cacheable && !set.reflects && !j.debug && (j.ge == nil || len(j.ge.Chain) == 0) {
		if seg := p.segments(set, name, j); seg != nil {
			var ts, iso, at [32]byte
			vals := [numSlots][]byte{
				slotRequestID: []byte(j.rid),
				slotTime:      appendTime(ts[:0], j.now),
				slotTimeISO:   j.now.UTC().AppendFormat(iso[:0], time.RFC3339),
			}
			if j.retry > 0 {
				vals[slotRetryAt] = appendRetryAt(at[:0], j.now, j.retry)
			}
			seg.write(buf, &vals)
			return
		}
	}
	d := p.data(j)
	if err := set.exec(buf, name, d); err != nil {
		// Templates were executed against sample data in New; should one
		// still fail, the visitor gets a plain status line.
		buf.Reset()
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
	d.Actions = actions(l, &p.brand, g, j.status)
	var chain []gatewayerr.ProxyStatus
	if j.ge != nil {
		d.Kind = j.ge.Kind.String()
		chain = j.ge.Chain
	}
	d.Hops = hops(l, g, chain, j.debug)
	if j.retry > 0 {
		d.RetryAt = string(appendRetryAt(nil, j.now, j.retry))
		d.Retry = l.retry(d.RetryAt)
	}
	if j.debug && j.ge != nil {
		d.Debug = debugOf(j.ge, j.retry)
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

// appendRetryAt appends the time now+d: its time of day in UTC, with the
// date when it is not within the day.
func appendRetryAt(b []byte, now time.Time, d time.Duration) []byte {
	t := now.Add(d).UTC()
	if d >= 20*time.Hour {
		return t.AppendFormat(b, "2006-01-02 15:04 UTC")
	}
	return t.AppendFormat(b, "15:04:05 UTC")
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
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
