package middleware

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/google/go-cmp/cmp"
)

// attemptRecord is what a test compares of an Attempt.
type attemptRecord struct {
	Number   int
	Upstream string
	Status   int
	Kind     string // "" when Err is nil
	Received int    // Err's ReceivedStatus
	Retry    bool
}

type attemptLog struct {
	mu  sync.Mutex
	got []attemptRecord
}

func (l *attemptLog) onAttempt(a Attempt) {
	r := attemptRecord{Number: a.Number, Upstream: a.Upstream, Status: a.Status, Retry: a.Retry}
	if a.Err != nil {
		r.Kind, r.Received = a.Err.Kind.String(), a.Err.ReceivedStatus
	}
	if a.Request == nil || a.Duration < 0 {
		r.Kind += " (bad request or duration)"
	}
	l.mu.Lock()
	l.got = append(l.got, r)
	l.mu.Unlock()
}

func (l *attemptLog) records() []attemptRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]attemptRecord(nil), l.got...)
}

// TestTransportOnAttempt checks that OnAttempt hears of every attempt, with
// or without retries, in order, with its outcome and whether it is retried.
func TestTransportOnAttempt(t *testing.T) {
	var calls atomic.Int32
	// flaky answers 503 to its first request, then 200.
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(flaky.Close)
	flakyHost := mustParse(t, flaky.URL).Host
	refused := refusedAddr(t)
	retry := &RetryPolicy{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}

	tests := []struct {
		name  string
		url   string
		retry *RetryPolicy
		want  []attemptRecord
	}{
		{
			name: "one attempt, refused",
			url:  "http://" + refused + "/",
			want: []attemptRecord{{Number: 1, Upstream: refused, Kind: "connection_refused"}},
		},
		{
			name:  "refused three times",
			url:   "http://" + refused + "/",
			retry: retry,
			want: []attemptRecord{
				{Number: 1, Upstream: refused, Kind: "connection_refused", Retry: true},
				{Number: 2, Upstream: refused, Kind: "connection_refused", Retry: true},
				{Number: 3, Upstream: refused, Kind: "connection_refused"},
			},
		},
		{
			name:  "503 then 200",
			url:   flaky.URL + "/",
			retry: retry,
			want: []attemptRecord{
				{Number: 1, Upstream: flakyHost, Status: 503, Kind: "destination_unavailable", Received: 503, Retry: true},
				{Number: 2, Upstream: flakyHost, Status: 200},
			},
		},
		{
			name: "200 at once",
			url:  flaky.URL + "/",
			want: []attemptRecord{{Number: 1, Upstream: flakyHost, Status: 200}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log attemptLog
			tr := &Transport{Retry: tt.retry, OnAttempt: log.onAttempt, Base: &http.Transport{}}
			t.Cleanup(tr.CloseIdleConnections)
			req, err := http.NewRequestWithContext(testContext(t), http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tr.RoundTrip(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if diff := cmp.Diff(tt.want, log.records()); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBreakerStateFromStart checks that a new upstream's breaker is
// reported closed when first used, once, before any change.
func TestBreakerStateFromStart(t *testing.T) {
	refused := refusedAddr(t)
	type change struct {
		Upstream string
		From, To string
	}
	var mu sync.Mutex
	var got []change
	tr := &Transport{
		Breaker: &BreakerPolicy{ConsecutiveFailures: 2},
		OnStateChange: func(u string, from, to BreakerState) {
			mu.Lock()
			got = append(got, change{u, from.String(), to.String()})
			mu.Unlock()
		},
	}
	for range 3 {
		req, err := http.NewRequestWithContext(testContext(t), http.MethodGet, "http://"+refused+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.RoundTrip(req); err == nil {
			t.Fatal("RoundTrip to a refused port succeeded")
		}
	}
	want := []change{{refused, "closed", "closed"}, {refused, "closed", "open"}}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state changes (-want +got):\n%s", diff)
	}
}

// TestProxyTransportErrorType checks that every error NewReverseProxy's
// Transport returns presents ErrorType as its RFC 9209 kind, as
// OpenTelemetry's semconv.ErrorType reads it, not its Go type, and unwraps
// to the *gatewayerr.Error, whether the proxy logs (the error carries the
// time taken) or not.
func TestProxyTransportErrorType(t *testing.T) {
	target := &url.URL{Scheme: "http", Host: refusedAddr(t)}
	for _, tt := range []struct {
		name   string
		logger *slog.Logger
	}{
		{"no logger", nil},
		{"logger", slog.New(slog.DiscardHandler)},
	} {
		rp := NewReverseProxy(target, Options{Retry: &RetryPolicy{Attempts: 1}, Logger: tt.logger})
		req, err := http.NewRequestWithContext(testContext(t), http.MethodGet, target.String()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rp.Transport.RoundTrip(req)
		var et interface{ ErrorType() string }
		if !errors.As(err, &et) {
			t.Fatalf("%s: RoundTrip's error %T has no ErrorType method", tt.name, err)
		}
		if et, ok := err.(interface{ ErrorType() string }); !ok || et.ErrorType() != "connection_refused" {
			t.Errorf("%s: RoundTrip's error %T: ErrorType() on the error itself = %v, want connection_refused", tt.name, err, et)
		}
		if ge := (*gatewayerr.Error)(nil); !errors.As(err, &ge) || ge.Kind != gatewayerr.ConnectionRefused || err.Error() != ge.Error() {
			t.Errorf("%s: RoundTrip's error %T (%v) does not unwrap to its connection_refused *gatewayerr.Error", tt.name, err, err)
		}
	}
}

// TestOnReplace checks that Handler reports each response it replaces to
// OnReplace and not OnError, and that NewReverseProxy reports a replaced
// upstream response to both, and its own failures to OnError alone.
func TestOnReplace(t *testing.T) {
	type report struct {
		Hook     string
		Kind     string
		Received int
		HasID    bool
	}
	var mu sync.Mutex
	var got []report
	hook := func(name string) func(*http.Request, *gatewayerr.Error) {
		return func(r *http.Request, e *gatewayerr.Error) {
			mu.Lock()
			got = append(got, report{name, e.Kind.String(), e.ReceivedStatus, r.Header.Get("X-Request-Id") != ""})
			mu.Unlock()
		}
	}
	opts := Options{OnError: hook("error"), OnReplace: hook("replace"), Intercept: []int{500, 502, 503, 504}}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			w.WriteHeader(http.StatusInternalServerError)
		case "/refused":
			SetError(w, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
			w.WriteHeader(http.StatusBadGateway)
		case "/panic":
			panic("test")
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "<p>kept</p>")
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	handler := httptest.NewServer(Handler(opts)(app))
	t.Cleanup(handler.Close)
	upstream := httptest.NewServer(app)
	t.Cleanup(upstream.Close)
	proxy := gateway(t, upstream.URL, opts)
	dead := gateway(t, "http://"+refusedAddr(t), opts)

	tests := []struct {
		url  string
		want []report
	}{
		{handler.URL + "/500", []report{{"replace", "unknown", 500, true}}},
		{handler.URL + "/503", []report{{"replace", "destination_unavailable", 503, true}}},
		{handler.URL + "/refused", []report{{"replace", "connection_refused", 502, true}}},
		{handler.URL + "/panic", []report{{"error", "proxy_internal_error", 0, true}}},
		{handler.URL + "/html", nil},
		{proxy.URL + "/500", []report{{"error", "unknown", 500, true}, {"replace", "unknown", 500, true}}},
		{proxy.URL + "/503", []report{{"error", "destination_unavailable", 503, true}, {"replace", "destination_unavailable", 503, true}}},
		{proxy.URL + "/html", nil},
		{dead.URL + "/", []report{{"error", "connection_refused", 0, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			resp, _ := get(t, nil, tt.url, "")
			_ = resp
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reports (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProxyBreakerStateFromStart checks that NewReverseProxy reports its
// target's breaker closed when it is built, before any request.
func TestProxyBreakerStateFromStart(t *testing.T) {
	var got []string
	onState := func(u string, from, to BreakerState) { got = append(got, u+" "+from.String()+"->"+to.String()) }
	target := &url.URL{Scheme: "http", Host: "upstream.test:8080"}
	NewReverseProxy(target, Options{Breaker: &BreakerPolicy{}, OnStateChange: onState})
	if want := []string{"upstream.test:8080 closed->closed"}; !cmp.Equal(want, got) {
		t.Errorf("state changes at build time = %q, want %q", got, want)
	}
	got = nil
	NewReverseProxy(target, Options{OnStateChange: onState})
	if len(got) != 0 {
		t.Errorf("state changes without breakers = %q, want none", got)
	}
}
