package otel_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	gatehouseotel "github.com/gatehouse-go/gatehouse/contrib/otel"
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

// BenchmarkProxy serves requests through NewReverseProxy inside otelhttp's
// handler (an SDK that samples every span, into a recorder that keeps
// nothing, and a ManualReader), to a loopback upstream (success) and a
// refused port (error): "otelhttp" without this package's hooks,
// "gatehouse" with them. The difference is the package's cost per
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

	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discardSpans{}))
	defer tp.Shutdown(context.Background())
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer mp.Shutdown(context.Background())
	wrap := func(h http.Handler) http.Handler {
		return otelhttp.NewHandler(h, "gateway", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp))
	}
	base := middleware.Options{Transport: tr}
	for _, bc := range []struct {
		name    string
		handler http.Handler
		status  int
	}{
		{"success/otelhttp", wrap(middleware.NewReverseProxy(ok, base)), 200},
		{"success/gatehouse", wrap(middleware.NewReverseProxy(ok, gatehouseotel.Options(base))), 200},
		{"error/otelhttp", wrap(middleware.NewReverseProxy(dead, base)), 502},
		{"error/gatehouse", wrap(middleware.NewReverseProxy(dead, gatehouseotel.Options(base))), 502},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://gateway.test/", nil)
			w := &benchWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.code = 0
				bc.handler.ServeHTTP(w, req)
				if w.code != bc.status {
					b.Fatalf("status %d, want %d", w.code, bc.status)
				}
			}
		})
	}
}

// discardSpans is a span processor that keeps nothing.
type discardSpans struct{}

func (discardSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discardSpans) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discardSpans) Shutdown(context.Context) error                  { return nil }
func (discardSpans) ForceFlush(context.Context) error                { return nil }
