package middleware

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
)

// TestUpstreamsMovePastBadCertificate: a replica whose certificate does
// not verify was never reached, so a request, a POST included and without
// Retry, moves past it to a good replica, as Transport.Upstreams says.
func TestUpstreamsMovePastBadCertificate(t *testing.T) {
	t.Parallel()
	good := faulttest.TLS(t)
	bad := faulttest.TLSSelfSigned(t)
	base := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: good.RootCAs}}
	t.Cleanup(base.CloseIdleConnections)
	tr := &Transport{Base: base, Upstreams: []string{bad.Addr, good.Addr}}
	for i := range 20 {
		method := http.MethodGet
		var body io.Reader
		if i%2 == 1 {
			method, body = http.MethodPost, strings.NewReader("order")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req := newRequest(t, method, "https://pool.test/", body).WithContext(ctx)
		req.GetBody = nil // as in a ReverseProxy: the body is read once
		resp, err := tr.RoundTrip(req)
		if err != nil {
			cancel()
			t.Fatalf("%s %d: %v, want the good replica's answer", method, i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusOK || string(b) != "ok" {
			t.Fatalf("%s %d: %d %q, want 200 \"ok\"", method, i, resp.StatusCode, b)
		}
	}
}

// TestBreakerCountsTruncatedBodies: an upstream that sends its headers and
// then cuts every body short fails every request; its breaker counts each
// as one failure (not a success at the headers, then a failure) and opens,
// with one host as with a pool of them.
func TestBreakerCountsTruncatedBodies(t *testing.T) {
	t.Parallel()
	for _, pool := range []bool{false, true} {
		name := "one host"
		if pool {
			name = "pool"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := faulttest.ShortBody(t)
			tr := &Transport{Base: newDialCounter(t), Breaker: &BreakerPolicy{ConsecutiveFailures: 3, OpenFor: time.Minute}}
			target := "http://" + a.Addr + "/"
			if pool {
				b := faulttest.ShortBody(t)
				tr.Upstreams = []string{a.Addr, b.Addr}
				target = "http://pool.test/"
			}
			var fast error
			for range 10 {
				resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, target, nil))
				if err != nil {
					fast = err
					break
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				wantError(t, err, gatewayerr.HTTPResponseIncomplete)
			}
			if fast == nil {
				t.Fatalf("10 truncated bodies in a row, and the breaker still lets requests through")
			}
			wantError(t, fast, gatewayerr.DestinationUnavailable)
		})
	}
}

// TestUpstreamsMovePastHungConnect: a replica that never answers a
// connect uses up the dial timeout, which may be all of Retry's
// MaxElapsed (10 s each by default); the request still moves to a healthy
// replica, as it does without Retry.
func TestUpstreamsMovePastHungConnect(t *testing.T) {
	t.Parallel()
	hung := faulttest.Firewall(t)
	good := okReplica(t, "ok", 0)
	dialer := &net.Dialer{Timeout: 300 * time.Millisecond}
	base := &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(base.CloseIdleConnections)
	for _, rp := range []*RetryPolicy{nil, {MaxElapsed: 200 * time.Millisecond}} {
		// Its weight makes the balancer send the first attempt to the
		// hung replica.
		var first string
		tr := &Transport{
			Base:            base,
			Upstreams:       []string{hung.Addr, good.addr},
			UpstreamWeights: map[string]int{hung.Addr: 1000},
			Retry:           rp,
			OnAttempt: func(a Attempt) {
				if a.Number == 1 {
					first = a.Upstream
				}
			},
		}
		resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://pool.test/", nil))
		if err != nil {
			t.Fatalf("Retry %+v: %v, want the healthy replica's answer", rp, err)
		}
		resp.Body.Close()
		if first != hung.Addr {
			t.Errorf("Retry %+v: first attempt to %s, want the hung replica %s: nothing was tested", rp, first, hung.Addr)
		}
	}
}

// TestUpstreamWeightsHuge: weights whose sum overflows an int are capped,
// not a panic in every request.
func TestUpstreamWeightsHuge(t *testing.T) {
	t.Parallel()
	a, b := okReplica(t, "a", 0), okReplica(t, "b", 0)
	for _, w := range []map[string]int{
		{a.addr: math.MaxInt, b.addr: 1},
		{a.addr: 1 << 62, b.addr: 1 << 62},
	} {
		tr := &Transport{Base: newDialCounter(t), Upstreams: []string{a.addr, b.addr}, UpstreamWeights: w}
		for range 4 {
			resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://pool.test/", nil))
			if err != nil {
				t.Fatalf("weights %v: %v", w, err)
			}
			resp.Body.Close()
		}
	}
}

// TestHealthCheckPathWithoutSlash: a Path written without its leading
// slash checks that path; it does not fail every check and mark the whole
// pool down.
func TestHealthCheckPathWithoutSlash(t *testing.T) {
	t.Parallel()
	var checks atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			checks.Add(1)
		}
		io.WriteString(w, "ok")
	})
	a, b := startReplica(t, h), startReplica(t, h)
	tr := &Transport{
		Base:        newDialCounter(t),
		Upstreams:   []string{a.addr, b.addr},
		HealthCheck: &HealthCheck{Path: "healthz", Interval: 10 * time.Millisecond, UnhealthyThreshold: 1},
	}
	t.Cleanup(func() { tr.Close() })
	tr.StartHealthChecks(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for checks.Load() < 6 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://pool.test/", nil))
	if err != nil {
		t.Fatalf("after the health checks: %v (%d checks reached /healthz)", err, checks.Load())
	}
	resp.Body.Close()
}

// TestHealthChecksStoppedForgetDown: once the health checks stop, the
// hosts they marked down are no longer skipped, since no check would
// bring them back; with every host marked down, the pool would otherwise
// answer 503 for ever.
func TestHealthChecksStoppedForgetDown(t *testing.T) {
	t.Parallel()
	var checks atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			checks.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
	a, b := startReplica(t, h), startReplica(t, h)
	tr := &Transport{
		Base:        newDialCounter(t),
		Upstreams:   []string{a.addr, b.addr},
		HealthCheck: &HealthCheck{Path: "/healthz", Interval: 10 * time.Millisecond, UnhealthyThreshold: 1},
	}
	t.Cleanup(func() { tr.Close() })
	tr.StartHealthChecks(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		var resp *http.Response
		if resp, err = tr.RoundTrip(newRequest(t, http.MethodGet, "http://pool.test/", nil)); err != nil {
			break
		}
		resp.Body.Close()
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(err, ErrNoUpstream) {
		t.Fatalf("with every check failing: %v, want ErrNoUpstream (%d checks)", err, checks.Load())
	}
	tr.Close()
	resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://pool.test/", nil))
	if err != nil {
		t.Fatalf("after Close: %v, want the replicas' answer", err)
	}
	resp.Body.Close()
}
