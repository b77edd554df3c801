package otel_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	gatehouseotel "github.com/gatehouse-go/gatehouse/contrib/otel"
	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/middleware"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// telemetry is an OpenTelemetry SDK with in-memory exporters.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newTelemetry(t *testing.T) *telemetry {
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		tel.tp.Shutdown(context.Background())
		tel.mp.Shutdown(context.Background())
	})
	return tel
}

// upstreams are the scenario's loopback upstreams.
type upstreams struct {
	refused, slow, flaky *url.URL
}

func startUpstreams(t *testing.T) upstreams {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := upstreams{refused: &url.URL{Scheme: "http", Host: ln.Addr().String()}}
	ln.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(slow.Close)
	var calls atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(flaky.Close)
	u.slow, _ = url.Parse(slow.URL)
	u.flaky, _ = url.Parse(flaky.URL)
	return u
}

// gateway is the scenario's gateway, /refused, /slow, /flaky and /panic,
// inside otelhttp's handler, with the package's hooks.
func gateway(t *testing.T, tel *telemetry, ups upstreams, requestIDFromTrace bool) string {
	tr := &http.Transport{Proxy: nil, ResponseHeaderTimeout: 200 * time.Millisecond}
	t.Cleanup(tr.CloseIdleConnections)
	opts := gatehouseotel.Options(middleware.Options{
		Transport: tr,
		Retry:     &middleware.RetryPolicy{Attempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
	})
	mux := http.NewServeMux()
	mux.Handle("/refused", middleware.NewReverseProxy(ups.refused, opts))
	mux.Handle("/slow", middleware.NewReverseProxy(ups.slow, opts))
	mux.Handle("/flaky", middleware.NewReverseProxy(ups.flaky, opts))
	mux.Handle("/panic", middleware.Handler(opts)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("test: a handler panicked")
	})))
	var h http.Handler = mux
	if requestIDFromTrace {
		h = gatehouseotel.RequestIDFromTrace(nil)(h)
	}
	srv := httptest.NewServer(otelhttp.NewHandler(h, "gateway",
		otelhttp.WithTracerProvider(tel.tp), otelhttp.WithMeterProvider(tel.mp)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// get fetches url with the X-Request-ID a client sends, and returns the
// response's status and X-Request-ID.
func get(t *testing.T, target string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Request-ID", "client-chosen-id")
	c := &http.Client{}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Request-ID")
}

// event is what the test compares of a span event.
type event struct {
	Name  string
	Attrs map[string]string
}

func attrs(kvs []attribute.KeyValue, keep func(attribute.Key) bool) map[string]string {
	m := make(map[string]string)
	for _, kv := range kvs {
		if keep == nil || keep(kv.Key) {
			m[string(kv.Key)] = kv.Value.String()
		}
	}
	return m
}

// TestTracesAndMetrics runs a refused, a timed-out, a retried and a
// panicking request, and checks the server spans' error.type and attempt
// events, and error.type on http.server.request.duration.
func TestTracesAndMetrics(t *testing.T) {
	tel := newTelemetry(t)
	ups := startUpstreams(t)
	gw := gateway(t, tel, ups, false)

	port := func(u *url.URL) string { return u.Port() }
	attempt := func(n int, u *url.URL, status int, kind string, retry bool) event {
		a := map[string]string{
			"gatehouse.attempt": strconv.Itoa(n),
			"server.address":    "127.0.0.1",
			"server.port":       port(u),
			"gatehouse.retry":   strconv.FormatBool(retry),
		}
		if status != 0 {
			a["http.response.status_code"] = strconv.Itoa(status)
		}
		if kind != "" {
			a["error.type"] = kind
		}
		return event{"gatehouse.attempt", a}
	}
	tests := []struct {
		path      string
		status    int
		errorType string // "" when none
		events    []event
	}{
		{"/refused", 502, "connection_refused", []event{
			attempt(1, ups.refused, 0, "connection_refused", true),
			attempt(2, ups.refused, 0, "connection_refused", false),
		}},
		{"/slow", 504, "http_response_timeout", []event{
			attempt(1, ups.slow, 0, "http_response_timeout", true),
			attempt(2, ups.slow, 0, "http_response_timeout", false),
		}},
		{"/flaky", 200, "", []event{
			attempt(1, ups.flaky, 503, "destination_unavailable", true),
			attempt(2, ups.flaky, 200, "", false),
		}},
		{"/panic", 500, "proxy_internal_error", nil},
	}
	for _, tt := range tests {
		status, id := get(t, gw+tt.path)
		if status != tt.status {
			t.Errorf("GET %s: status %d, want %d", tt.path, status, tt.status)
		}
		if tt.status >= 400 && id != "client-chosen-id" {
			t.Errorf("GET %s: X-Request-ID %q, want the client's without RequestIDFromTrace", tt.path, id)
		}
	}

	// The spans, by path.
	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range tel.spans.Ended() {
		if s.SpanKind().String() == "server" {
			spans[attrs(s.Attributes(), nil)["url.path"]] = s
		}
	}
	for _, tt := range tests {
		s, ok := spans[tt.path]
		if !ok {
			t.Errorf("no server span for %s", tt.path)
			continue
		}
		if got := attrs(s.Attributes(), nil)["error.type"]; got != tt.errorType {
			t.Errorf("%s: span error.type %q, want %q", tt.path, got, tt.errorType)
		}
		var got []event
		for _, e := range s.Events() {
			got = append(got, event{e.Name, attrs(e.Attributes, nil)})
		}
		if diff := cmp.Diff(tt.events, got); diff != "" {
			t.Errorf("%s: span events (-want +got):\n%s", tt.path, diff)
		}
	}

	// http.server.request.duration: one data point per route, with the
	// same error.type.
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	type point struct{ Route, Status, ErrorType string }
	var got []point
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "http.server.request.duration" {
				continue
			}
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				t.Fatalf("http.server.request.duration is a %T", m.Data)
			}
			for _, dp := range h.DataPoints {
				a := attrs(dp.Attributes.ToSlice(), nil)
				got = append(got, point{a["http.route"], a["http.response.status_code"], a["error.type"]})
			}
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Route < got[j].Route })
	want := []point{
		{"/flaky", "200", ""},
		{"/panic", "500", "proxy_internal_error"},
		{"/refused", "502", "connection_refused"},
		{"/slow", "504", "http_response_timeout"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("http.server.request.duration points (-want +got):\n%s", diff)
	}
}

