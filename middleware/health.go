package middleware

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// HealthCheck configures the active health checks of
// [Transport.Upstreams]: every Interval, each host gets a GET for Path
// through the Transport's Base; a status below 500 within Timeout passes.
// A host is marked down after UnhealthyThreshold failures in a row and
// comes back after HealthyThreshold passes, ramping up over SlowStart.
type HealthCheck struct {
	Path               string        // the path (and query) checked, such as "/healthz"; empty: "/"; "healthz": "/healthz"
	Scheme             string        // empty: the Transport's first request's (a NewReverseProxy's target's), or "http" before any
	Interval           time.Duration // between the starts of two rounds of checks; zero: 10s
	Timeout            time.Duration // bounds each check; zero: 2s
	HealthyThreshold   int           // passes in a row that bring a host back; zero: 2
	UnhealthyThreshold int           // failures in a row that mark a host down; zero: 3
	SlowStart          time.Duration // a host back grows from a tenth of its share to all of it over it; zero: 10s; negative: off
}

// How checks run, beyond HealthCheck's contract: checks are not counted by
// the breakers, budgets or hooks; any answer below 500 shows the host
// serves (a site without a health endpoint passes with its 404). Hosts
// start up. A host whose breaker opened comes back by the breaker's probes
// too, and its breaker is closed once it passed HealthyThreshold checks
// after it opened. The checks run in one goroutine (one per host during a
// round), from the Transport's first request or StartHealthChecks until
// Close or StartHealthChecks' context ends. A round ends when its slowest
// check does; the next starts at the first Interval mark after that.

func (hc *HealthCheck) path() string {
	if !strings.HasPrefix(hc.Path, "/") {
		// "healthz" would run into the port: every check would fail.
		return "/" + hc.Path
	}
	return hc.Path
}

func (hc *HealthCheck) interval() time.Duration { return positiveOr(hc.Interval, 10*time.Second) }

func (hc *HealthCheck) timeout() time.Duration { return positiveOr(hc.Timeout, 2*time.Second) }

func (hc *HealthCheck) healthy() int { return positiveOr(hc.HealthyThreshold, 2) }

func (hc *HealthCheck) unhealthy() int { return positiveOr(hc.UnhealthyThreshold, 3) }

// slowStart returns the slow start of hosts that come back, 0 for none.
func (t *Transport) slowStart() time.Duration {
	if t.HealthCheck == nil || t.HealthCheck.SlowStart == 0 {
		return defaultSlowStart
	}
	return max(t.HealthCheck.SlowStart, 0)
}

// StartHealthChecks starts the health checks of [Transport.HealthCheck]
// now, rather than at the first request; they stop when ctx ends or at
// [Transport.Close], and the hosts they marked down are then marked up
// again. It does nothing when there is no HealthCheck or no
// Upstreams, when the checks run already, or after Close.
func (t *Transport) StartHealthChecks(ctx context.Context) {
	if t.HealthCheck == nil || len(t.Upstreams) == 0 && t.hostPool() == nil {
		return
	}
	t.startHealth(ctx, "")
}

// Close stops the Transport's health checks, if they run, and waits for
// them to end; they do not start again. The Transport still sends requests,
// to the hosts the checks had marked down too (its breakers alone eject
// hosts then), and is not otherwise changed. It always returns nil.
func (t *Transport) Close() error {
	t.health.stop()
	return nil
}

// Private implementation past this point.

// healthChecker runs a Transport's health checks.
type healthChecker struct {
	running atomic.Bool // started, whether since stopped or not

	mu     sync.Mutex
	closed bool
	scheme string
	cancel context.CancelFunc
	done   chan struct{}
}

// startHealth starts the checks, once, under ctx; scheme is the scheme of
// the requests, unless HealthCheck.Scheme says otherwise.
func (t *Transport) startHealth(ctx context.Context, scheme string) {
	h := &t.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.running.Load() {
		return
	}
	h.running.Store(true)
	if h.scheme == "" {
		h.scheme = scheme
	}
	if t.HealthCheck.Scheme != "" {
		h.scheme = t.HealthCheck.Scheme
	}
	if h.scheme == "" {
		h.scheme = "http"
	}
	ctx, h.cancel = context.WithCancel(ctx)
	h.done = make(chan struct{})
	go t.checkLoop(ctx, h.done)
}

