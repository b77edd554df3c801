package middleware

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryBackoff(t *testing.T) {
	p := &RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 35 * time.Millisecond}
	ceilings := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 35 * time.Millisecond, 35 * time.Millisecond}
	for i, ceiling := range ceilings {
		n := i + 1
		for range 200 {
			if d := p.backoff(n); d < 0 || d >= ceiling {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", n, d, ceiling)
			}
		}
	}
	if d := p.backoff(200); d < 0 || d >= 35*time.Millisecond {
		t.Errorf("backoff(200) = %v, want in [0, 35ms)", d)
	}
}

func TestRetryBudget(t *testing.T) {
	p := &RetryPolicy{BudgetRatio: 0.5, BudgetMin: 2, BudgetWindow: 10 * time.Second}
	var b retryBudget
	now := time.Unix(1000, 0)
	for range 4 {
		b.request(p, now)
	}
	// 2 + 0.5×4 = 4 retries fit; the fifth does not.
	for i := range 4 {
		if !b.spend(p, now) {
			t.Fatalf("retry %d refused, want allowed", i+1)
		}
	}
	if b.spend(p, now) {
		t.Fatal("retry 5 allowed, want refused by the budget")
	}
	// Once the window has passed the budget is whole again.
	if !b.spend(p, now.Add(11*time.Second)) {
		t.Error("retry after the window refused, want allowed")
	}

	off := &RetryPolicy{BudgetRatio: -1}
	var unlimited retryBudget
	for range 100 {
		if !unlimited.spend(off, now) {
			t.Fatal("retry refused with the budget turned off")
		}
	}
}

func TestIdempotent(t *testing.T) {
	tests := []struct {
		method string
		header http.Header
		want   bool
	}{
		{http.MethodGet, nil, true},
		{http.MethodHead, nil, true},
		{http.MethodPut, nil, true},
		{http.MethodDelete, nil, true},
		{http.MethodOptions, nil, true},
		{http.MethodPost, nil, false},
		{http.MethodPatch, nil, false},
		{http.MethodPost, http.Header{"Idempotency-Key": {"abc"}}, true},
		{http.MethodPost, http.Header{"X-Idempotency-Key": {"abc"}}, true},
		{http.MethodPost, http.Header{"Idempotency-Key": nil}, false},
	}
	for _, tt := range tests {
		req := &http.Request{Method: tt.method, Header: tt.header}
		if got := idempotent(req); got != tt.want {
			t.Errorf("idempotent(%s, %v) = %v, want %v", tt.method, tt.header, got, tt.want)
		}
	}
}

func TestRetryPolicyAttemptTimeout(t *testing.T) {
	tests := []struct {
		name    string
		p       *RetryPolicy
		n       int
		elapsed time.Duration
		want    time.Duration
	}{
		{"no policy", nil, 1, 0, 0},
		{"first attempt, no bound", &RetryPolicy{MaxElapsed: time.Second}, 1, 0, 0},
		{"first attempt, AttemptTimeout", &RetryPolicy{AttemptTimeout: 2 * time.Second, MaxElapsed: time.Second}, 1, 0, 2 * time.Second},
		{"retry, what MaxElapsed leaves", &RetryPolicy{MaxElapsed: time.Second}, 2, 300 * time.Millisecond, 700 * time.Millisecond},
		{"retry, AttemptTimeout shorter", &RetryPolicy{AttemptTimeout: 100 * time.Millisecond, MaxElapsed: time.Second}, 2, 300 * time.Millisecond, 100 * time.Millisecond},
		{"retry, MaxElapsed shorter", &RetryPolicy{AttemptTimeout: 500 * time.Millisecond, MaxElapsed: time.Second}, 3, 700 * time.Millisecond, 300 * time.Millisecond},
		{"retry, default MaxElapsed", &RetryPolicy{}, 2, time.Second, 9 * time.Second},
		{"retry past MaxElapsed", &RetryPolicy{MaxElapsed: time.Second}, 2, 2 * time.Second, time.Nanosecond},
	}
	for _, tt := range tests {
		if got := tt.p.attemptTimeout(tt.n, tt.elapsed); got != tt.want {
			t.Errorf("%s: attemptTimeout(%d, %v) = %v, want %v", tt.name, tt.n, tt.elapsed, got, tt.want)
		}
	}
}

