package middleware

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http/httputil"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// ErrNoUpstream is the cause of the destination_unavailable error, with an
// empty Upstream, that a [Transport] with several [Transport.Upstreams]
// returns without dialling when every one of them is ejected.
var ErrNoUpstream = errors.New("middleware: no upstream available")

// ErrNoUpstream's Upstream is empty because no host was dialled, and the
// request URL's host is not one of the pool's. Ejected: its breaker open,
// marked down by the health check, or ejected by OutlierPolicy.

// defaultSlowStart is the time over which a host that comes back (its
// breaker closed again, or its health check passing again) grows from a
// tenth of its share of new requests to all of it, when
// HealthCheck.SlowStart does not say otherwise.
const defaultSlowStart = 10 * time.Second

// SetUpstreams replaces [Transport.Upstreams] for the requests that start
// afterwards; hosts that stay keep their state. It changes nothing and
// returns an error when an entry is not a host:port or appears twice.
func (t *Transport) SetUpstreams(hosts []string) error {
	if err := checkUpstreams(hosts); err != nil {
		return err
	}
	t.mu.Lock()
	created := t.setPoolLocked(hosts)
	t.mu.Unlock()
	t.reportMade(created)
	return nil
}

// UpstreamHosts returns the hosts in use: the set last given to
// [Transport.SetUpstreams], or else [Transport.Upstreams]; nil when each
// request goes to its own host.
func (t *Transport) UpstreamHosts() []string {
	p := t.hostPool()
	if p == nil {
		return nil
	}
	hosts := make([]string, len(p.hosts))
	for i, u := range p.hosts {
		hosts[i] = u.host
	}
	return hosts
}

// ProxyTransport returns the [Transport] of a ReverseProxy that
// [NewReverseProxy] made, to change its upstreams ([Transport.SetUpstreams]),
// read its breakers ([Transport.BreakerState]) or stop its health checks
// ([Transport.Close]); nil for any other ReverseProxy or a Transport
// replaced since.
func ProxyTransport(rp *httputil.ReverseProxy) *Transport {
	if rp == nil {
		return nil
	}
	rt := rp.Transport
	if mt, ok := rt.(*maintenanceTransport); ok {
		rt = mt.next // with Options.Maintenance
	}
	if t, ok := rt.(*Transport); ok && t.mode != nil {
		return t
	}
	return nil
}

// Private implementation past this point.

// pool is a set of upstream hosts, immutable once made: SetUpstreams
// replaces it whole.
type pool struct {
	hosts []*upstream
	// cum holds the cumulative weights, when they are not all equal, for
	// drawing a host in proportion to its weight; total is their sum.
	cum   []int
	total int
	// breaker is the policy of the per-host breakers when
	// Transport.Breaker is nil and there are several hosts.
	breaker *BreakerPolicy
	// outlier is the ejection policy when Transport.Outlier is nil and
	// there are several hosts.
	outlier *OutlierPolicy
	// err is a configuration error in Transport.Upstreams, reported by
	// every request.
	err error
}

// maxUpstreamWeight caps a host's weight, so that the sum of the weights
// of a pool cannot overflow.
const maxUpstreamWeight = 1_000_000

// checkUpstreams reports the first entry of hosts that is not a host:port
// with a non-empty host and a numeric port, or that appears twice.
func checkUpstreams(hosts []string) error {
	for i, h := range hosts {
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			return fmt.Errorf("middleware: upstream %q is not a host:port: %w", h, err)
		}
		if host == "" {
			return fmt.Errorf("middleware: upstream %q has no host", h)
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("middleware: upstream %q has no valid port", h)
		}
		if slices.Contains(hosts[:i], h) {
			return fmt.Errorf("middleware: upstream %q listed twice", h)
		}
	}
	return nil
}

// hostPool returns the upstream hosts, or nil when each request goes to
// its own URL's host.
func (t *Transport) hostPool() *pool {
	if p := t.pool.Load(); p != nil {
		if len(p.hosts) == 0 && p.err == nil {
			return nil
		}
		return p
	}
	if len(t.Upstreams) == 0 {
		return nil
	}
	var created []*upstream
	t.mu.Lock()
	if t.pool.Load() == nil {
		if err := checkUpstreams(t.Upstreams); err != nil {
			t.pool.Store(&pool{err: err})
		} else {
			created = t.setPoolLocked(t.Upstreams)
		}
	}
	t.mu.Unlock()
	t.reportMade(created)
	return t.hostPool()
}

