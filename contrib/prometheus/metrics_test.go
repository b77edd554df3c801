package prometheus_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/goleak"

	gatehouseprom "github.com/gatehouse-go/gatehouse/contrib/prometheus"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/middleware"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scenario is a gateway with four routes, each in front of its own
// loopback upstream: /refused (nothing listens), /slow (never answers in
// time), /flaky (503 once, then 200) and /panic (a handler that panics,
// under middleware.Handler).
type scenario struct {
	gateway                string
	refused, slow, flaky   string // the upstreams' host:port
	userErrors, userAttmts atomic.Int32
}

func newScenario(t testing.TB, instrument func(middleware.Options) middleware.Options) *scenario {
	t.Helper()
	s := new(scenario)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.refused = ln.Addr().String()
	ln.Close()

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // until the gateway gives up
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
	s.slow, s.flaky = host(t, slow.URL), host(t, flaky.URL)

	tr := &http.Transport{Proxy: nil, ResponseHeaderTimeout: 200 * time.Millisecond}
	t.Cleanup(tr.CloseIdleConnections)
	opts := instrument(middleware.Options{
		Transport: tr,
		Retry:     &middleware.RetryPolicy{Attempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
		Breaker:   &middleware.BreakerPolicy{},
		// The user's own hooks, which the metrics chain.
		OnError:   func(*http.Request, *gatewayerr.Error) { s.userErrors.Add(1) },
		OnAttempt: func(middleware.Attempt) { s.userAttmts.Add(1) },
	})
	mux := http.NewServeMux()
	mux.Handle("/refused", middleware.NewReverseProxy(&url.URL{Scheme: "http", Host: s.refused}, opts))
	mux.Handle("/slow", middleware.NewReverseProxy(&url.URL{Scheme: "http", Host: s.slow}, opts))
	mux.Handle("/flaky", middleware.NewReverseProxy(&url.URL{Scheme: "http", Host: s.flaky}, opts))
	mux.Handle("/panic", middleware.Handler(opts)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("test: a handler panicked")
	})))
	gw := httptest.NewServer(mux)
	t.Cleanup(gw.Close)
	s.gateway = gw.URL
	return s
}

func host(t testing.TB, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// run sends the four requests, in plain text, and checks their statuses.
func (s *scenario) run(t testing.TB) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	for _, r := range []struct {
		path string
		want int
	}{{"/refused", 502}, {"/slow", 504}, {"/flaky", 200}, {"/panic", 500}} {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.gateway+r.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/plain")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != r.want {
			t.Errorf("GET %s: status %d, want %d", r.path, resp.StatusCode, r.want)
		}
	}
}

