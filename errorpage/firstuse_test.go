package errorpage

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// TestFirstUseConcurrent checks the pages a Pages makes on first use (the
// templates of a format parsed again, a language's texts made again, its
// Data.T table, the language matcher) when many requests need them at
// once: served by goroutines that all start on a fresh Pages, in several
// formats and languages, by ServeError, ServeStatus and Render at once,
// every page must be the one a Pages that served them one at a time
// serves. Run it with -race.
func TestFirstUseConcurrent(t *testing.T) {
	msgs := map[string]map[string]string{
		"de":    {"ref.id": "Referenz", "format.datetime": "2.1.2006 15:04 UTC"},
		"pt-BR": {"title.upstream": "Serviço com problemas", "retry": "Tente de novo após %s."},
	}
	tmpl := fstest.MapFS{
		"default.html": {Data: []byte(`{{define "footer"}}<footer>{{index .T "ref.id"}} {{.RequestID}}</footer>{{end}}`)},
		"503.html":     {Data: []byte(`<p>{{.StatusText}}: id of {{len .RequestID}} bytes, {{.Title}} {{.Time}} {{.Retry}}</p>`)},
		"5xx.txt":      {Data: []byte("{{.Status}} {{.StatusText}}\n{{.Detail}}\n{{.RequestID}} {{.Retry}} {{index .T \"ref.id\"}}\n")},
		"default.json": {Data: []byte(`{"status":{{.Status}},"title":{{json .Title}},"id":{{json .RequestID}},"x":{{block "extra" .}}null{{end}}}`)},
		"404.json":     {Data: []byte(`{{define "extra"}}{{json .Path}}{{end}}`)},
	}
	configs := map[string]Config{
		"defaults":  {},
		"messages":  {Messages: msgs},
		"templates": {Templates: tmpl, Messages: msgs},
	}
	accepts := []string{"text/html", "application/json", "application/problem+json", "text/plain"}
	langs := []string{"", "de", "pt-BR", "ar", "ja;q=0.9, fr"}
	errs := []error{
		&gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, Upstream: "10.0.0.1:80", RetryAfter: 30 * time.Second},
		&gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, Err: ErrMaintenance, RetryAfter: 90 * time.Second},
		&gatewayerr.Error{Kind: gatewayerr.Unknown, ReceivedStatus: 502, Chain: []gatewayerr.ProxyStatus{{Proxy: "edge", Kind: gatewayerr.ConnectionTimeout, Error: "connection_timeout"}}},
	}
	var pages []func(*Pages) string
	for _, a := range accepts {
		for _, l := range langs {
			for i, id := range []string{"abc-123", "a-much-longer-request-id"} {
				r := func() *http.Request {
					return request("GET", "/a/b", "Accept", a, "Accept-Language", l, "X-Request-ID", id)
				}
				for _, e := range errs {
					pages = append(pages, func(p *Pages) string {
						w := httptest.NewRecorder()
						p.ServeError(w, r(), e)
						return response(w)
					})
				}
				for _, status := range []int{404, 503} {
					pages = append(pages, func(p *Pages) string {
						w := httptest.NewRecorder()
						p.ServeStatus(w, r(), status)
						return response(w)
					})
				}
				pages = append(pages, func(p *Pages) string {
					var b strings.Builder
					f := Format(slices.Index(accepts, a))
					err := p.Render(&b, Sample{Err: errs[i], Format: f, Language: l, RequestID: id, Time: fixedNow, Host: "h.example", Path: "/p"})
					return fmt.Sprint(err) + "\n" + b.String()
				})
			}
		}
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			want := make([]string, len(pages))
			one := newPages(t, cfg)
			for i, page := range pages {
				want[i] = page(one)
			}
			p := newPages(t, cfg)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for g := range 8 {
				wg.Go(func() {
					<-start
					for _, i := range rand.New(rand.NewPCG(uint64(g), 0)).Perm(len(pages)) {
						if got := pages[i](p); got != want[i] {
							t.Errorf("page %d served at once differs:\n%s\nwant\n%s", i, got, want[i])
						}
					}
				})
			}
			close(start)
			wg.Wait()
		})
	}
}

// response returns the status, the header and the body of w, to compare.
func response(w *httptest.ResponseRecorder) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", w.Code)
	for _, k := range slices.Sorted(maps.Keys(w.Header())) {
		fmt.Fprintf(&b, "%s: %q\n", k, w.Header()[k])
	}
	b.WriteString(w.Body.String())
	return b.String()
}
