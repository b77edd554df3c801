package middleware

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// errorReplica starts a replica that answers every request at once with
// status and an HTML page, as an application bug would.
func errorReplica(t testing.TB, status int) *replica {
	return startReplica(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, "<html><body>Internal Server Error</body></html>")
	}))
}

// TestOutlierEjects500: a replica that answers every request with a fast
// 500, which breakers count as a success, is ejected after a few; without
// ejection, power of two choices on requests in flight would send it
// about half the traffic.
func TestOutlierEjects500(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		outlier *OutlierPolicy
		ejected bool
	}{
		{"default", nil, true},
		{"zero policy", &OutlierPolicy{}, true},
		{"off", &OutlierPolicy{Consecutive5xx: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bad := errorReplica(t, http.StatusInternalServerError)
			a, b := okReplica(t, "a", 2*time.Millisecond), okReplica(t, "b", 2*time.Millisecond)
			var log capturedLog
			gw := gateway(t, "http://svc.internal", Options{
				Transport: newDialCounter(t),
				Upstreams: []string{bad.addr, a.addr, b.addr},
				Outlier:   tt.outlier,
				Logger:    log.logger(),
			})
			c := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 20}}
			defer c.CloseIdleConnections()
			const clients, each = 20, 15
			var errors500 atomic.Int64
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					for range each {
						resp, err := c.Get(gw.URL)
						if err != nil {
							t.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusInternalServerError {
							errors500.Add(1)
						}
					}
				})
			}
			wg.Wait()
			got := bad.requests.Load()
			if got != errors500.Load() {
				t.Errorf("%d requests reached the failing replica, %d got a 500", got, errors500.Load())
			}
			recs := log.records(t, "gatehouse: upstream ejected")
			if !tt.ejected {
				if len(recs) != 0 || got <= clients+5 {
					t.Errorf("with ejection off: %d ejections logged, %d of %d requests to the failing replica; want none, and more than %d", len(recs), got, clients*each, clients+5)
				}
				return
			}
			// 5 in a row eject it, plus those in flight meanwhile.
			if got > clients+5 {
				t.Errorf("%d of %d requests reached the failing replica, want at most %d", got, clients*each, clients+5)
			}
			if len(recs) != 1 {
				t.Fatalf("%d ejections logged, want 1", len(recs))
			}
			r := recs[0]
			if r["level"] != "WARN" || r["upstream"] != bad.addr || r["ejected_for"] != float64(30*time.Second) || r["ejections"] != float64(1) {
				t.Errorf("ejection record %v, want WARN for %s, 30s, 1 ejection", r, bad.addr)
			}
		})
	}
}

// TestOutlierCap: when every host answers 500, as an application bug
// makes them, no more than MaxEjectedPercent of them are ejected, and at
// least one always stays: every request still gets an upstream's answer.
func TestOutlierCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hosts   int
		percent int
		refused int // hosts besides, refusing connections: their breakers open
		want    int // hosts ejected
	}{
		{"two hosts, default", 2, 0, 0, 1},
		{"three hosts, default", 3, 0, 0, 1},
		{"four hosts, default", 4, 0, 0, 2},
		{"three hosts, 100%", 3, 100, 0, 2},
		{"three hosts, 10%", 3, 10, 0, 0},
		{"the last in rotation", 1, 100, 1, 0}, // the other's breaker is open
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hosts []string
			for range tt.hosts {
				hosts = append(hosts, errorReplica(t, http.StatusInternalServerError).addr)
			}
			for range tt.refused {
				hosts = append(hosts, refusedAddr(t))
			}
			var log capturedLog
			tr := &Transport{
				Base:      newDialCounter(t),
				Upstreams: hosts,
				Breaker:   &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Minute},
				Outlier:   &OutlierPolicy{Consecutive5xx: 2, MaxEjectedPercent: tt.percent},
				Logger:    log.logger(),
			}
			if tt.refused > 0 {
				// Open the refusing hosts' breakers first: a host counts
				// as in rotation until its breaker opens.
				refused := hosts[tt.hosts:]
				tr.Upstreams = refused
				for range refused {
					if resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://svc.internal/", nil)); err == nil {
						resp.Body.Close()
						t.Fatal("a refusing host answered")
					}
				}
				if err := tr.SetUpstreams(hosts); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 30 * len(hosts) {
				resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://svc.internal/", nil))
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusInternalServerError {
					t.Fatalf("request %d: status %d, want the upstream's 500", i, resp.StatusCode)
				}
			}
			ejected := 0
			now := time.Now()
			for _, u := range tr.hostPool().hosts {
				if u.ejectedWait(now) > 0 {
					ejected++
				}
			}
			if recs := log.records(t, "gatehouse: upstream ejected"); ejected != tt.want || len(recs) != tt.want {
				t.Errorf("%d hosts ejected, %d logged, want %d of %d", ejected, len(recs), tt.want, len(hosts))
			}
		})
	}
}

