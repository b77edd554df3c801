package errorpage

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

func TestTemplateOverrides(t *testing.T) {
	fsys := fstest.MapFS{
		"502.html":     {Data: []byte(`<!doctype html><title>{{.Status}}</title><p>custom 502 for {{.RequestID}} {{template "footer" .}}`)},
		"5xx.html":     {Data: []byte(`<!doctype html><p>custom 5xx {{.Status}} {{.Title}}</p>`)},
		"default.html": {Data: []byte(`{{define "footer"}}<footer>overridden footer</footer>{{end}}`)},
		"404.txt":      {Data: []byte("nothing here ({{.RequestID}})\n")},
		"5xx.json":     {Data: []byte(`{"oops":{{json .Title}},"code":{{.Status}},"id":{{json .RequestID}}}`)},
	}
	p := newPages(t, Config{Templates: fsys})
	tests := []struct {
		status int
		accept string
		want   string
	}{
		{502, "text/html", "custom 502 for r-1 <footer>overridden footer</footer>"},
		{503, "text/html", "custom 5xx 503 Down for maintenance"},
		{404, "text/html", "<footer>overridden footer</footer>"}, // default.html, footer block replaced
		{404, "text/html", "<h1>Page not found</h1>"},            // and the rest kept
		{404, "text/plain", "nothing here (r-1)\n"},
		{403, "text/plain", "403 Forbidden"},
		{504, "application/json", `{"oops":"The service took too long to answer","code":504,"id":"r-1"}`},
		{404, "application/json", `"title":"Page not found"`}, // no 4xx.json: the built-in JSON
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		p.ServeStatus(rec, request("GET", "/", "Accept", tt.accept, "X-Request-ID", "r-1"), tt.status)
		if !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%d %s: page lacks %q:\n%s", tt.status, tt.accept, tt.want, rec.Body)
		}
		if tt.accept == "application/json" && !json.Valid(rec.Body.Bytes()) {
			t.Errorf("%d: invalid JSON %s", tt.status, rec.Body)
		}
	}
	// A second Pages without overrides is unaffected: the base is cloned.
	rec := httptest.NewRecorder()
	newPages(t, Config{}).ServeStatus(rec, request("GET", "/", "Accept", "text/html"), 404)
	if strings.Contains(rec.Body.String(), "overridden") {
		t.Error("an override leaked into other Pages")
	}
}

func TestTemplateOverrideEscapes(t *testing.T) {
	fsys := fstest.MapFS{"default.html": {Data: []byte(`{{define "footer"}}<footer><a href="/?id={{.RequestID}}">{{.Brand.Name}}</a> {{.Path}} {{.Host}}</footer>{{end}}`)}}
	p := newPages(t, Config{Templates: fsys, Brand: Brand{Name: `<script>alert("x")</script>`}})
	rec := httptest.NewRecorder()
	r := request("GET", "/<script>alert(1)</script>", "Accept", "text/html", "X-Request-ID", "a:b")
	r.Host = `evil"><script>`
	p.ServeError(rec, r, gatewayerr.ConnectionRefused)
	body := rec.Body.String()
	if strings.Contains(body, "<script") {
		t.Errorf("unescaped input in page:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("brand name not shown escaped:\n%s", body)
	}
	if !strings.Contains(body, `href="/?id=a%3ab"`) {
		t.Errorf("request ID not in the link:\n%s", body)
	}
}

func TestBrokenTemplatesFailNew(t *testing.T) {
	tests := map[string]fstest.MapFS{
		"parse error":         {"502.html": {Data: []byte(`{{if}}`)}},
		"unknown field":       {"5xx.html": {Data: []byte(`{{.NoSuchField}}`)}},
		"nil debug":           {"default.html": {Data: []byte(`{{define "footer"}}{{.Debug.Kind}}{{end}}`)}},
		"missing template":    {"default.txt": {Data: []byte(`{{template "nope" .}}`)}},
		"unknown function":    {"default.html": {Data: []byte(`{{nope .}}`)}},
		"invalid json":        {"default.json": {Data: []byte(`{"title": {{.Title}}}`)}},
		"json parse error":    {"5xx.json": {Data: []byte(`{{end}}`)}},
		"html in bad context": {"404.html": {Data: []byte(`<a href="{{.Title}}`)}},
		"fails for one kind": {"default.json": {Data: []byte(
			`{"status":{{.Status}}{{if eq .Kind "tls_certificate_error"}}{{index .Actions 99}}{{end}}}`)}},
		"empty for one kind": {"default.txt": {Data: []byte(`{{if ne .Kind "dns_timeout"}}{{.Title}}{{end}}`)}},
	}
	for name, fsys := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := New(Config{Templates: fsys}); err == nil {
				t.Errorf("New accepted a broken template")
			}
		})
	}
}