// setPoolLocked makes the pool of hosts, keeping the state of the hosts of
// the previous pool that stay, and returns the hosts whose breaker it made
// and is to report closed (see reportMade). t.mu is held.
func (t *Transport) setPoolLocked(hosts []string) (made []*upstream) {
	p := &pool{hosts: make([]*upstream, len(hosts))}
	if t.upstreams == nil {
		t.upstreams = make(map[string]*upstream)
	}
	report := t.OnStateChange != nil && (t.Breaker != nil || len(hosts) > 1)
	weighted := false
	for i, h := range hosts {
		u := t.upstreams[h]
		if u == nil {
			u = new(upstream)
			t.upstreams[h] = u
			if report {
				// As Transport.upstream does: the new breaker is
				// closed, said first in its queue of changes.
				u.breaker.pending = append(u.breaker.pending, stateChange{BreakerClosed, BreakerClosed})
				made = append(made, u)
			}
		}
		if u.host == "" {
			// Only a request's own host had state until now.
			u.host = h
		}
		w := min(max(t.UpstreamWeights[h], 1), maxUpstreamWeight)
		u.weight.Store(int64(w))
		weighted = weighted || w != 1
		p.hosts[i] = u
	}
	if weighted {
		p.cum = make([]int, len(hosts))
		for i, u := range p.hosts {
			p.total += int(u.weight.Load())
			p.cum[i] = p.total
		}
	}
	if len(hosts) > 1 {
		p.breaker = &BreakerPolicy{}
		p.outlier = &OutlierPolicy{}
	}
	if old := t.pool.Load(); old != nil {
		for _, u := range old.hosts {
			if !slices.Contains(hosts, u.host) {
				delete(t.upstreams, u.host)
			}
		}
	}
	t.pool.Store(p)
	return made
}

// reportMade reports the breakers of the hosts setPoolLocked made closed,
// once t.mu is released.
func (t *Transport) reportMade(made []*upstream) {
	for _, u := range made {
		t.reportChanges(u, u.host)
	}
}

// breakerPolicy returns the policy of the breakers for requests through
// the pool p (nil for none): Transport.Breaker, else with several hosts the
// zero BreakerPolicy's.
func (t *Transport) breakerPolicy(p *pool) *BreakerPolicy {
	if t.Breaker != nil || p == nil {
		return t.Breaker
	}
	return p.breaker
}

// pick chooses the host of the next attempt: of two hosts drawn at random
// (in proportion to their weights), the one with fewer requests in flight
// for its weight, among the hosts that are not ejected and not in avoid.
// When only hosts ejected for their server errors are left, they take the
// request: an ejection steers requests to other hosts, it never leaves a
// request without one. It returns -1 when there is none.
func (p *pool) pick(bp *BreakerPolicy, slowStart time.Duration, now time.Time, avoid []int) int {
	ejected := false
	a, fa := p.next(p.draw(), bp, now, avoid, ejected)
	if a < 0 {
		ejected = true
		if a, fa = p.next(p.draw(), bp, now, avoid, ejected); a < 0 {
			return -1
		}
	}
	b, fb := p.next(p.draw(), bp, now, avoid, ejected)
	if b == a {
		b, fb = p.next(a+1, bp, now, avoid, ejected)
	}
	if b < 0 || b == a {
		return a
	}
	ua, ub := p.hosts[a], p.hosts[b]
	// Compare (in flight + 1) × (1 + failures in a row) / weight; the
	// failures keep a host that fails fast, and so has nothing in flight,
	// from drawing requests before its breaker opens.
	ca := float64(ua.inflight.Load()+1) * float64(1+fa) * float64(ub.weight.Load())
	cb := float64(ub.inflight.Load()+1) * float64(1+fb) * float64(ua.weight.Load())
	win, lose := a, b
	if cb < ca {
		win, lose = b, a
	}
	// A host in slow start takes the request it won only with the share
	// it has grown to so far.
	if f := p.hosts[win].slowFactor(slowStart, now); f < 1 && rand.Float64() >= f {
		return lose
	}
	return win
}

