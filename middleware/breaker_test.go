package middleware

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBreakerStateString(t *testing.T) {
	tests := []struct {
		s    BreakerState
		want string
	}{
		{BreakerClosed, "closed"},
		{BreakerHalfOpen, "half-open"},
		{BreakerOpen, "open"},
		{BreakerState(7), "BreakerState(7)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("BreakerState(%d).String() = %q, want %q", tt.s, got, tt.want)
		}
	}
	var zero BreakerState
	if zero != BreakerClosed {
		t.Errorf("zero BreakerState = %v, want closed", zero)
	}
}

// step is one event in a breaker scenario.
type step struct {
	at      time.Duration // since the start
	outcome outcome       // for a request that was let through
	allowed bool          // whether allow must let it through
	state   BreakerState  // the state after the step
}

func runBreaker(t *testing.T, p *BreakerPolicy, steps []step) {
	t.Helper()
	var b breaker
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, s := range steps {
		now := start.Add(s.at)
		ok, probe, wait, _ := b.allow(p, now)
		if ok != s.allowed {
			t.Fatalf("step %d: allow = %v, want %v (state %v)", i, ok, s.allowed, b.state)
		}
		if !ok && wait <= 0 {
			t.Errorf("step %d: refused with wait %v, want > 0", i, wait)
		}
		if ok {
			b.done(p, now, probe, s.outcome)
		}
		if got := b.currentState(now); got != s.state {
			t.Fatalf("step %d: state = %v, want %v", i, got, s.state)
		}
	}
}

func TestBreakerConsecutive(t *testing.T) {
	p := &BreakerPolicy{ConsecutiveFailures: 3, OpenFor: time.Second}
	runBreaker(t, p, []step{
		{0, outcomeFailure, true, BreakerClosed},
		{0, outcomeFailure, true, BreakerClosed},
		{0, outcomeSuccess, true, BreakerClosed}, // a success resets the count
		{0, outcomeFailure, true, BreakerClosed},
		{0, outcomeIgnored, true, BreakerClosed}, // a cancellation does not count
		{0, outcomeFailure, true, BreakerClosed},
		{0, outcomeFailure, true, BreakerOpen},
		{500 * time.Millisecond, outcomeSuccess, false, BreakerOpen},
		{time.Second, outcomeFailure, true, BreakerOpen}, // the probe fails: open again
		{1500 * time.Millisecond, outcomeSuccess, false, BreakerOpen},
		{2 * time.Second, outcomeSuccess, true, BreakerClosed}, // the probe succeeds
		{2 * time.Second, outcomeFailure, true, BreakerClosed},
	})
}

func TestBreakerRatio(t *testing.T) {
	p := &BreakerPolicy{ConsecutiveFailures: -1, FailureRatio: 0.5, MinRequests: 4, Window: 10 * time.Second}
	runBreaker(t, p, []step{
		{0, outcomeFailure, true, BreakerClosed},
		{0, outcomeSuccess, true, BreakerClosed},
		{0, outcomeFailure, true, BreakerClosed},         // 2 of 3: below MinRequests
		{0, outcomeSuccess, true, BreakerClosed},         // 2 of 4, but a success
		{time.Second, outcomeFailure, true, BreakerOpen}, // 3 of 5
	})
	// Outcomes older than the window are forgotten.
	runBreaker(t, p, []step{
		{0, outcomeFailure, true, BreakerClosed},
		{0, outcomeFailure, true, BreakerClosed},
		{0, outcomeFailure, true, BreakerClosed},
		{20 * time.Second, outcomeSuccess, true, BreakerClosed},
		{20 * time.Second, outcomeSuccess, true, BreakerClosed},
		{20 * time.Second, outcomeSuccess, true, BreakerClosed},
		{20 * time.Second, outcomeFailure, true, BreakerClosed}, // 1 of 4
	})
}

func TestBreakerHalfOpenProbes(t *testing.T) {
	p := &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Second, Probes: 2}
	var b breaker
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.allow(p, now)
	b.done(p, now, 0, outcomeFailure)
	now = now.Add(time.Second)

	var got []bool
	var probes []bool
	var period uint64
	for range 3 {
		ok, probe, _, _ := b.allow(p, now)
		got = append(got, ok)
		probes = append(probes, probe != 0)
		if probe != 0 {
			period = probe
		}
	}
	if diff := cmp.Diff([]bool{true, true, false}, got); diff != "" {
		t.Errorf("half-open allow (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, true, false}, probes); diff != "" {
		t.Errorf("half-open probe (-want +got):\n%s", diff)
	}
	// A cancelled probe frees its slot without deciding.
	b.done(p, now, period, outcomeIgnored)
	if ok, probe, _, _ := b.allow(p, now); !ok || probe != period {
		t.Fatalf("after a cancelled probe: allow = %v, probe = %v, want a probe of period %d", ok, probe, period)
	}
	if from, to := b.done(p, now, period, outcomeSuccess); from != BreakerHalfOpen || to != BreakerClosed {
		t.Errorf("successful probe: %v -> %v, want half-open -> closed", from, to)
	}
}