// renderPage returns the body of the page for status in format f.
func renderPage(t *testing.T, p *Pages, status int, f Format) string {
	t.Helper()
	var b strings.Builder
	if err := p.Render(&b, Sample{Status: status, Format: f, RequestID: "r-1", Time: fixedNow}); err != nil {
		t.Fatalf("Render %d %v: %v", status, f, err)
	}
	return b.String()
}

// TestStatusOverrides checks that each status file is parsed on its own
// copy of the base: its {{define}}s change only the pages it serves, a file
// of {{define}}s only renders the base layout with them, and a file with
// content of its own is the whole page.
func TestStatusOverrides(t *testing.T) {
	// The embedded layout around the "message" block, in HTML and text.
	htmlLayout := []string{"<!doctype html><html lang=en dir=ltr>", "<h2 id=ref>Reference</h2>", "<code>r-1</code>"}
	type want struct {
		status int
		format Format
		same   bool     // the page is the embedded default's, byte for byte
		exact  string   // the page is exactly this
		has    []string // the page holds each of these
		lacks  []string // and none of these
	}
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []want
	}{{
		name:  "define-only 503.html changes only 503",
		files: fstest.MapFS{"503.html": {Data: []byte(`{{define "message"}}<h1>Back at {{.Status}} o'clock</h1>{{end}}` + "\n")}},
		want: []want{
			{status: 503, has: append([]string{"<h1>Back at 503 o'clock</h1>"}, htmlLayout...), lacks: []string{"Down for maintenance"}},
			{status: 502, same: true},
			{status: 504, same: true},
			{status: 404, same: true},
			{status: 503, format: Text, same: true},
		},
	}, {
		name: "define-only 5xx.html serves 500 to 599, 503.html wins for 503",
		files: fstest.MapFS{
			"5xx.html": {Data: []byte(`{{define "message"}}<h1>Server trouble {{.Status}}</h1>{{end}}`)},
			"503.html": {Data: []byte(`{{define "message"}}<h1>Maintenance {{.Status}}</h1>{{end}}`)},
		},
		want: []want{
			{status: 500, has: append([]string{"<h1>Server trouble 500</h1>"}, htmlLayout...)},
			{status: 502, has: append([]string{"<h1>Server trouble 502</h1>"}, htmlLayout...)},
			{status: 504, has: []string{"<h1>Server trouble 504</h1>"}},
			{status: 599, has: []string{"<h1>Server trouble 599</h1>"}},
			{status: 503, has: append([]string{"<h1>Maintenance 503</h1>"}, htmlLayout...), lacks: []string{"Server trouble"}},
			{status: 404, same: true},
			{status: 429, same: true},
		},
	}, {
		name: "full-page 502.html replaces the whole page, its defines only its own",
		files: fstest.MapFS{
			"502.html": {Data: []byte(`{{define "message"}}<p>all ours</p>{{end}}<!doctype html><title>{{.Status}}</title>{{template "message" .}}`)},
		},
		want: []want{
			{status: 502, exact: "<!doctype html><title>502</title><p>all ours</p>"},
			{status: 503, same: true},
			{status: 500, same: true},
			{status: 502, format: Text, same: true},
		},
	}, {
		name: "define-only default.html changes every page, status files included",
		files: fstest.MapFS{
			"default.html": {Data: []byte(`{{define "footer"}}<footer>Acme Ltd.</footer>{{end}}`)},
			"503.html":     {Data: []byte(`{{define "message"}}<h1>Maintenance</h1>{{end}}`)},
			"5xx.html":     {Data: []byte(`<!doctype html><p>{{.Status}}</p>{{template "footer" .}}`)},
		},
		want: []want{
			{status: 404, has: append([]string{"<footer>Acme Ltd.</footer>", "<h1>Page not found</h1>"}, htmlLayout...)},
			{status: 503, has: append([]string{"<footer>Acme Ltd.</footer>", "<h1>Maintenance</h1>"}, htmlLayout...), lacks: []string{"Down for maintenance"}},
			{status: 502, exact: "<!doctype html><p>502</p><footer>Acme Ltd.</footer>"},
			{status: 404, format: Text, same: true},
		},
	}, {
		name: "define-only 503.txt changes only 503",
		files: fstest.MapFS{
			"503.txt": {Data: []byte(`{{define "actions"}}` + "\n\nCome back after lunch." + `{{end}}`)},
		},
		want: []want{
			{status: 503, format: Text, has: []string{"503 Service Unavailable\n\nDown for maintenance\n", "\n\nCome back after lunch.\nReference:\nRequest ID: r-1\n"}},
			{status: 502, format: Text, same: true},
			{status: 504, format: Text, same: true},
			{status: 503, same: true},
		},
	}, {
		name: "text: define-only 5xx.txt and 503.txt, full-page 502.txt, define-only default.txt",
		files: fstest.MapFS{
			"default.txt": {Data: []byte(`{{define "footer"}}` + "\n\n-- Acme" + `{{end}}`)},
			"5xx.txt":     {Data: []byte(`{{define "actions"}}` + "\n\nServer trouble." + `{{end}}`)},
			"503.txt":     {Data: []byte(`{{define "actions"}}` + "\n\nMaintenance." + `{{end}}`)},
			"502.txt":     {Data: []byte(`{{define "actions"}}unused{{end}}{{.Status}} is ours{{template "footer" .}}` + "\n")},
		},
		want: []want{
			{status: 500, format: Text, has: []string{"500 Internal Server Error\n", "\n\nServer trouble.\nReference:\n", "\n\n-- Acme"}},
			{status: 504, format: Text, has: []string{"\n\nServer trouble.\nReference:\n", "\n\n-- Acme"}},
			{status: 503, format: Text, has: []string{"\n\nMaintenance.\nReference:\n", "\n\n-- Acme"}, lacks: []string{"Server trouble"}},
			{status: 502, format: Text, exact: "502 is ours\n\n-- Acme\n"},
			{status: 404, format: Text, has: []string{"404 Not Found\n", "\n\n-- Acme"}, lacks: []string{"Server trouble", "unused"}},
		},
	}, {
		name: "json: define-only 5xx.json and 503.json fill default.json's blocks",
		files: fstest.MapFS{
			"default.json": {Data: []byte(`{"status":{{.Status}},"title":{{json .Title}}{{block "extra" .}}{{end}}}`)},
			"5xx.json":     {Data: []byte(`{{define "extra"}},"server":true{{end}}`)},
			"503.json":     {Data: []byte(`{{define "extra"}},"maintenance":true{{end}}`)},
		},
		want: []want{
			{status: 503, format: JSON, exact: `{"status":503,"title":"Down for maintenance","maintenance":true}`},
			{status: 502, format: JSON, exact: `{"status":502,"title":"The service is having trouble","server":true}`},
			{status: 404, format: JSON, exact: `{"status":404,"title":"Page not found"}`},
			{status: 503, format: ProblemJSON, same: true},
		},
	}, {
		name: "json: full-page 502.json keeps its defines from 5xx.json",
		files: fstest.MapFS{
			"5xx.json": {Data: []byte(`{"code":{{.Status}}{{block "extra" .}}{{end}}}`)},
			"502.json": {Data: []byte(`{{define "extra"}},"no":1{{end}}{"bad_gateway":{{.Status}}}`)},
		},
		want: []want{
			{status: 504, format: JSON, exact: `{"code":504}`},
			{status: 503, format: JSON, exact: `{"code":503}`},
			{status: 502, format: JSON, exact: `{"bad_gateway":502}`},
			{status: 404, format: JSON, same: true},
		},
	}}
	base := newPages(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPages(t, Config{Templates: tt.files})
			for _, w := range tt.want {
				got := renderPage(t, p, w.status, w.format)
				label := fmt.Sprintf("%d %v", w.status, w.format)
				switch {
				case w.same:
					if diff := cmp.Diff(renderPage(t, base, w.status, w.format), got); diff != "" {
						t.Errorf("%s: page differs from the default (-want +got):\n%s", label, diff)
					}
				case w.exact != "":
					if diff := cmp.Diff(w.exact, got); diff != "" {
						t.Errorf("%s: page (-want +got):\n%s", label, diff)
					}
				}
				for _, s := range w.has {
					if !strings.Contains(got, s) {
						t.Errorf("%s: page lacks %q:\n%s", label, s, got)
					}
				}
				for _, s := range w.lacks {
					if strings.Contains(got, s) {
						t.Errorf("%s: page holds %q:\n%s", label, s, got)
					}
				}
			}
		})
	}
}

