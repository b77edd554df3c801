package prometheus_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"

	gatehouseprom "github.com/gatehouse-go/gatehouse/contrib/prometheus"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// benchWriter is a ResponseWriter that allocates nothing.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(p), nil
}

// BenchmarkProxy serves requests through NewReverseProxy to a loopback
// upstream (success) and to a refused port (error), without metrics
// ("bare") and with the Prometheus hooks and breakers on ("metrics"), as
// in the same gateway with breakers but no metrics ("breaker"). The
// difference between "breaker" and "metrics" is the module's cost per
// request.
func BenchmarkProxy(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the upstream")
	}))
	defer upstream.Close()
	ok, _ := url.Parse(upstream.URL)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	dead := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ln.Close()
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()

	m := gatehouseprom.New(gatehouseprom.Config{})
	prom.NewRegistry().MustRegister(m)
	base := middleware.Options{Transport: tr}
	withBreaker := middleware.Options{Transport: tr, Breaker: &middleware.BreakerPolicy{ConsecutiveFailures: -1}}
	for _, bc := range []struct {
		name   string
		target *url.URL
		opts   middleware.Options
		status int
	}{
		{"success/bare", ok, base, 200},
		{"success/breaker", ok, withBreaker, 200},
		{"success/metrics", ok, m.Options(withBreaker), 200},
		{"error/bare", dead, base, 502},
		{"error/breaker", dead, withBreaker, 502},
		{"error/metrics", dead, m.Options(withBreaker), 502},
	} {
		h := middleware.NewReverseProxy(bc.target, bc.opts)
		b.Run(bc.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://gateway.test/", nil)
			w := &benchWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.code = 0
				h.ServeHTTP(w, req)
				if w.code != bc.status {
					b.Fatalf("status %d, want %d", w.code, bc.status)
				}
			}
		})
	}
}

// BenchmarkHooks measures the hooks alone, as a request calls them: one
// successful attempt (the success path's whole cost), and one failure
// (a refused attempt, its failure and its page).
func BenchmarkHooks(b *testing.B) {
	m := gatehouseprom.New(gatehouseprom.Config{})
	opts := m.Options(middleware.Options{})
	req := httptest.NewRequest(http.MethodGet, "http://api.internal:8080/", nil)
	b.Run("success", func(b *testing.B) {
		a := middleware.Attempt{Request: req, Number: 1, Upstream: "api.internal:8080", Status: 200}
		b.ReportAllocs()
		for b.Loop() {
			opts.OnAttempt(a)
		}
	})
	b.Run("failure", func(b *testing.B) {
		e := &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, Upstream: "api.internal:8080"}
		a := middleware.Attempt{Request: req, Number: 1, Upstream: "api.internal:8080", Err: e}
		w := &benchWriter{h: make(http.Header)}
		b.ReportAllocs()
		for b.Loop() {
			opts.OnAttempt(a)
			opts.OnError(req, e)
			clear(w.h)
			opts.Pages.ServeError(w, req, e)
		}
	})
}
