package benchmarks

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// proxyWriter is a non-allocating ResponseWriter for the proxy benchmarks.
// Unlike discardWriter it has no CloseNotify, as ReverseProxy would start a
// goroutine for it; the request's context is cancellable instead, as a
// server's is.
type proxyWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *proxyWriter) Header() http.Header { return w.h }
func (w *proxyWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *proxyWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}
func (w *proxyWriter) Flush() {}

// benchProxy serves req with h b.N times and checks every status.
func benchProxy(b *testing.B, h http.Handler, req *http.Request, want int) {
	w := &proxyWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.code, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.code != want {
			b.Fatalf("status %d, want %d", w.code, want)
		}
	}
}

// plainPage is PlainProxy answering each failure with a constant copy of
// Gatehouse's page (ConstantPage): the floor for any branded page.
func plainPage(target *url.URL, tr http.RoundTripper) *httputil.ReverseProxy {
	rp := PlainProxy(target, tr, false)
	rp.ErrorHandler = ConstantPage()
	return rp
}

// benchRequest returns a GET for the proxies, with a cancellable context as
// a server gives, and a browser's Accept.
func benchRequest(b *testing.B) *http.Request {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://gateway.test/app/page?id=1", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	return req
}

// BenchmarkProxy compares NewReverseProxy with a plain ReverseProxy, on the
// success path (a loopback upstream answering 200 with a small body) and on
// the error path (a refused connection: the plain proxy's bare 502, against
// the branded 502 page with Proxy-Status, and plain-page, a plain proxy
// writing a constant copy of that page, the floor for any branded page).
//
// plain-via adds a Via entry like NewReverseProxy does: the in-process
// upstream server parses it, which costs one allocation in both.
// quickstart is NewReverseProxy with the zero Options: its own gateway
// transport instead of tr (see middleware.Transport.Base).
func BenchmarkProxy(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>ok</title><p>hello from the upstream</p>")
	}))
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	dead, _ := url.Parse("http://" + ln.Addr().String())
	ln.Close()

	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	quickstart := middleware.NewReverseProxy(target, middleware.Options{})
	defer middleware.ProxyTransport(quickstart).CloseIdleConnections() // its own transport's
	req := benchRequest(b)

	// Every proxy is built before the first measurement, so that all of them
	// run with the same live heap (the default pages included): a plain
	// proxy measured before the pages exist looks faster only because the
	// garbage collector has less to scan.
	proxies := []struct {
		name    string
		handler http.Handler
		status  int
	}{
		{"success/plain", PlainProxy(target, tr, false), http.StatusOK},
		{"success/plain-via", PlainProxy(target, tr, true), http.StatusOK},
		{"success/gatehouse", middleware.NewReverseProxy(target, middleware.Options{Transport: tr}), http.StatusOK},
		{"success/quickstart", quickstart, http.StatusOK},
		{"error/plain", PlainProxy(dead, tr, false), http.StatusBadGateway},
		{"error/plain-page", plainPage(dead, tr), http.StatusBadGateway},
		{"error/gatehouse", middleware.NewReverseProxy(dead, middleware.Options{Transport: tr}), http.StatusBadGateway},
	}
	for _, p := range proxies {
		b.Run(p.name, func(b *testing.B) { benchProxy(b, p.handler, req, p.status) })
	}
}

// BenchmarkTransport compares middleware.Transport used as an http.Client's
// transport with the http.Transport under it, on the success path.
func BenchmarkTransport(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer upstream.Close()
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, upstream.URL, nil)
	errorpage.Default() // the same live heap as in BenchmarkProxy

	for _, bc := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"plain", tr},
		{"gatehouse", &middleware.Transport{Base: tr}},
		{"gatehouse-policies", &middleware.Transport{Base: tr, Retry: &middleware.RetryPolicy{}, Breaker: &middleware.BreakerPolicy{}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 512)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := bc.rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := resp.Body.Read(buf); err != nil {
						break
					}
				}
				resp.Body.Close()
			}
		})
	}
}