// TestStatusOverrideServed checks the pages served, through the cache, for
// a status file that reflects the host: each request sees its own.
func TestStatusOverrideServed(t *testing.T) {
	fsys := fstest.MapFS{"503.html": {Data: []byte(`{{define "footer"}}<footer>{{.Host}}</footer>{{end}}`)}}
	p := newPages(t, Config{Templates: fsys})
	for _, host := range []string{"a.example", "b.example", "a.example"} {
		for _, status := range []int{503, 502} {
			rec := httptest.NewRecorder()
			r := request("GET", "/", "Accept", "text/html", "X-Request-ID", "r-"+host)
			r.Host = host
			p.ServeStatus(rec, r, status)
			body := rec.Body.String()
			if got, want := strings.Contains(body, "<footer>"+host+"</footer>"), status == 503; got != want {
				t.Errorf("%d for %s: footer with the host = %v, want %v:\n%s", status, host, got, want, body)
			}
			if !strings.Contains(body, "<code>r-"+host+"</code>") || !strings.Contains(body, "<h2 id=ref>") {
				t.Errorf("%d for %s: page lacks the layout or its request ID:\n%s", status, host, body)
			}
		}
	}
}

// TestEmptyOrFailingPagesFailNew checks that New rejects a page that
// renders nothing, or fails with sample data, naming the file.
func TestEmptyOrFailingPagesFailNew(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		file  string // the file the error must name
	}{
		{"empty unless debug", fstest.MapFS{"502.html": {Data: []byte(`{{if .Debug}}<p>debug</p>{{end}}`)}}, "502.html"},
		{"only whitespace", fstest.MapFS{"5xx.txt": {Data: []byte("{{if false}}x{{end}}\n\n")}}, "5xx.txt"},
		{"empty for 4xx pages", fstest.MapFS{"default.html": {Data: []byte(`{{with .Hops}}<p>{{len .}}</p>{{end}}`)}}, "default.html"},
		{"define-only json without default.json", fstest.MapFS{"503.json": {Data: []byte(`{{define "x"}}{}{{end}}`)}}, "503.json"},
		{"define-only default.json", fstest.MapFS{"default.json": {Data: []byte(`{{define "x"}}{}{{end}}`)}}, "default.json"},
		{"failing block in a define-only file", fstest.MapFS{"503.html": {Data: []byte(`{{define "message"}}{{.Debug.Kind}}{{end}}`)}}, "503.html"},
		{"failing block in 4xx.txt", fstest.MapFS{"4xx.txt": {Data: []byte(`{{define "footer"}}{{template "nope"}}{{end}}`)}}, "4xx.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Templates: tt.files})
			if err == nil {
				t.Fatal("New accepted the template")
			}
			if !strings.Contains(err.Error(), tt.file) {
				t.Errorf("New: %v; want an error naming %s", err, tt.file)
			}
		})
	}
}