// TestBreakerStaleProbe checks that a probe of an earlier half-open period
// neither frees a slot of the current one nor decides it.
func TestBreakerStaleProbe(t *testing.T) {
	p := &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Second, Probes: 2}
	var b breaker
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.allow(p, now)
	b.done(p, now, 0, outcomeFailure) // open
	now = now.Add(time.Second)
	_, stale, _, _ := b.allow(p, now) // probe A, still in flight
	_, b2, _, _ := b.allow(p, now)    // probe B fails: open again
	b.done(p, now, b2, outcomeFailure)
	now = now.Add(time.Second)
	for i := range 2 { // probes C and D, in flight
		if ok, probe, _, _ := b.allow(p, now); !ok || probe == 0 || probe == stale {
			t.Fatalf("probe %d of the new period: allow = %v, probe = %d", i, ok, probe)
		}
	}
	// A ends: the client went away, or it succeeded late.
	for _, o := range []outcome{outcomeIgnored, outcomeSuccess, outcomeFailure} {
		if from, to := b.done(p, now, stale, o); from != BreakerHalfOpen || to != BreakerHalfOpen {
			t.Errorf("stale probe with outcome %d: %v -> %v, want half-open to stay", o, from, to)
		}
	}
	if ok, _, _, _ := b.allow(p, now); ok {
		t.Error("a third probe was let through: the stale probe freed a slot")
	}
}

func TestSlidingCounter(t *testing.T) {
	c := newSlidingCounter(time.Second)
	start := time.Unix(1000, 0)
	c.add(start, 1, 2)
	c.add(start.Add(500*time.Millisecond), 3, 4)
	if a, b := c.sum(start.Add(900 * time.Millisecond)); a != 4 || b != 6 {
		t.Errorf("sum within the window = %d, %d, want 4, 6", a, b)
	}
	if a, b := c.sum(start.Add(1050 * time.Millisecond)); a != 3 || b != 4 {
		t.Errorf("sum after the first bucket expired = %d, %d, want 3, 4", a, b)
	}
	c.add(start.Add(5*time.Second), 1, 0) // reuses an expired bucket
	if a, b := c.sum(start.Add(5 * time.Second)); a != 1 || b != 0 {
		t.Errorf("sum after a gap = %d, %d, want 1, 0", a, b)
	}
}

// TestTransportReportsStateChangesInOrder drives one upstream's breaker
// through many changes from many goroutines over a real loopback server:
// OnStateChange must see them as a chain, each from the previous to.
func TestTransportReportsStateChangesInOrder(t *testing.T) {
	var n atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 != 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(up.Close)
	base := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	t.Cleanup(base.CloseIdleConnections)

	type change struct{ From, To BreakerState }
	var mu sync.Mutex
	var changes []change
	var log capturedLog
	tr := &Transport{
		Base:    base,
		Breaker: &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Microsecond, Probes: 4},
		Logger:  log.logger(),
		OnStateChange: func(_ string, from, to BreakerState) {
			runtime.Gosched() // let another change overtake this one, if it can
			mu.Lock()
			changes = append(changes, change{from, to})
			mu.Unlock()
		},
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 100 {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, up.URL, nil)
				resp, err := tr.RoundTrip(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				} else if ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("the requests did not finish in time")
	}

	mu.Lock()
	defer mu.Unlock()
	if len(changes) < 10 {
		t.Fatalf("only %d state changes; the test needs many", len(changes))
	}
	check := func(what string, got []change) {
		t.Helper()
		prev := BreakerClosed
		for i, c := range got {
			if c.From != prev || c.From == c.To {
				t.Fatalf("%s: change %d is %v→%v after one to %v: out of order (%d changes)", what, i, c.From, c.To, prev, len(got))
			}
			prev = c.To
		}
	}
	// The new breaker is reported closed first, then each change; the
	// log has only the changes.
	if changes[0] != (change{BreakerClosed, BreakerClosed}) {
		t.Fatalf("OnStateChange: first call %v→%v, want the new breaker's closed→closed", changes[0].From, changes[0].To)
	}
	check("OnStateChange", changes[1:])
	var logged []change
	states := map[string]BreakerState{"closed": BreakerClosed, "half-open": BreakerHalfOpen, "open": BreakerOpen}
	log.mu.Lock()
	text := log.buf.String()
	log.mu.Unlock()
	for line := range strings.Lines(text) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if m, _ := rec["msg"].(string); strings.HasPrefix(m, "gatehouse: circuit breaker ") {
			logged = append(logged, change{states[rec["from"].(string)], states[rec["to"].(string)]})
		}
	}
	check("log", logged)
}
