package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
)

// replica is a loopback upstream that can be killed and started again on
// the same address, counting the connections it accepts and the requests
// its handler receives.
type replica struct {
	t        testing.TB
	addr     string
	handler  http.Handler
	accepts  atomic.Int64
	requests atomic.Int64

	mu   sync.Mutex
	srv  *http.Server
	done chan struct{}
}

// startReplica starts a replica serving h on a new loopback address.
func startReplica(t testing.TB, h http.Handler) *replica {
	t.Helper()
	r := &replica{t: t, handler: h}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.kill)
	return r
}

// okReplica starts a replica that answers 200 with its name after delay.
func okReplica(t testing.TB, name string, delay time.Duration) *replica {
	return startReplica(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if delay > 0 {
			time.Sleep(delay)
		}
		io.WriteString(w, name)
	}))
}

// resetReplica starts a replica that reads each request, its body
// included, and resets the connection without answering.
func resetReplica(t testing.TB) *replica {
	return startReplica(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}))
}

func (r *replica) serve(ln net.Listener) {
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.requests.Add(1)
			r.handler.ServeHTTP(w, req)
		}),
		ErrorLog: log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	r.mu.Lock()
	r.srv, r.done = srv, done
	r.mu.Unlock()
	go func() {
		defer close(done)
		srv.Serve(countingListener{ln, &r.accepts})
	}()
}

// kill closes the listener and every connection; the address then refuses
// connections.
func (r *replica) kill() {
	r.mu.Lock()
	srv, done := r.srv, r.done
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
		<-done
	}
}

// restart listens on the replica's address again.
func (r *replica) restart() {
	r.t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp4", r.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("listen again on %s: %v", r.addr, err)
	}
	r.serve(ln)
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// dialCounter is a base transport that counts its dials.
type dialCounter struct {
	*http.Transport
	dials atomic.Int64
}

func newDialCounter(t testing.TB) *dialCounter {
	d := &dialCounter{}
	var dialer net.Dialer
	d.Transport = &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: 64,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d.dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(d.CloseIdleConnections)
	return d
}

// attempts records OnAttempt's calls.
type attempts struct {
	mu  sync.Mutex
	all []Attempt
}

func (a *attempts) add(x Attempt) {
	a.mu.Lock()
	a.all = append(a.all, x)
	a.mu.Unlock()
}

func (a *attempts) list() []Attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Attempt(nil), a.all...)
}

func TestUpstreamsInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		hosts []string
		want  string
	}{
		{"no port", []string{"127.0.0.1"}, "not a host:port"},
		{"no host", []string{":8080"}, "has no host"},
		{"port zero", []string{"127.0.0.1:0"}, "no valid port"},
		{"named port", []string{"127.0.0.1:http"}, "no valid port"},
		{"URL", []string{"http://127.0.0.1:80"}, "not a host:port"},
		{"twice", []string{"127.0.0.1:80", "127.0.0.1:81", "127.0.0.1:80"}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &Transport{}
			err := tr.SetUpstreams(tt.hosts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("SetUpstreams(%q) = %v, want an error saying %q", tt.hosts, err, tt.want)
			}
			if got := tr.UpstreamHosts(); got != nil {
				t.Errorf("after a refused SetUpstreams, hosts %q, want none", got)
			}

			// The same set in the field fails every request.
			tr = &Transport{Upstreams: tt.hosts}
			_, err = tr.RoundTrip(newRequest(t, http.MethodGet, "http://upstream.test/", nil))
			var e *gatewayerr.Error
			if !errors.As(err, &e) || e.Kind != gatewayerr.ProxyConfigurationError || !strings.Contains(e.Error(), tt.want) {
				t.Errorf("RoundTrip with Upstreams %q: %v, want proxy_configuration_error saying %q", tt.hosts, err, tt.want)
			}
		})
	}
	if err := (&Transport{}).SetUpstreams([]string{"[::1]:8080", "gw.internal:443"}); err != nil {
		t.Errorf("SetUpstreams of valid hosts: %v", err)
	}
}