// TestCachedEqualsDirect checks, for every status, kind, format and
// language, that a cached page filled in is the page the template renders.
func TestCachedEqualsDirect(t *testing.T) {
	configs := map[string]Config{
		"embedded": {Brand: Brand{Name: "Acme", HomeURL: "https://example.com"}},
		"status files": {Brand: Brand{Name: "Acme"}, Templates: fstest.MapFS{
			"default.html": {Data: []byte(`{{define "footer"}}<footer>{{.RequestID}} at {{.Time}}</footer>{{end}}`)},
			"503.html":     {Data: []byte(`{{define "message"}}<h1>{{.Status}} until {{.RetryAt}}</h1>{{end}}`)},
			"5xx.html":     {Data: []byte(`{{define "actions"}}<p>{{.Title}} {{.Retry}}</p>{{end}}`)},
			"502.html":     {Data: []byte(`<!doctype html><p>{{.Status}} {{.Kind}} <time datetime={{.TimeISO}}>{{.Time}}</time> {{.RequestID}}</p>`)},
			"4xx.txt":      {Data: []byte(`{{define "footer"}}` + "\n" + `{{.StatusText}} {{.RequestID}}{{end}}`)},
			"504.txt":      {Data: []byte("{{.Status}} {{.Time}} {{.RetryAt}}\n")},
		}},
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			testCachedEqualsDirect(t, newPages(t, cfg))
		})
	}
}