// draw returns a random host index, in proportion to the weights.
func (p *pool) draw() int {
	if p.cum == nil {
		return rand.IntN(len(p.hosts))
	}
	r := rand.IntN(p.total)
	i, _ := slices.BinarySearch(p.cum, r+1)
	return i
}

// next returns the first host from index start on (wrapping around) that
// may take a request, or -1, and the failures in a row of its breaker.
// With ejected, a host ejected for its server errors may take it too.
func (p *pool) next(start int, bp *BreakerPolicy, now time.Time, avoid []int, ejected bool) (int, int) {
	n := len(p.hosts)
	for k := range n {
		i := (start + k) % n
		if slices.Contains(avoid, i) {
			continue
		}
		u := p.hosts[i]
		if u.down.Load() || !ejected && u.ejected(now) {
			continue
		}
		if bp == nil {
			return i, 0
		}
		if ok, streak := u.breaker.admitsStreak(bp, now); ok {
			return i, streak
		}
	}
	return -1, 0
}

// wait returns the time until the first of the pool's hosts may be tried
// again: the soonest end of an open breaker, or of the health checks a host
// marked down still needs to pass.
func (p *pool) wait(bp *BreakerPolicy, hc *HealthCheck, now time.Time) time.Duration {
	best := time.Duration(-1)
	for _, u := range p.hosts {
		var d time.Duration
		if u.down.Load() {
			d = untilHealthy(hc, u, now)
		}
		if bp != nil {
			d = max(d, u.breaker.openWait(now))
		}
		d = max(d, u.ejectedWait(now))
		if best < 0 || d < best {
			best = d
		}
	}
	return max(best, time.Second)
}

// closeNow closes the breaker, whatever its state, and returns the state
// it had; a change is recorded for reporting.
func (b *breaker) closeNow() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	from := b.state
	if from != BreakerClosed {
		b.reset()
		b.changed(from)
	}
	return from
}

// admitsStreak is admits, and returns the number of failures in a row of
// a closed breaker too, under one lock.
func (b *breaker) admitsStreak(p *BreakerPolicy, now time.Time) (bool, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true, b.failures
	case BreakerOpen:
		return !now.Before(b.until), 0
	}
	return b.probes < p.probes(), 0
}

// openWait returns the time left before an open breaker lets probes
// through, or 0.
func (b *breaker) openWait(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen && now.Before(b.until) {
		return b.until.Sub(now)
	}
	return 0
}

// slowFactor returns the share of the requests it wins that u takes: 1,
// or while u is in slow start, from a tenth when it came back growing to
// all of them after slowStart.
func (u *upstream) slowFactor(slowStart time.Duration, now time.Time) float64 {
	since := u.since.Load()
	if since == 0 {
		return 1
	}
	elapsed := now.Sub(time.Unix(0, since))
	if slowStart <= 0 || elapsed >= slowStart || elapsed < 0 {
		u.since.CompareAndSwap(since, 0)
		return 1
	}
	return max(0.1, float64(elapsed)/float64(slowStart))
}

// cameBack starts u's slow start.
func (u *upstream) cameBack(now time.Time) { u.since.Store(now.UnixNano()) }

// upstreamState holds, in an upstream, what the balancer and the health
// checks keep about a host of the pool.
type upstreamState struct {
	host     string       // set once, when the host first joins a pool
	weight   atomic.Int64 // the weight of the latest pool
	inflight atomic.Int64 // attempts whose response is not yet done
	since    atomic.Int64 // when the host came back (UnixNano), for slow start; 0: not in slow start
	down     atomic.Bool  // marked down by the health check

	passes  atomic.Int32 // health checks passed in a row
	checked atomic.Int64 // the last health check's start (UnixNano)
	fails   int          // health checks failed in a row, owned by the checks
	// openPasses counts the checks passed since the breaker opened, owned
	// by the checks.
	openPasses int

	outlierState
}