// TestOutlierEjectedTakeRequestsWhenNoneIsLeft: a host ejected while
// another was in rotation takes requests again once that other one is out
// (its breaker open): an ejection never leaves a request without a host.
func TestOutlierEjectedTakeRequestsWhenNoneIsLeft(t *testing.T) {
	t.Parallel()
	bad, good := errorReplica(t, http.StatusInternalServerError), okReplica(t, "good", 0)
	tr := &Transport{
		Base:      newDialCounter(t),
		Upstreams: []string{bad.addr, good.addr},
		Breaker:   &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Minute},
		Outlier:   &OutlierPolicy{Consecutive5xx: 2, MaxEjectedPercent: 100},
	}
	get := func() (int, error) {
		resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://svc.internal/", nil))
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for i := 0; bad.requests.Load() < 2; i++ { // eject bad, good in rotation
		if i == 200 {
			t.Fatal("the failing host was never drawn")
		}
		if _, err := get(); err != nil {
			t.Fatal(err)
		}
	}
	if tr.hostPool().hosts[0].ejectedWait(time.Now()) <= 0 {
		t.Fatal("the failing host was not ejected")
	}
	good.kill()
	before := bad.requests.Load()
	for i := range 5 {
		// The first may go to good, refused: it moves on to bad.
		if status, err := get(); err != nil || status != http.StatusInternalServerError {
			t.Fatalf("request %d: %d, %v; want the ejected host's 500", i, status, err)
		}
	}
	if got := bad.requests.Load() - before; got != 5 {
		t.Errorf("the ejected host took %d of 5 requests, want all", got)
	}
}

// TestOutlierEjectionGrows: a host ejected again is ejected for longer, up
// to MaxEjection, and time back in rotation forgives past ejections.
func TestOutlierEjectionGrows(t *testing.T) {
	t.Parallel()
	bad, good := errorReplica(t, http.StatusInternalServerError), okReplica(t, "good", 0)
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	advance := func(d time.Duration) {
		mu.Lock()
		clock = clock.Add(d)
		mu.Unlock()
	}
	var log capturedLog
	tr := &Transport{
		Base:      newDialCounter(t),
		Upstreams: []string{bad.addr, good.addr},
		Outlier:   &OutlierPolicy{Consecutive5xx: 1, BaseEjection: 10 * time.Second, MaxEjection: 25 * time.Second},
		Logger:    log.logger(),
		now:       now,
	}
	// ejectedFor sends requests until one reaches the bad host, and
	// returns the ejection that followed.
	ejectedFor := func() time.Duration {
		t.Helper()
		n := bad.requests.Load()
		for i := 0; bad.requests.Load() == n; i++ {
			if i == 1000 {
				t.Fatal("no request reached the failing host")
			}
			resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://svc.internal/", nil))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return tr.hostPool().hosts[0].ejectedWait(now())
	}
	steps := []struct {
		back time.Duration // time since the last ejection ended
		want time.Duration
	}{
		{0, 10 * time.Second},
		{0, 20 * time.Second},
		{0, 25 * time.Second}, // 30 s, capped
		{0, 25 * time.Second},
		{40 * time.Second, 10 * time.Second}, // 4 ejections forgiven
		{10 * time.Second, 10 * time.Second}, // 1 forgiven
		{0, 20 * time.Second},
	}
	var last time.Duration
	for i, s := range steps {
		advance(last + s.back)
		if got := ejectedFor(); got != s.want {
			t.Fatalf("ejection %d: %v, want %v", i+1, got, s.want)
		}
		last = s.want
	}
	if recs := log.records(t, "gatehouse: upstream ejected"); len(recs) != len(steps) {
		t.Errorf("%d ejections logged, want %d", len(recs), len(steps))
	}
}