func testCachedEqualsDirect(t *testing.T, p *Pages) {
	type variant struct {
		status int
		ge     *gatewayerr.Error
	}
	var variants []variant
	for _, k := range gatewayerr.Kinds() {
		variants = append(variants, variant{(&gatewayerr.Error{Kind: k}).StatusCode(), &gatewayerr.Error{Kind: k}})
	}
	for _, s := range []int{400, 401, 404, 418, 429, 500, 502, 503, 504, 599} {
		variants = append(variants, variant{s, nil})
	}
	for _, f := range []Format{HTML, Text} {
		set := p.set(f)
		for _, v := range variants {
			status, ge := v.status, v.ge
			pg := set.page(status)
			if !pg.cacheable || pg.reflects {
				t.Fatalf("%v %d: %s is not cacheable", f, status, pg.file)
			}
			for loc := range p.locales {
				for _, retry := range []int64{0, 90e9} {
					j := job{format: f, loc: loc, status: status, ge: ge, rid: "id-1", now: fixedNow, retry: time.Duration(retry)}
					seg := p.segments(pg, &j)
					if seg == nil {
						t.Fatalf("%v %d: not cached", f, status)
					}
					var direct strings.Builder
					if err := pg.exec(&direct, p.data(&j)); err != nil {
						t.Fatal(err)
					}
					cached := p.buffer()
					p.render(cached, &j)
					if cached.String() != direct.String() {
						t.Fatalf("%v %d %v %s: cached page differs from direct rendering", f, status, ge, p.locales[loc].tag)
					}
					p.release(cached)
				}
			}
		}
	}
}

