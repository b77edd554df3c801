package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// OutlierPolicy configures the ejection of [Transport.Upstreams]' hosts
// that answer Consecutive5xx server errors in a row that the breakers do
// not count: such a host takes no new request for BaseEjection times the
// number of its ejections, up to MaxEjection. No ejection puts more than
// MaxEjectedPercent of the hosts out, or leaves no host in rotation; when
// every host in rotation is out, the ejected ones take requests again.
type OutlierPolicy struct {
	// Consecutive5xx is the count of 5xx responses in a row, other than
	// 502, 503 and 504, that ejects a host; any other response but a
	// breaker's failure ends the streak. Zero: 5; negative: never.
	Consecutive5xx int
	// BaseEjection is the first ejection's time; the nth lasts n times
	// as long, and each BaseEjection in rotation takes one off n. Zero: 30s.
	BaseEjection      time.Duration
	MaxEjection       time.Duration // caps an ejection; zero: 5m; below BaseEjection: BaseEjection
	MaxEjectedPercent int           // of the hosts, rounded down; zero: 50; above 100: 100
}

// Why OutlierPolicy is shaped so: it does what Envoy's outlier detection
// does with consecutive 5xx. 502, 503 and 504 are failures the breakers
// count ([BreakerPolicy]), so the streak skips them rather than count
// them twice. In rotation means not ejected, not marked down by the
// health check, and with a breaker that lets requests through; the caps
// keep an application bug that makes every host answer 500 from ejecting
// them all.
//
// How ejection works, beyond OutlierPolicy's contract: a response is
// judged by its status when its headers arrive, so an attempt in flight
// on a host when it is ejected ends there. The request whose response
// ejects a host gets that response: a 500 is retried on another host only
// when [RetryPolicy.Statuses] lists it (and the request may be replayed).
// A host back from ejection ramps up as a host back from an open breaker
// does (HealthCheck.SlowStart), and is ejected again, for longer, by
// Consecutive5xx more errors in a row. Health checks do not end an
// ejection. Each ejection is logged at warn level with the host, its
// ejection time and count; the 5xx responses themselves reach OnAttempt
// like any other.

func (p *OutlierPolicy) consecutive() int {
	if p.Consecutive5xx == 0 {
		return 5
	}
	return p.Consecutive5xx
}

func (p *OutlierPolicy) baseEjection() time.Duration {
	return positiveOr(p.BaseEjection, 30*time.Second)
}

func (p *OutlierPolicy) maxEjection() time.Duration {
	return max(positiveOr(p.MaxEjection, 5*time.Minute), p.baseEjection())
}

func (p *OutlierPolicy) maxEjectedPercent() int { return min(positiveOr(p.MaxEjectedPercent, 50), 100) }

// Private implementation past this point.

// outlierPolicy returns the ejection policy of the pool p, or nil for none:
// Transport.Outlier, else with several hosts the zero OutlierPolicy's.
func (t *Transport) outlierPolicy(p *pool) *OutlierPolicy {
	if p == nil {
		return nil
	}
	op := t.Outlier
	if op == nil {
		op = p.outlier
	}
	if op == nil || op.consecutive() < 0 {
		return nil
	}
	return op
}

// outlierDone counts the outcome of an attempt sent to u, a host of the
// pool p, that got resp (nil when it failed), and ejects u when its streak
// of server errors reaches the policy's.
func (t *Transport) outlierDone(p *pool, u *upstream, resp *http.Response) {
	if resp == nil {
		return // a failure: the breaker's
	}
	switch s := resp.StatusCode; {
	case s < 500 || s > 599:
		if u.streak.Load() != 0 {
			u.streak.Store(0)
		}
		return
	case s == http.StatusBadGateway || s == http.StatusServiceUnavailable || s == http.StatusGatewayTimeout:
		return // a failure: the breaker's
	}
	op := t.outlierPolicy(p)
	if op == nil || int(u.streak.Add(1)) < op.consecutive() {
		return
	}
	t.eject(p, op, u)
}

// eject takes u out of rotation, unless the policy's cap or the last host
// in rotation keeps it in.
func (t *Transport) eject(p *pool, op *OutlierPolicy, u *upstream) {
	now := t.clock()
	t.mu.Lock()
	if u.ejectedUntil.Load() > now.UnixNano() {
		t.mu.Unlock()
		return // ejected meanwhile, by another request's response
	}
	bp := t.breakerPolicy(p)
	ejected, others := 0, 0
	for _, h := range p.hosts {
		switch {
		case h.ejectedUntil.Load() > now.UnixNano():
			ejected++
		case h != u && !h.down.Load() && (bp == nil || h.breaker.admits(bp, now)):
			others++
		}
	}
	if others == 0 || (ejected+1)*100 > op.maxEjectedPercent()*len(p.hosts) {
		t.mu.Unlock()
		return // the streak goes on, and the next error tries again
	}
	base := op.baseEjection()
	n := u.ejections
	if u.ejectedEnd != 0 {
		// One ejection forgiven for each base time back in rotation.
		back := now.Sub(time.Unix(0, u.ejectedEnd))
		n = max(n-int(back/base), 0)
	}
	// Past the count whose ejection reaches the cap, counting on would
	// only make the host wait longer to be forgiven.
	d := op.maxEjection()
	n = min(n+1, int(d/base)+1)
	if e := time.Duration(n) * base; e < d {
		d = e
	}
	u.ejections = n
	u.ejectedEnd = now.Add(d).UnixNano()
	u.ejectedUntil.Store(u.ejectedEnd)
	u.streak.Store(0)
	t.mu.Unlock()
	if t.Logger != nil {
		t.Logger.LogAttrs(context.Background(), slog.LevelWarn, "gatehouse: upstream ejected",
			slog.String(keyUpstream, u.host), slog.Duration(keyEjectedFor, d), slog.Int(keyEjections, n))
	}
}

// ejected reports whether u is ejected at now; the first call after an
// ejection ended starts u's slow start.
func (u *upstream) ejected(now time.Time) bool {
	until := u.ejectedUntil.Load()
	if until == 0 {
		return false
	}
	if now.UnixNano() < until {
		return true
	}
	if u.ejectedUntil.CompareAndSwap(until, 0) {
		u.cameBack(now)
	}
	return false
}

// ejectedWait returns the time left of u's ejection, or 0.
func (u *upstream) ejectedWait(now time.Time) time.Duration {
	if until := u.ejectedUntil.Load(); until > now.UnixNano() {
		return time.Unix(0, until).Sub(now)
	}
	return 0
}

// outlierState holds, in an upstream, what the ejection of hosts that
// answer with server errors keeps about a host.
type outlierState struct {
	streak       atomic.Int32 // server errors in a row
	ejectedUntil atomic.Int64 // the end of the current ejection (UnixNano); 0: none
	ejections    int          // the count of the last ejection, under Transport.mu
	ejectedEnd   int64        // the end of the last ejection (UnixNano), under Transport.mu
}
