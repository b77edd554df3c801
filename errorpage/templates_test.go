package errorpage

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

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
	}
	for name, fsys := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := New(Config{Templates: fsys}); err == nil {
				t.Errorf("New accepted a broken template")
			}
		})
	}
}

// TestCachedEqualsDirect checks, for every status, kind, format and
// language, that a cached page filled in is the page the template renders.
func TestCachedEqualsDirect(t *testing.T) {
	p := newPages(t, Config{Brand: Brand{Name: "Acme", HomeURL: "https://example.com"}})
	type variant struct {
		status int
		ge     *gatewayerr.Error
	}
	var variants []variant
	for _, k := range gatewayerr.Kinds() {
		variants = append(variants, variant{statusOf(&gatewayerr.Error{Kind: k}), &gatewayerr.Error{Kind: k}})
	}
	for _, s := range []int{400, 401, 404, 418, 429, 500, 502, 503, 504, 599} {
		variants = append(variants, variant{s, nil})
	}
	for _, f := range []Format{HTML, Text} {
		set := p.sets[f]
		for _, v := range variants {
			status, ge := v.status, v.ge
			for loc := range p.locales {
				for _, retry := range []int64{0, 90e9} {
					j := job{format: f, loc: loc, status: status, ge: ge, rid: "id-1", now: fixedNow, retry: time.Duration(retry)}
					seg := p.segments(set, set.name(status), &j)
					if seg == nil {
						t.Fatalf("%v %d: not cached", f, status)
					}
					var direct strings.Builder
					if err := set.exec(&direct, set.name(status), p.data(&j)); err != nil {
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