// TestCacheKeepsVisitorsApart checks that a template that shows the host
// or path other than as a field (printf of the whole Data, the dot itself,
// with) never serves one visitor's host or path to another: the cache must
// notice, in every format, and even for a status that New's samples do not
// render.
func TestCacheKeepsVisitorsApart(t *testing.T) {
	tests := []struct {
		name, file, src string
		accept          string
		showsPath       bool
	}{
		{"html printf", "default.html", `<p>{{printf "%+v" .}}</p>`, "text/html", true},
		{"html dot", "default.html", `<p>{{.}}</p>`, "text/html", true},
		{"html with", "default.html", `<p>{{with .Host}}{{.}}{{end}} {{.Status}}</p>`, "text/html", false},
		{"html define-only", "default.html", `{{define "footer"}}<footer>{{printf "%v" .}}</footer>{{end}}`, "text/html", true},
		{"txt printf", "default.txt", `{{printf "%+v" .}}`, "text/plain", true},
		{"txt dot", "default.txt", `{{.}}`, "text/plain", true},
		{"txt with", "default.txt", `{{with .Host}}{{.}}{{end}} {{.Status}}`, "text/plain", false},
		{"txt only for 418", "default.txt", `{{if eq .Status 418}}{{printf "%v" .}}{{else}}{{.Status}}{{end}}`, "text/plain", true},
		{"json printf", "default.json", `{"d":{{json (printf "%+v" .)}}}`, "application/json", true},
		{"json dot", "default.json", `{"d":{{json .}}}`, "application/json", true},
		{"json with", "default.json", `{"h":{{with .Host}}{{json .}}{{else}}null{{end}},"s":{{.Status}}}`, "application/json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPages(t, Config{Templates: fstest.MapFS{tt.file: {Data: []byte(tt.src)}}})
			for _, status := range []int{418, 502} {
				for _, v := range []string{"alpha", "beta", "alpha"} {
					rec := httptest.NewRecorder()
					r := request("GET", "/"+v, "Accept", tt.accept, "X-Request-ID", "r-"+v)
					r.Host = "h-" + v + ".example"
					p.ServeStatus(rec, r, status)
					body := rec.Body.String()
					other := map[string]string{"alpha": "beta", "beta": "alpha"}[v]
					if status == 418 || tt.name != "txt only for 418" {
						if !strings.Contains(body, "h-"+v+".example") || (tt.showsPath && !strings.Contains(body, "/"+v)) {
							t.Errorf("%d for %s: page lacks the visitor's own host or path:\n%.300s", status, v, body)
						}
					}
					if strings.Contains(body, "h-"+other+".example") || strings.Contains(body, "/"+other) {
						t.Errorf("%d for %s: page shows the other visitor's host or path:\n%.300s", status, v, body)
					}
				}
			}
		})
	}
}