func TestPickPrefersFewerInFlight(t *testing.T) {
	t.Parallel()
	now := time.Unix(1e9, 0)
	tests := []struct {
		name     string
		inflight [2]int64
		weights  [2]int
		streak   [2]int // failures in a row of each host's breaker
		want     int
	}{
		{"fewer in flight", [2]int64{5, 1}, [2]int{1, 1}, [2]int{}, 1},
		{"fewer in flight, first", [2]int64{0, 3}, [2]int{1, 1}, [2]int{}, 0},
		{"weight makes up for load", [2]int64{5, 2}, [2]int{4, 1}, [2]int{}, 0},
		{"failing fast loses", [2]int64{0, 2}, [2]int{1, 1}, [2]int{4, 0}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &Transport{UpstreamWeights: map[string]int{"a:1": tt.weights[0], "b:1": tt.weights[1]}}
			if err := tr.SetUpstreams([]string{"a:1", "b:1"}); err != nil {
				t.Fatal(err)
			}
			p := tr.hostPool()
			bp := tr.breakerPolicy(p)
			for i, u := range p.hosts {
				u.inflight.Store(tt.inflight[i])
				for range tt.streak[i] {
					u.breaker.done(bp, now, 0, outcomeFailure)
				}
			}
			// With two hosts, both are always compared.
			for range 50 {
				if got := p.pick(bp, 0, now, nil); got != tt.want {
					t.Fatalf("pick = %d, want %d", got, tt.want)
				}
			}
		})
	}
}

func TestPickSkipsEjectedAndAvoided(t *testing.T) {
	t.Parallel()
	now := time.Unix(1e9, 0)
	tr := &Transport{Breaker: &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Minute}}
	if err := tr.SetUpstreams([]string{"a:1", "b:1", "c:1"}); err != nil {
		t.Fatal(err)
	}
	p := tr.hostPool()
	p.hosts[0].breaker.done(tr.Breaker, now, 0, outcomeFailure) // a: open
	p.hosts[1].down.Store(true)                                 // b: marked down
	for range 50 {
		if got := p.pick(tr.Breaker, 0, now, nil); got != 2 {
			t.Fatalf("pick = %d, want 2, the only host neither open nor down", got)
		}
	}
	if got := p.pick(tr.Breaker, 0, now, []int{2}); got != -1 {
		t.Errorf("pick avoiding the last host = %d, want -1", got)
	}
	wait := p.wait(tr.Breaker, nil, now)
	if wait != time.Second {
		// b is down with no health check to bring it back: it may be
		// tried as soon as it passes one, and Retry-After is at least a
		// second.
		t.Errorf("wait = %v, want 1s", wait)
	}
	p.hosts[1].down.Store(false)
	p.hosts[2].breaker.done(tr.Breaker, now.Add(time.Second), 0, outcomeFailure)
	p.hosts[1].breaker.done(tr.Breaker, now.Add(2*time.Second), 0, outcomeFailure)
	if got := p.pick(tr.Breaker, 0, now.Add(3*time.Second), nil); got != -1 {
		t.Errorf("pick with every breaker open = %d, want -1", got)
	}
	if got, want := p.wait(tr.Breaker, nil, now.Add(3*time.Second)), 57*time.Second; got != want {
		t.Errorf("wait = %v, want %v (the first breaker to let probes through)", got, want)
	}
}