// TestMetricsScraped runs the scenario, scrapes a real registry over HTTP
// with promhttp, and checks every gatehouse_ line, help text included.
func TestMetricsScraped(t *testing.T) {
	reg := prom.NewRegistry()
	m, err := gatehouseprom.Register(reg, gatehouseprom.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := newScenario(t, m.Options)
	s.run(t)

	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(metrics.Close)
	resp, err := http.Get(metrics.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.Contains(line, "gatehouse_") {
			got = append(got, line)
		}
	}

	r, sl, f := s.refused, s.slow, s.flaky
	want := []string{
		"# HELP gatehouse_breaker_state State of the circuit breaker of an upstream host: 0 closed, 1 half-open, 2 open.",
		"# TYPE gatehouse_breaker_state gauge",
		fmt.Sprintf(`gatehouse_breaker_state{upstream=%q} 0`, f),
		fmt.Sprintf(`gatehouse_breaker_state{upstream=%q} 0`, r),
		fmt.Sprintf(`gatehouse_breaker_state{upstream=%q} 0`, sl),
		"# HELP gatehouse_pages_total Error pages served, by status, RFC 9209 error type (kind; empty for a page served by status alone) and format.",
		"# TYPE gatehouse_pages_total counter",
		`gatehouse_pages_total{format="text",kind="connection_refused",status="502"} 1`,
		`gatehouse_pages_total{format="text",kind="http_response_timeout",status="504"} 1`,
		`gatehouse_pages_total{format="text",kind="proxy_internal_error",status="500"} 1`,
		"# HELP gatehouse_retries_total Attempts to an upstream host that were followed by a retry.",
		"# TYPE gatehouse_retries_total counter",
		fmt.Sprintf(`gatehouse_retries_total{upstream=%q} 1`, f),
		fmt.Sprintf(`gatehouse_retries_total{upstream=%q} 1`, r),
		fmt.Sprintf(`gatehouse_retries_total{upstream=%q} 1`, sl),
		"# HELP gatehouse_upstream_attempts_total Attempts sent to upstream hosts, retries included, by outcome: success (a response that is not a failure), failure or client_closed.",
		"# TYPE gatehouse_upstream_attempts_total counter",
		fmt.Sprintf(`gatehouse_upstream_attempts_total{outcome="client_closed",upstream=%q} 0`, f),
		fmt.Sprintf(`gatehouse_upstream_attempts_total{outcome="client_closed",upstream=%q} 0`, r),
		fmt.Sprintf(`gatehouse_upstream_attempts_total{outcome="client_closed",upstream=%q} 0`, sl),
		fmt.Sprintf(`gatehouse_upstream_attempts_total{outcome="failure",upstream=%q} 1`, f),
		fmt.Sprintf(`gatehouse_upstream_attempts_total{outcome="failure",upstream=%q} 2`, r),
		fmt.Sprintf(`gatehouse_upstream_attempts_total{outcome="failure",upstream=%q} 2`, sl),
		fmt.Sprintf(`gatehouse_upstream_attempts_total{outcome="success",upstream=%q} 1`, f),
		fmt.Sprintf(`gatehouse_upstream_attempts_total{outcome="success",upstream=%q} 0`, r),
		fmt.Sprintf(`gatehouse_upstream_attempts_total{outcome="success",upstream=%q} 0`, sl),
		"# HELP gatehouse_upstream_failures_total Failures handled by the gateway, once per request after any retries, by RFC 9209 error type (kind), status sent to the client and upstream host; clients that went away are not counted.",
		"# TYPE gatehouse_upstream_failures_total counter",
		fmt.Sprintf(`gatehouse_upstream_failures_total{kind="connection_refused",status="502",upstream=%q} 1`, r),
		fmt.Sprintf(`gatehouse_upstream_failures_total{kind="http_response_timeout",status="504",upstream=%q} 1`, sl),
		`gatehouse_upstream_failures_total{kind="proxy_internal_error",status="500",upstream=""} 1`,
	}
	// promhttp sorts series by their label values; the upstreams' ports
	// are random, so compare as sets within each metric's block.
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scrape (-want +got):\n%s", diff)
	}
	// The user's hooks ran too: 3 failures, 6 attempts.
	if e, a := s.userErrors.Load(), s.userAttmts.Load(); e != 3 || a != 6 {
		t.Errorf("the user's hooks saw %d failures and %d attempts, want 3 and 6", e, a)
	}
}

// TestUpstreamLabelsBounded checks that hosts beyond Config.Upstreams, or
// beyond MaxUpstreams, are labelled "other".
func TestUpstreamLabelsBounded(t *testing.T) {
	tests := []struct {
		name string
		cfg  gatehouseprom.Config
		want []string
	}{
		{"allow list", gatehouseprom.Config{Upstreams: []string{"b:80"}}, []string{"b:80", "other"}},
		{"first two", gatehouseprom.Config{MaxUpstreams: 2}, []string{"a:80", "b:80", "other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prom.NewRegistry()
			m, err := gatehouseprom.Register(reg, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			tr := &middleware.Transport{Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
			})}
			m.InstrumentTransport(tr)
			for _, h := range []string{"a:80", "b:80", "c:80", "d:80"} {
				req := httptest.NewRequest(http.MethodGet, "http://"+h+"/", nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, mf := range mfs {
				if mf.GetName() != "gatehouse_retries_total" {
					continue
				}
				for _, mt := range mf.GetMetric() {
					got = append(got, mt.GetLabel()[0].GetValue())
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("upstream labels (-want +got):\n%s", diff)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