// TestRequestIDFromTrace checks that with RequestIDFromTrace the page's
// reference is the request's trace ID, for the proxy's failures and
// Handler's alike.
func TestRequestIDFromTrace(t *testing.T) {
	tel := newTelemetry(t)
	gw := gateway(t, tel, startUpstreams(t), true)
	for _, path := range []string{"/refused", "/panic"} {
		_, id := get(t, gw+path)
		var traceID string
		for _, s := range tel.spans.Ended() {
			if attrs(s.Attributes(), nil)["url.path"] == path {
				traceID = s.SpanContext().TraceID().String()
			}
		}
		if traceID == "" || id != traceID {
			t.Errorf("GET %s: X-Request-ID %q, want the trace ID %q", path, id, traceID)
		}
	}
}

// TestTraceIDHook checks that TraceID as errorpage.Config.RequestID makes
// the page's reference the trace ID without copying the request: the hook
// wins over the ID the client sent.
func TestTraceIDHook(t *testing.T) {
	tel := newTelemetry(t)
	ups := startUpstreams(t)
	pages, err := errorpage.New(errorpage.Config{RequestID: gatehouseotel.TraceID})
	if err != nil {
		t.Fatal(err)
	}
	opts := gatehouseotel.Options(middleware.Options{Pages: pages})
	srv := httptest.NewServer(otelhttp.NewHandler(middleware.NewReverseProxy(ups.refused, opts), "gateway",
		otelhttp.WithTracerProvider(tel.tp), otelhttp.WithMeterProvider(tel.mp)))
	t.Cleanup(srv.Close)
	status, id := get(t, srv.URL+"/")
	var traceID string
	for _, s := range tel.spans.Ended() {
		if s.SpanKind().String() == "server" {
			traceID = s.SpanContext().TraceID().String()
		}
	}
	if status != http.StatusBadGateway || traceID == "" || id != traceID {
		t.Errorf("status %d, X-Request-ID %q; want 502 and the trace ID %q", status, id, traceID)
	}
}