func TestSlowStart(t *testing.T) {
	t.Parallel()
	now := time.Unix(1e9, 0)
	tests := []struct {
		name      string
		since     time.Duration // before now; 0: not in slow start
		slowStart time.Duration
		want      float64
	}{
		{"not back", 0, 10 * time.Second, 1},
		{"just back", time.Millisecond, 10 * time.Second, 0.1},
		{"halfway", 5 * time.Second, 10 * time.Second, 0.5},
		{"done", 11 * time.Second, 10 * time.Second, 1},
		{"off", time.Millisecond, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u upstream
			if tt.since != 0 {
				u.cameBack(now.Add(-tt.since))
			}
			if got := u.slowFactor(tt.slowStart, now); got < tt.want-0.001 || got > tt.want+0.001 {
				t.Errorf("slowFactor = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUpstreamsFailoverUnderLoad sends 1,000 GETs from 20 clients through a
// gateway in front of three replicas, one refusing, one resetting every
// request after reading it, one healthy: no visitor sees a failure, and the
// retries the resetting replica causes stay within its budget.
func TestUpstreamsFailoverUnderLoad(t *testing.T) {
	t.Parallel()
	refused := refusedAddr(t)
	reset := resetReplica(t)
	healthy := okReplica(t, "ok", 0)
	var log capturedLog
	var seen attempts
	var failures atomic.Int64
	gw := gateway(t, "http://pool.test", Options{
		Transport: newDialCounter(t),
		Upstreams: []string{refused, reset.addr, healthy.addr},
		Retry:     &RetryPolicy{BaseDelay: time.Millisecond},
		Logger:    log.logger(),
		OnAttempt: seen.add,
		OnError:   func(*http.Request, *gatewayerr.Error) { failures.Add(1) },
	})

	const clients, perClient = 20, 50
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range clients {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
			defer c.CloseIdleConnections()
			for range perClient {
				resp, err := c.Get(gw.URL + "/item")
				if err != nil {
					bad.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(b) != "ok" {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n != 0 {
		t.Errorf("%d of %d visitors got a failure, want 0", n, clients*perClient)
	}
	if n := failures.Load(); n != 0 {
		t.Errorf("OnError called %d times, want 0", n)
	}
	if n := healthy.requests.Load(); n != clients*perClient {
		t.Errorf("healthy replica served %d requests, want %d", n, clients*perClient)
	}

	// Every failed attempt is reported with its host, and logged.
	var firstsAtReset, retriesFromReset, fromRefused int
	previous := map[*http.Request]Attempt{}
	for _, a := range seen.list() {
		// A request counts in a host's budget at its first attempt, or
		// when it moved on from a host it never reached.
		prev, ok := previous[a.Request]
		counted := !ok || prev.Err != nil && !prev.Err.RequestSent()
		previous[a.Request] = a
		switch a.Upstream {
		case reset.addr:
			if counted {
				firstsAtReset++
			}
			if a.Err == nil || !a.Err.RequestSent() || !a.Retry {
				t.Errorf("attempt at the resetting replica: err %v, retry %v; want a retried failure after sending", a.Err, a.Retry)
			}
			retriesFromReset++
		case refused:
			if a.Err == nil || a.Err.Kind != gatewayerr.ConnectionRefused || !a.Retry {
				t.Errorf("attempt at the refusing replica: err %v, retry %v; want connection_refused, moved past", a.Err, a.Retry)
			}
			fromRefused++
		case healthy.addr:
			if a.Err != nil || a.Status != http.StatusOK || a.Retry {
				t.Errorf("attempt at the healthy replica: err %v, status %d, retry %v", a.Err, a.Status, a.Retry)
			}
		default:
			t.Errorf("attempt at %q, not one of the replicas", a.Upstream)
		}
	}
	if retriesFromReset == 0 || fromRefused == 0 {
		t.Errorf("attempts at the resetting replica %d, at the refusing one %d; want some of each", retriesFromReset, fromRefused)
	}
	// The budget of the resetting replica: BudgetMin (10) plus 20% of the
	// requests that started there, rounded up, whatever the breaker did.
	t.Logf("attempts: %d at the refusing replica, %d at the resetting one (%d counted in its budget), %d at the healthy one",
		fromRefused, retriesFromReset, firstsAtReset, healthy.requests.Load())
	if limit := 10 + firstsAtReset/5 + 1; retriesFromReset > limit {
		t.Errorf("%d retries after the resetting replica's failures, over its budget of %d", retriesFromReset, limit)
	}
	if got := int64(retriesFromReset); reset.requests.Load() != got {
		t.Errorf("resetting replica received %d requests, %d attempts reported", reset.requests.Load(), got)
	}
	logged := log.records(t, "gatehouse: retrying upstream request")
	if len(logged) != retriesFromReset+fromRefused {
		t.Errorf("%d retry records, want one per failed attempt (%d)", len(logged), retriesFromReset+fromRefused)
	}
	for _, r := range logged {
		if r["upstream"] != refused && r["upstream"] != reset.addr {
			t.Errorf("retry record names upstream %v", r["upstream"])
		}
	}
}

// TestUpstreamsPOSTBodyNeverSentTwice sends POSTs to two replicas that read
// the body and reset: each body reaches one replica only, and the visitor
// gets the failure. A POST to a refusing replica moves on, even without a
// retry policy.
func TestUpstreamsPOSTBodyNeverSentTwice(t *testing.T) {
	t.Parallel()
	t.Run("reached a host", func(t *testing.T) {
		t.Parallel()
		a, b := resetReplica(t), resetReplica(t)
		gw := gateway(t, "http://pool.test", Options{
			Transport: newDialCounter(t),
			Upstreams: []string{a.addr, b.addr},
			Retry:     &RetryPolicy{BaseDelay: time.Millisecond},
			Breaker:   &BreakerPolicy{ConsecutiveFailures: -1},
		})
		c := &http.Client{Transport: &http.Transport{Proxy: nil}}
		defer c.CloseIdleConnections()
		for i := range 10 {
			req := newRequest(t, http.MethodPost, gw.URL+"/orders", strings.NewReader(`{"n":1}`))
			resp, _ := send(t, c, req)
			if resp.StatusCode != http.StatusBadGateway {
				t.Errorf("POST %d: status %d, want 502", i, resp.StatusCode)
			}
			if got := a.requests.Load() + b.requests.Load(); got != int64(i+1) {
				t.Fatalf("after %d POSTs, the replicas received %d", i+1, got)
			}
		}
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		var bodies sync.Map
		ok := startReplica(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			bodies.Store(string(b), true)
			w.WriteHeader(http.StatusCreated)
		}))
		gw := gateway(t, "http://pool.test", Options{
			Transport: newDialCounter(t),
			Upstreams: []string{refusedAddr(t), ok.addr},
		})
		c := &http.Client{Transport: &http.Transport{Proxy: nil}}
		defer c.CloseIdleConnections()
		for i := range 20 {
			body := fmt.Sprintf(`{"order":%d}`, i)
			resp, _ := send(t, c, newRequest(t, http.MethodPost, gw.URL+"/orders", strings.NewReader(body)))
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("POST %d: status %d, want 201", i, resp.StatusCode)
			}
			if _, ok := bodies.Load(body); !ok {
				t.Errorf("POST %d: the healthy replica did not receive the body %s", i, body)
			}
		}
	})
}

// TestUpstreamsReplicaKilledMidLoad kills one of three replicas while 20
// clients send GETs and POSTs: the GETs all succeed, and only POSTs that
// were in flight on the killed replica fail.
func TestUpstreamsReplicaKilledMidLoad(t *testing.T) {
	t.Parallel()
	reps := []*replica{okReplica(t, "ok", 2*time.Millisecond), okReplica(t, "ok", 2*time.Millisecond), okReplica(t, "ok", 2*time.Millisecond)}
	victim := reps[1]
	var mu sync.Mutex
	var failed []*gatewayerr.Error
	gw := gateway(t, "http://pool.test", Options{
		Transport: newDialCounter(t),
		Upstreams: []string{reps[0].addr, reps[1].addr, reps[2].addr},
		Retry:     &RetryPolicy{BaseDelay: time.Millisecond},
		OnError: func(_ *http.Request, e *gatewayerr.Error) {
			mu.Lock()
			failed = append(failed, e)
			mu.Unlock()
		},
	})
	const clients, perClient = 20, 30
	var done atomic.Int64
	var getFailures, postFailures atomic.Int64
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for done.Load() < clients*perClient/3 {
			time.Sleep(time.Millisecond)
		}
		victim.kill()
	}()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
			defer c.CloseIdleConnections()
			for j := range perClient {
				method := http.MethodGet
				var body io.Reader
				if (i+j)%2 == 0 {
					method, body = http.MethodPost, strings.NewReader("payload")
				}
				req, _ := http.NewRequest(method, gw.URL+"/", body)
				resp, err := c.Do(req)
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if !ok && method == http.MethodGet {
					getFailures.Add(1)
				} else if !ok {
					postFailures.Add(1)
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	<-killed
	t.Logf("%d POSTs failed; the killed replica served %d requests", postFailures.Load(), victim.requests.Load())
	if n := getFailures.Load(); n != 0 {
		t.Errorf("%d GETs failed, want 0", n)
	}
	// At most one request per client can have been in flight on the
	// killed replica.
	if n := postFailures.Load(); n > clients {
		t.Errorf("%d POSTs failed, more than could be in flight (%d)", n, clients)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range failed {
		if e.Upstream != victim.addr || !e.RequestSent() {
			t.Errorf("failure %v at %q (sent %v), want only requests sent to the killed replica %q", e, e.Upstream, e.RequestSent(), victim.addr)
		}
	}
	if int64(len(failed)) != postFailures.Load() {
		t.Errorf("%d failures reported, %d POSTs failed", len(failed), postFailures.Load())
	}
}

// TestUpstreamsHealthCheckBringsBack kills a replica, which the health
// check marks down, and starts it again: the check finds it, and it gets
// requests again.
func TestUpstreamsHealthCheckBringsBack(t *testing.T) {
	t.Parallel()
	a, b := okReplica(t, "a", 0), okReplica(t, "b", 0)
	var log capturedLog
	target, _ := url.Parse("http://pool.test")
	rp := NewReverseProxy(target, Options{
		Transport: newDialCounter(t),
		Upstreams: []string{a.addr, b.addr},
		HealthCheck: &HealthCheck{
			Path:               "/healthz",
			Interval:           20 * time.Millisecond,
			Timeout:            5 * time.Second, // a's checks must pass on a loaded machine
			HealthyThreshold:   2,
			UnhealthyThreshold: 1,
		},
		Logger: log.logger(),
	})
	tr := ProxyTransport(rp)
	if tr == nil {
		t.Fatal("ProxyTransport returned nil for a NewReverseProxy")
	}
	t.Cleanup(func() { tr.Close() })
	gw := httptest.NewServer(rp)
	t.Cleanup(gw.Close)
	c := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer c.CloseIdleConnections()

	waitLog := func(msg string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(log.records(t, msg)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no %q record within 10s", msg)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	get(t, c, gw.URL, "") // starts the checks
	b.kill()
	waitLog("gatehouse: upstream marked down by health check")
	for range 20 {
		if resp, body := get(t, c, gw.URL, ""); resp.StatusCode != http.StatusOK || body != "a" {
			t.Fatalf("with b down: status %d, body %q; want a's 200", resp.StatusCode, body)
		}
	}
	if r := log.records(t, "gatehouse: upstream marked down by health check"); r[0]["upstream"] != b.addr {
		t.Errorf("marked down: %v, want %s", r[0]["upstream"], b.addr)
	}

	before := b.requests.Load()
	b.restart()
	waitLog("gatehouse: upstream healthy again")
	checks := b.requests.Load() - before // health checks are requests too
	var toB int
	for range 400 {
		if _, body := get(t, c, gw.URL, ""); body == "b" {
			toB++
		}
	}
	t.Logf("b got %d of 400 requests after it came back", toB)
	if toB == 0 {
		t.Errorf("b came back (%d checks passed) but got none of 400 requests", checks)
	}
	if toB > 300 {
		t.Errorf("b got %d of 400 requests right after it came back, want a share growing from a tenth", toB)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	n := b.requests.Load()
	time.Sleep(60 * time.Millisecond)
	if got := b.requests.Load(); got != n {
		t.Errorf("%d requests reached b after Close, want no more checks", got-n)
	}
}

func TestHealthChecksStopWithContext(t *testing.T) {
	t.Parallel()
	a := okReplica(t, "a", 0)
	tr := &Transport{
		Base:        newDialCounter(t),
		Upstreams:   []string{a.addr},
		HealthCheck: &HealthCheck{Interval: 10 * time.Millisecond},
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr.StartHealthChecks(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for a.requests.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no health checks within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-tr.health.done:
	case <-time.After(5 * time.Second):
		t.Fatal("health checks still running 5s after their context ended")
	}
	// A request afterwards does not start them again.
	resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://pool.test/", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tr.Close()
	n := a.requests.Load()
	time.Sleep(40 * time.Millisecond)
	if got := a.requests.Load(); got != n {
		t.Errorf("%d checks after the context ended", got-n)
	}
}

// TestUpstreamsAllDown: once every host's breaker is open, a request gets
// the branded 503 at once, without a dial, with Retry-After until the first
// host may be tried.
func TestUpstreamsAllDown(t *testing.T) {
	t.Parallel()
	base := newDialCounter(t)
	hosts := []string{refusedAddr(t), refusedAddr(t), refusedAddr(t)}
	var seen attempts
	gw := gateway(t, "http://pool.test", Options{
		Transport: base,
		Upstreams: hosts,
		Breaker:   &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Minute},
		OnAttempt: seen.add,
		ProxyStatusDetails: func(r *http.Request) bool {
			return r.Header.Get("X-Debug") != ""
		},
	})
	c := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer c.CloseIdleConnections()

	// The first request tries each host once, and fails as the last did,
	// naming it as next-hop when details are allowed.
	req := newRequest(t, http.MethodPost, gw.URL, strings.NewReader("x"))
	req.Header.Set("X-Debug", "1")
	resp, _ := send(t, c, req)
	tried := seen.list()
	if resp.StatusCode != http.StatusBadGateway || len(tried) != 3 || base.dials.Load() != 3 {
		t.Fatalf("first request: status %d, %d attempts, %d dials; want 502 after 3 of each", resp.StatusCode, len(tried), base.dials.Load())
	}
	for i, a := range tried {
		if a.Number != i+1 || a.Retry != (i < 2) || a.Err == nil || a.Err.Kind != gatewayerr.ConnectionRefused {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
	if ps := lastProxyStatus(t, resp.Header); ps.Kind != gatewayerr.ConnectionRefused || ps.NextHop != tried[2].Upstream {
		t.Errorf("Proxy-Status %+v, want connection_refused with next-hop %s", ps, tried[2].Upstream)
	}

	for _, debug := range []bool{false, true} {
		req := newRequest(t, http.MethodGet, gw.URL, nil)
		req.Header.Set("Accept", "text/html")
		if debug {
			req.Header.Set("X-Debug", "1")
		}
		resp, body := send(t, c, req)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status %d, want 503", resp.StatusCode)
		}
		if ra := resp.Header.Get("Retry-After"); ra == "" || ra > "60" || ra < "50" {
			t.Errorf("Retry-After %q, want about 60 (seconds until the first breaker lets probes through)", ra)
		}
		ps := lastProxyStatus(t, resp.Header)
		if ps.Kind != gatewayerr.DestinationUnavailable || ps.NextHop != "" && !debug {
			t.Errorf("Proxy-Status %+v, want destination_unavailable without next-hop", ps)
		}
		if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<html") {
			t.Errorf("Content-Type %q, want the HTML page", resp.Header.Get("Content-Type"))
		}
		for _, h := range hosts {
			if !debug && (strings.Contains(body, h) || strings.Contains(strings.Join(resp.Header.Values("Proxy-Status"), ","), h)) {
				t.Errorf("the response names the upstream %s", h)
			}
		}
	}
	if n := base.dials.Load(); n != 3 {
		t.Errorf("%d dials, want no more than the first request's 3", n)
	}
	if n := len(seen.list()); n != 3 {
		t.Errorf("%d attempts, want no more than the first request's 3", n)
	}
}

// TestSetUpstreamsKeepsState changes the set at run time: the host that
// stays keeps its open breaker, the one that leaves gets no more requests.
func TestSetUpstreamsKeepsState(t *testing.T) {
	t.Parallel()
	refused := refusedAddr(t)
	b, c := okReplica(t, "b", 0), okReplica(t, "c", 0)
	base := newDialCounter(t)
	tr := &Transport{
		Base:      base,
		Upstreams: []string{refused, b.addr},
		Breaker:   &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Minute},
	}
	for range 20 {
		resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://pool.test/", nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if s := tr.BreakerState(refused); s != BreakerOpen {
		t.Fatalf("breaker of the refusing host %s, want open", s)
	}
	kept := tr.upstreams[refused]
	if err := tr.SetUpstreams([]string{c.addr, refused}); err != nil {
		t.Fatal(err)
	}
	if s := tr.BreakerState(refused); s != BreakerOpen || tr.upstreams[refused] != kept {
		t.Errorf("after SetUpstreams, the staying host's breaker is %s (state kept: %v), want open and kept", s, tr.upstreams[refused] == kept)
	}
	if _, ok := tr.upstreams[b.addr]; ok {
		t.Errorf("the state of the host that left is still kept")
	}
	if got, want := strings.Join(tr.UpstreamHosts(), ","), c.addr+","+refused; got != want {
		t.Errorf("UpstreamHosts = %s, want %s", got, want)
	}
	dials, bBefore := base.dials.Load(), b.requests.Load()
	for range 20 {
		resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://pool.test/", nil))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "c" {
			t.Errorf("body %q, want c's", body)
		}
	}
	if n := b.requests.Load() - bBefore; n != 0 {
		t.Errorf("%d requests reached the host that left", n)
	}
	if n := base.dials.Load() - dials; n != 1 {
		t.Errorf("%d dials after the change, want 1 (to c; the open breaker spares the refusing host)", n)
	}
	if err := tr.SetUpstreams(nil); err != nil {
		t.Fatal(err)
	}
	if tr.UpstreamHosts() != nil {
		t.Errorf("UpstreamHosts after SetUpstreams(nil) = %q, want nil", tr.UpstreamHosts())
	}
}

// BenchmarkReverseProxyUpstreams compares the success path of one upstream
// (the target alone) with three Upstreams: the balancer's choice and the
// per-attempt copy of the outgoing request it sends to the chosen host.
func BenchmarkReverseProxyUpstreams(b *testing.B) {
	var addrs []string
	for range 3 {
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<!doctype html><title>ok</title><p>hello from the upstream</p>")
		}))
		defer up.Close()
		addrs = append(addrs, up.Listener.Addr().String())
	}
	target, _ := url.Parse("http://" + addrs[0])
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	for _, bc := range []struct {
		name      string
		upstreams []string
	}{
		{"upstreams=1", nil},
		{"upstreams=3", addrs},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rp := NewReverseProxy(target, Options{Transport: tr, Upstreams: bc.upstreams})
			req := httptest.NewRequest(http.MethodGet, "http://gateway.test/", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				rp.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// stubUpstream answers every request at once, in memory, so that a
// benchmark measures the gateway alone.
type stubUpstream struct{}

func (stubUpstream) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: http.NoBody, ContentLength: 0, Request: req,
	}, nil
}

// BenchmarkReverseProxyUpstreamsInMemory is BenchmarkReverseProxyUpstreams
// without sockets: what the balancer adds to the gateway's own work.
func BenchmarkReverseProxyUpstreamsInMemory(b *testing.B) {
	target, _ := url.Parse("http://127.0.0.1:9001")
	for _, bc := range []struct {
		name      string
		upstreams []string
	}{
		{"upstreams=1", nil},
		{"upstreams=3", []string{"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rp := NewReverseProxy(target, Options{Transport: stubUpstream{}, Upstreams: bc.upstreams})
			req := httptest.NewRequest(http.MethodGet, "http://gateway.test/", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				rp.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkPoolPick measures the balancer's choice among three hosts with
// breakers: the whole of what several upstreams add to an attempt.
func BenchmarkPoolPick(b *testing.B) {
	tr := &Transport{}
	if err := tr.SetUpstreams([]string{"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"}); err != nil {
		b.Fatal(err)
	}
	p := tr.hostPool()
	bp := tr.breakerPolicy(p)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if p.pick(bp, defaultSlowStart, now, nil) < 0 {
			b.Fatal("no host")
		}
	}
}

// TestHealthCheckClosesBreaker: a host whose breaker opened comes back once
// it passed HealthyThreshold checks since, before OpenFor is up.
func TestHealthCheckClosesBreaker(t *testing.T) {
	t.Parallel()
	a, b := okReplica(t, "a", 0), okReplica(t, "b", 0)
	changes := make(chan [2]BreakerState, 10)
	tr := &Transport{
		Base:        newDialCounter(t),
		Upstreams:   []string{a.addr, b.addr},
		Breaker:     &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Hour},
		HealthCheck: &HealthCheck{Interval: 10 * time.Millisecond, HealthyThreshold: 3},
		OnStateChange: func(host string, from, to BreakerState) {
			if host == a.addr {
				changes <- [2]BreakerState{from, to}
			}
		},
	}
	t.Cleanup(func() { tr.Close() })
	tr.breakerDone(tr.Breaker, tr.hostPool().hosts[0], a.addr, 0, outcomeFailure)
	if s := tr.BreakerState(a.addr); s != BreakerOpen {
		t.Fatalf("breaker %s, want open", s)
	}
	// The breaker is reported closed when it is made, then open.
	for _, want := range [][2]BreakerState{{BreakerClosed, BreakerClosed}, {BreakerClosed, BreakerOpen}} {
		if c := <-changes; c != want {
			t.Fatalf("state change %v, want %v", c, want)
		}
	}
	checks := a.requests.Load()
	tr.StartHealthChecks(context.Background())
	select {
	case c := <-changes:
		if c != [2]BreakerState{BreakerOpen, BreakerClosed} {
			t.Errorf("state change %v, want open to closed", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("breaker still open 5s after the checks started")
	}
	if n := a.requests.Load() - checks; n < 3 {
		t.Errorf("breaker closed after %d checks, want at least 3", n)
	}
	if s := tr.BreakerState(a.addr); s != BreakerClosed {
		t.Errorf("breaker %s, want closed", s)
	}
}

func TestProxyTransport(t *testing.T) {
	t.Parallel()
	target, _ := url.Parse("http://app.internal")
	tests := []struct {
		name string
		opts Options
	}{
		{"zero", Options{}},
		{"upstreams", Options{Upstreams: []string{"127.0.0.1:9001"}}},
		{"maintenance", Options{Maintenance: new(Maintenance)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ProxyTransport(NewReverseProxy(target, tt.opts)) == nil {
				t.Errorf("ProxyTransport = nil for a NewReverseProxy")
			}
		})
	}
	if ProxyTransport(&httputil.ReverseProxy{Transport: &Transport{}}) != nil {
		t.Errorf("ProxyTransport of another ReverseProxy's Transport, want nil")
	}
	if ProxyTransport(nil) != nil {
		t.Errorf("ProxyTransport(nil), want nil")
	}
}

// TestUpstreamsBudgetBoundsFailover: when every host fails after the
// request reached it, retries on other hosts stay within the hosts'
// budgets, as they do with a single host.
func TestUpstreamsBudgetBoundsFailover(t *testing.T) {
	t.Parallel()
	a, b := resetReplica(t), resetReplica(t)
	var seen attempts
	tr := &Transport{
		Base:      newDialCounter(t),
		Upstreams: []string{a.addr, b.addr},
		Retry:     &RetryPolicy{Attempts: 3, BaseDelay: time.Microsecond, BudgetWindow: time.Minute},
		Breaker:   &BreakerPolicy{ConsecutiveFailures: -1},
		OnAttempt: seen.add,
	}
	const requests = 100
	for range requests {
		_, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://pool.test/", nil))
		if err == nil {
			t.Fatal("a request succeeded against two resetting replicas")
		}
	}
	retries := 0
	for _, x := range seen.list() {
		if x.Retry {
			retries++
		}
	}
	// Each host's budget: BudgetMin (10) plus 20% of the requests that
	// started there, rounded up.
	if limit := 2*10 + requests/5 + 2; retries > limit {
		t.Errorf("%d retries for %d requests, over the budgets' %d", retries, requests, limit)
	}
	if retries < 20 {
		t.Errorf("%d retries, want at least the two BudgetMin's 20", retries)
	}
	if got := a.requests.Load() + b.requests.Load(); got != int64(requests+retries) {
		t.Errorf("replicas received %d requests, want %d first attempts and %d retries", got, requests, retries)
	}
}

// TestUpstreamsFailoverFaults puts one misbehaving replica beside a healthy
// one: whatever it does before its response headers arrive, GETs succeed.
func TestUpstreamsFailoverFaults(t *testing.T) {
	t.Parallel()
	faults := []struct {
		name  string
		start func(testing.TB) *faulttest.Server
	}{
		{"accept and close", faulttest.AcceptClose},
		{"close before headers", faulttest.CloseBeforeHeaders},
		{"reset before headers", faulttest.ResetBeforeHeaders},
		{"stall headers", faulttest.StallHeaders},
		{"garbage status", faulttest.GarbageStatus},
		{"503", func(tb testing.TB) *faulttest.Server { return faulttest.Status(tb, 503, nil, "") }},
		{"502 with Retry-After", func(tb testing.TB) *faulttest.Server {
			return faulttest.Status(tb, 502, http.Header{"Retry-After": {"3"}}, "")
		}},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			bad := f.start(t)
			good := okReplica(t, "ok", 0)
			tr := &Transport{
				Base:      newDialCounter(t),
				Upstreams: []string{bad.Addr, good.addr},
				Retry:     &RetryPolicy{AttemptTimeout: 200 * time.Millisecond, BaseDelay: time.Millisecond},
			}
			for i := range 20 {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				req := newRequest(t, http.MethodGet, "http://pool.test/", nil).WithContext(ctx)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					cancel()
					t.Fatalf("request %d: %v", i, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				cancel()
				if resp.StatusCode != http.StatusOK || string(b) != "ok" {
					t.Fatalf("request %d: %d %q, want the healthy replica's answer", i, resp.StatusCode, b)
				}
			}
			if bad.Requests() == 0 && f.name != "accept and close" {
				t.Errorf("the misbehaving replica received no request: nothing was tested")
			}
		})
	}
}

// TestUpstreamsLastResponseKept: when the answers of the hosts open every
// breaker, the request ends with the last host's own response, not a fast
// failure.
func TestUpstreamsLastResponseKept(t *testing.T) {
	t.Parallel()
	a := faulttest.Status(t, http.StatusServiceUnavailable, nil, "busy")
	b := faulttest.Status(t, http.StatusServiceUnavailable, nil, "busy")
	var seen attempts
	tr := &Transport{
		Base:      newDialCounter(t),
		Upstreams: []string{a.Addr, b.Addr},
		Retry:     &RetryPolicy{BaseDelay: time.Millisecond},
		Breaker:   &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Minute},
		OnAttempt: seen.add,
	}
	resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://pool.test/", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v, want the last host's 503", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || string(body) != "busy" {
		t.Errorf("got %d %q, want the upstream's 503", resp.StatusCode, body)
	}
	got := seen.list()
	if len(got) != 2 || got[0].Upstream == got[1].Upstream || !got[0].Retry || got[1].Retry {
		t.Errorf("attempts %+v, want one retried at each host", got)
	}
}