// TestDefineOnlyUnknownBlockFailsNew checks that a file of {{define}}s only
// must name blocks that the page it overrides has, in every format, and that
// the error lists the blocks there are.
func TestDefineOnlyUnknownBlockFailsNew(t *testing.T) {
	defaultJSON := `{"status":{{.Status}}{{block "extra" .}}{{end}}}`
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []string // in the error: the file, the unknown block, the blocks there are
	}{
		{"default.txt message", fstest.MapFS{"default.txt": {Data: []byte(`{{define "message"}}hi{{end}}`)}},
			[]string{"default.txt", `"message"`, `"actions"`, `"debug"`, `"footer"`, `"strip"`}},
		{"503.txt message", fstest.MapFS{"503.txt": {Data: []byte(`{{define "message"}}hi{{end}}`)}},
			[]string{"503.txt", `"message"`, `"actions"`, `"footer"`}},
		{"default.html typo", fstest.MapFS{"default.html": {Data: []byte(`{{define "mesage"}}<h1>hi</h1>{{end}}`)}},
			[]string{"default.html", `"mesage"`, `"message"`, `"style"`, `"header"`, `"footer"`}},
		{"5xx.html one of two unknown", fstest.MapFS{"5xx.html": {Data: []byte(`{{define "footer"}}x{{end}}{{define "nope"}}y{{end}}`)}},
			[]string{"5xx.html", `"nope"`, `"reference"`}},
		{"503.json unknown", fstest.MapFS{"default.json": {Data: []byte(defaultJSON)}, "503.json": {Data: []byte(`{{define "other"}},"x":1{{end}}`)}},
			[]string{"503.json", `"other"`, `"extra"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Templates: tt.files})
			if err == nil {
				t.Fatal("New accepted a define-only file with an unknown block")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("New: %v; want it to mention %s", err, s)
				}
			}
		})
	}
	// Blocks that only a block of the file itself uses are fine, and so are
	// shared files of {{define}}s that other files use.
	ok := map[string]fstest.MapFS{
		"helper of a block": {"503.html": {Data: []byte(`{{define "message"}}<h1>{{template "when" .}}</h1>{{end}}{{define "when"}}soon{{end}}`)}},
		"shared blocks file": {
			"blocks.txt":  {Data: []byte(`{{define "sig"}}-- Acme{{end}}`)},
			"default.txt": {Data: []byte(`{{define "footer"}}` + "\n" + `{{template "sig"}}{{end}}`)},
		},
		"json block": {"default.json": {Data: []byte(defaultJSON)}, "503.json": {Data: []byte(`{{define "extra"}},"x":1{{end}}`)}},
	}
	for name, fsys := range ok {
		t.Run(name, func(t *testing.T) {
			if _, err := New(Config{Templates: fsys}); err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
}

// TestJSONTemplateFallsBackToBuiltIn checks that a JSON template that
// renders invalid JSON for one request's data, which New's samples could not
// foresee (a raw Host with a quote), gives way to the built-in JSON
// document: a JSON response is always JSON.
func TestJSONTemplateFallsBackToBuiltIn(t *testing.T) {
	p := newPages(t, Config{Templates: fstest.MapFS{"default.json": {Data: []byte(`{"status":{{.Status}},"host":"{{.Host}}"}`)}}})
	for _, host := range []string{"example.com", `a"b`} {
		r := request("GET", "/", "Accept", "application/json")
		r.Host = host
		rec := httptest.NewRecorder()
		p.ServeError(rec, r, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
		if !json.Valid(rec.Body.Bytes()) || rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
			t.Errorf("host %q: invalid JSON or length: %s", host, rec.Body)
		}
		if host == "example.com" && !strings.Contains(rec.Body.String(), `"host":"example.com"`) {
			t.Errorf("host %q: the template was not used: %s", host, rec.Body)
		}
	}
}

// TestTemplateNames checks that New rejects files that look meant as
// templates but would be ignored or misread, with an error naming them, and
// ignores files that are not templates.
func TestTemplateNames(t *testing.T) {
	const page = `{{define "message"}}<h1>x</h1>{{end}}`
	for _, name := range []string{"503.HTML", "5XX.html", "5xX.txt", "503.htm", "default.tmpl", "600.html", "0503.html", "399.json", "pages/503.html", "templates/default.txt"} {
		_, err := New(Config{Templates: fstest.MapFS{name: {Data: []byte(page)}}})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: New error %v, want one naming the file", name, err)
		}
	}
	ok := fstest.MapFS{
		"503.html":       {Data: []byte(page)},
		"blocks.html":    {Data: []byte(`{{define "extra"}}x{{end}}`)},
		"README.md":      {Data: []byte("notes")},
		"img/logo.svg":   {Data: []byte("<svg/>")},
		"default.json":   {Data: []byte(`{"status":{{.Status}}}`)},
		"4xx.txt":        {Data: []byte(`{{.Status}} {{.Title}}`)},
		"templates.yaml": {Data: []byte("a: b")},
	}
	if _, err := New(Config{Templates: ok}); err != nil {
		t.Errorf("New rejected well-named files: %v", err)
	}
}