// TestOtelhttpClientMetricErrorType pins the limitation the package
// documents: otelhttp's Transport around the proxy's Transport records the
// kind as error.type on its client span (through ErrorType), but the Go
// type's name on its client metric. When this test fails, otelhttp has
// changed: update the package documentation.
func TestOtelhttpClientMetricErrorType(t *testing.T) {
	tel := newTelemetry(t)
	ups := startUpstreams(t)
	rp := middleware.NewReverseProxy(ups.refused, middleware.Options{})
	rp.Transport = otelhttp.NewTransport(rp.Transport, otelhttp.WithTracerProvider(tel.tp), otelhttp.WithMeterProvider(tel.mp))
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	if status, _ := get(t, srv.URL+"/"); status != 502 {
		t.Fatalf("status %d, want 502", status)
	}

	var spanType string
	for _, s := range tel.spans.Ended() {
		if s.SpanKind().String() == "client" {
			spanType = attrs(s.Attributes(), nil)["error.type"]
		}
	}
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var metricType string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "http.client.request.duration" {
				for _, dp := range h.DataPoints {
					metricType = attrs(dp.Attributes.ToSlice(), nil)["error.type"]
				}
			}
		}
	}
	if spanType != "connection_refused" {
		t.Errorf("client span error.type %q, want connection_refused", spanType)
	}
	// The proxy has no Logger: its Transport's failures have the type
	// that carries no duration.
	if want := "github.com/gatehouse-go/gatehouse/middleware.untimedError"; metricType != want {
		t.Errorf("client metric error.type %q, want %q (the documented limitation)", metricType, want)
	}
}

// TestInstrumentTransport checks that a Transport of one's own records
// its attempts and its failure on the span of the request's context, and
// still calls the hooks it had.
func TestInstrumentTransport(t *testing.T) {
	tel := newTelemetry(t)
	ups := startUpstreams(t)
	var own atomic.Int32
	tr := &middleware.Transport{
		Base:    &http.Transport{Proxy: nil},
		OnError: func(*http.Request, *gatewayerr.Error) { own.Add(1) },
	}
	t.Cleanup(tr.CloseIdleConnections)
	gatehouseotel.InstrumentTransport(tr)

	ctx, span := tel.tp.Tracer("test").Start(context.Background(), "call")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ups.refused.String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("RoundTrip to a refused port succeeded")
	}
	span.End()

	s := tel.spans.Ended()[0]
	if got := attrs(s.Attributes(), nil)["error.type"]; got != "connection_refused" {
		t.Errorf("span error.type %q, want connection_refused", got)
	}
	var got []event
	for _, e := range s.Events() {
		got = append(got, event{e.Name, attrs(e.Attributes, nil)})
	}
	want := []event{{"gatehouse.attempt", map[string]string{
		"gatehouse.attempt": "1", "server.address": "127.0.0.1", "server.port": ups.refused.Port(),
		"error.type": "connection_refused", "gatehouse.retry": "false",
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("span events (-want +got):\n%s", diff)
	}
	if own.Load() != 1 {
		t.Errorf("the Transport's own OnError ran %d times, want 1", own.Load())
	}
}
