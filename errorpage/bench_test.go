package errorpage

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// discardWriter is a ResponseWriter that keeps only its header map, so that
// benchmarks measure the page, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func benchmarkServe(b *testing.B, accept string) {
	p, err := New(Config{Brand: Brand{Name: "Acme", SupportURL: "https://example.com/support"}})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/orders/42", nil)
	r.Header.Set("Accept", accept)
	r.Header.Set("Accept-Language", "de-DE,de;q=0.9,en;q=0.8")
	r.Header.Set("X-Request-ID", "req-7f3a9c")
	ge := &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, RetryAfter: 5 * time.Second}
	w := &discardWriter{h: make(http.Header, 16)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		p.ServeError(w, r, ge)
	}
}

func BenchmarkServeHTML(b *testing.B) {
	benchmarkServe(b, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
}
func BenchmarkServeProblemJSON(b *testing.B) { benchmarkServe(b, "application/problem+json") }
func BenchmarkServeText(b *testing.B)        { benchmarkServe(b, "text/plain") }

// BenchmarkRenderHTMLUncached measures executing the HTML template, as for
// a page with debug details.
func BenchmarkRenderHTMLUncached(b *testing.B) {
	p, err := New(Config{Brand: Brand{Name: "Acme"}})
	if err != nil {
		b.Fatal(err)
	}
	ge := &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused}
	b.ReportAllocs()
	for b.Loop() {
		buf := p.buffer()
		j := job{format: HTML, loc: 1, status: 502, ge: ge, rid: "req-1", now: time.Now()}
		p.set(HTML).page(502).exec(buf, p.data(&j)) //nolint:errcheck // checked in New
		p.release(buf)
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Config{}); err != nil {
			b.Fatal(err)
		}
	}
}