// stop ends the checks and waits for them; they do not start again.
func (h *healthChecker) stop() {
	h.mu.Lock()
	h.closed = true
	h.running.Store(true)
	cancel, done := h.cancel, h.done
	h.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (t *Transport) checkLoop(ctx context.Context, done chan struct{}) {
	defer close(done)
	// Once the checks stop, nothing would bring back a host they marked
	// down: the breakers alone eject hosts then, as without a HealthCheck.
	defer t.clearDown()
	hc := t.HealthCheck
	tick := time.NewTicker(hc.interval())
	defer tick.Stop()
	for {
		t.checkRound(ctx, hc)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// clearDown forgets which hosts of the pool the checks marked down.
func (t *Transport) clearDown() {
	if p := t.pool.Load(); p != nil {
		for _, u := range p.hosts {
			u.down.Store(false)
			u.passes.Store(0)
		}
	}
}

// checkRound checks every host of the pool at once and waits for the
// checks.
func (t *Transport) checkRound(ctx context.Context, hc *HealthCheck) {
	p := t.hostPool()
	if p == nil || ctx.Err() != nil {
		return
	}
	var wg sync.WaitGroup
	for _, u := range p.hosts {
		wg.Go(func() { t.checkHost(ctx, hc, u) })
	}
	wg.Wait()
}

// checkHost checks u once and updates its health.
func (t *Transport) checkHost(ctx context.Context, hc *HealthCheck, u *upstream) {
	now := t.clock()
	u.checked.Store(now.UnixNano())
	ok := t.probeHost(ctx, hc, u.host)
	if ctx.Err() != nil {
		return
	}
	if ok {
		u.fails = 0
		n := u.passes.Add(1)
		if u.down.Load() && int(n) >= hc.healthy() {
			u.cameBack(t.clock())
			u.down.Store(false)
			t.logHealth(slog.LevelInfo, "gatehouse: upstream healthy again", u.host)
		}
		// As Envoy does by default, a host that passes HealthyThreshold
		// checks after its breaker opened is no longer ejected by it
		// either.
		if u.breaker.currentState(now) == BreakerClosed {
			u.openPasses = 0
		} else if u.openPasses++; u.openPasses >= hc.healthy() {
			u.openPasses = 0
			if from := u.breaker.closeNow(); from != BreakerClosed {
				u.cameBack(t.clock())
				t.reportChanges(u, u.host)
			}
		}
		return
	}
	u.openPasses = 0
	u.passes.Store(0)
	u.fails++
	if !u.down.Load() && u.fails >= hc.unhealthy() {
		u.down.Store(true)
		t.logHealth(slog.LevelWarn, "gatehouse: upstream marked down by health check", u.host)
	}
}

// probeHost sends one check to host and reports whether it passed.
func (t *Transport) probeHost(ctx context.Context, hc *HealthCheck, host string) bool {
	ctx, cancel := context.WithTimeout(ctx, hc.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.health.scheme+"://"+host+hc.path(), nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", "gatehouse-health-check")
	resp, err := t.base().RoundTrip(req)
	if err != nil {
		return false
	}
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
	return resp.StatusCode < 500
}

func (t *Transport) logHealth(level slog.Level, msg, host string) {
	if t.Logger != nil {
		t.Logger.LogAttrs(context.Background(), level, msg, slog.String(keyUpstream, host))
	}
}

// untilHealthy estimates the time until u, marked down, may pass enough
// checks to come back.
func untilHealthy(hc *HealthCheck, u *upstream, now time.Time) time.Duration {
	if hc == nil {
		return 0
	}
	iv := hc.interval()
	next := time.Unix(0, u.checked.Load()).Add(iv).Sub(now)
	if next < 0 {
		next = 0
	}
	left := max(hc.healthy()-int(u.passes.Load()), 1)
	return next + time.Duration(left-1)*iv
}