// stallingUpstream starts a loopback server that answers every request with
// a 503 (with the given Retry-After, if any) whose text/plain body sends 10
// of its 100 bytes and then stalls until the test ends. It returns the
// server and its count of requests.
func stallingUpstream(t *testing.T, retryAfter string) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", "100")
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("overloaded"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(up.Close)
	t.Cleanup(func() { close(release) })
	return up, &hits
}

// TestRetryMaxElapsedBoundsDraining: a 503 whose body stalls, behind
// MaxElapsed: 500ms, answers with the upstream's own 503 well before the
// stall ends, not with a 504 of the gateway's making, whether retries were
// made (the stalled bodies are closed unread) or could not be (a
// Retry-After beyond MaxElapsed).
func TestRetryMaxElapsedBoundsDraining(t *testing.T) {
	const hang = 5 * time.Second // far beyond MaxElapsed; reaching it means a body held the request
	tests := []struct {
		name       string
		retryAfter string
		minHits    int32
		maxHits    int32
	}{
		{"retried", "", 2, 3},
		{"no retry in time", "1", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/Transport", func(t *testing.T) {
			up, hits := stallingUpstream(t, tt.retryAfter)
			base := &http.Transport{Proxy: nil}
			t.Cleanup(base.CloseIdleConnections)
			var h hook
			tr := &Transport{Base: base, Retry: &RetryPolicy{MaxElapsed: 500 * time.Millisecond}, OnError: h.onError}
			start := time.Now()
			resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, up.URL, nil))
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("RoundTrip: %v; want the upstream's 503", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || elapsed > hang {
				t.Errorf("status %d after %v; want 503 well within %v", resp.StatusCode, elapsed, hang)
			}
			if n := hits.Load(); n < tt.minHits || n > tt.maxHits {
				t.Errorf("%d attempts, want %d to %d", n, tt.minHits, tt.maxHits)
			}
			// The bodies closed while draining, and the one closed
			// here, are not failures of the request.
			if got := h.got(); len(got) != 0 {
				t.Errorf("OnError got %v, want nothing", got)
			}
		})
		t.Run(tt.name+"/NewReverseProxy", func(t *testing.T) {
			up, hits := stallingUpstream(t, tt.retryAfter)
			base := &http.Transport{Proxy: nil}
			t.Cleanup(base.CloseIdleConnections)
			var h hook
			gw := gateway(t, up.URL, Options{Transport: base, Retry: &RetryPolicy{MaxElapsed: 500 * time.Millisecond}, OnError: h.onError})
			start := time.Now()
			resp, _ := get(t, nil, gw.URL, "")
			elapsed := time.Since(start)
			if resp.StatusCode != http.StatusServiceUnavailable || elapsed > hang {
				t.Errorf("status %d after %v; want 503 well within %v", resp.StatusCode, elapsed, hang)
			}
			// The upstream's 503, replaced (its body is plain text): its
			// status is the received-status of the gateway's member,
			// which names no error of its own.
			if ps := lastProxyStatus(t, resp.Header); ps.ReceivedStatus != http.StatusServiceUnavailable || ps.Error != "" {
				t.Errorf("Proxy-Status %q, want the upstream's 503 as received-status, no error", resp.Header.Values("Proxy-Status"))
			}
			if n := hits.Load(); n < tt.minHits || n > tt.maxHits {
				t.Errorf("%d attempts, want %d to %d", n, tt.minHits, tt.maxHits)
			}
			if got := h.got(); len(got) != 1 || got[0].ReceivedStatus != http.StatusServiceUnavailable {
				t.Errorf("OnError got %v, want the replaced 503 alone", got)
			}
		})
	}
}

func TestDrainWindow(t *testing.T) {
	ms := time.Millisecond
	tests := []struct{ wait, left, want time.Duration }{
		{0, 500 * ms, minDrain},
		{5 * ms, 500 * ms, minDrain},
		{80 * ms, 500 * ms, 80 * ms},
		{0, 10 * ms, 5 * ms},      // the retry keeps half of what is left
		{8 * ms, 10 * ms, 8 * ms}, // the wait is spent anyway
	}
	for _, tt := range tests {
		if got := drainWindow(tt.wait, tt.left); got != tt.want {
			t.Errorf("drainWindow(%v, %v) = %v, want %v", tt.wait, tt.left, got, tt.want)
		}
	}
}