// TestTemplatesParsedWhenServed checks that New lets the parsed templates
// go, and that the pages parsed again when first served are those New
// checked: from the files as New read them, not as they are later, with
// the pages New found cannot be cached still not cached.
func TestTemplatesParsedWhenServed(t *testing.T) {
	fsys := fstest.MapFS{
		// The length of the request ID cannot be cached: the cached
		// page holds a placeholder where the ID goes.
		"502.html": {Data: []byte(`<p>id of {{len .RequestID}} bytes</p>`)},
		"5xx.txt":  {Data: []byte("read in New\n")},
	}
	p := newPages(t, Config{Templates: fsys})
	for f := range p.sets {
		if p.sets[f].Load() != nil {
			t.Errorf("format %v: parsed templates kept by New", Format(f))
		}
	}
	fsys["5xx.txt"] = &fstest.MapFile{Data: []byte("changed after New\n")}
	delete(fsys, "502.html")

	for _, tt := range []struct{ accept, id, want string }{
		{"text/html", "abc", "<p>id of 3 bytes</p>"},
		{"text/html", "abcdefgh", "<p>id of 8 bytes</p>"},
		{"text/plain", "abc", "read in New\n"},
	} {
		rec := httptest.NewRecorder()
		p.ServeStatus(rec, request("GET", "/", "Accept", tt.accept, "X-Request-ID", tt.id), 502)
		if got := rec.Body.String(); got != tt.want {
			t.Errorf("Accept %s, ID %s: body %q, want %q", tt.accept, tt.id, got, tt.want)
		}
	}
	if pg := p.set(HTML).page(502); pg.cacheable {
		t.Errorf("502.html parsed again is cacheable; New found it is not")
	}
	if pg := p.set(HTML).page(503); !pg.cacheable {
		t.Errorf("default.html parsed again is not cacheable")
	}
	if p.sets[JSON].Load() != nil {
		t.Errorf("JSON templates parsed though no JSON page was served")
	}
}

// TestUncacheableOnlyByNew checks a page that only New's check finds it
// cannot cache, not the probes of a page's first caching: its rendering
// changes for the retry moment of one of New's samples, which no probe
// has. Parsed again when served, the page must still be rendered for each
// request, or a request with that moment gets the cached page.
func TestUncacheableOnlyByNew(t *testing.T) {
	// New's sample 502 is at 03:04:05 with a retry after 30 s; the probes
	// retry after a minute.
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fsys := fstest.MapFS{
		"502.html": {Data: []byte(`<p>{{if eq .RetryAt "03:04:35 UTC"}}at the sample's moment{{else}}{{.RetryAt}}{{end}}</p>`)},
	}
	p := newPages(t, Config{Templates: fsys, Now: func() time.Time { return now }})
	for _, tt := range []struct {
		retry time.Duration
		want  string
	}{
		{time.Minute, "<p>03:05:05 UTC</p>"},
		{30 * time.Second, "<p>at the sample's moment</p>"},
		{2 * time.Minute, "<p>03:06:05 UTC</p>"},
	} {
		rec := httptest.NewRecorder()
		e := &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, RetryAfter: tt.retry}
		p.ServeError(rec, request("GET", "/", "Accept", "text/html"), e)
		if got := rec.Body.String(); got != tt.want {
			t.Errorf("retry after %v: body %q, want %q", tt.retry, got, tt.want)
		}
	}
}

// TestTemplatesFailingWhenParsedAgain checks what a visitor gets should
// the templates fail to parse when first served, although New parsed the
// same sources: a plain status line for HTML and text, never a document
// of another format.
func TestTemplatesFailingWhenParsedAgain(t *testing.T) {
	fsys := fstest.MapFS{"default.txt": {Data: []byte("{{.Status}} text\n")}}
	p := newPages(t, Config{Templates: fsys})
	p.files["default.txt"] = "{{" // as if the sources had changed
	p.files["default.html"] = "{{"
	for _, accept := range []string{"text/plain", "text/html"} {
		rec := httptest.NewRecorder()
		p.ServeStatus(rec, request("GET", "/", "Accept", accept), 502)
		if got, want := rec.Body.String(), "502 Bad Gateway\n"; got != want {
			t.Errorf("Accept %s: body %q, want %q", accept, got, want)
		}
	}
}
