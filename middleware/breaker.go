package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// BreakerPolicy configures circuit breaking in a [Transport]: one breaker per
// upstream host opens when the upstream keeps failing, fails requests fast
// with destination_unavailable ([ErrCircuitOpen], 503, Retry-After) while
// open, and closes when a probe succeeds after OpenFor. A failure is an
// error other than a client's cancellation, a 502, 503 or 504, or a body
// that fails; any other response is a success once its body ends.
type BreakerPolicy struct {
	ConsecutiveFailures int // failures in a row that open the breaker; zero: 5; negative: never
	// FailureRatio, between 0 and 1, opens the breaker when the share of
	// failures over Window reaches it, once MinRequests outcomes were seen.
	// Zero turns this trigger off.
	FailureRatio float64
	MinRequests  int           // outcomes over Window below which FailureRatio is not applied; zero: 20
	Window       time.Duration // FailureRatio's sliding window; zero: 10s
	OpenFor      time.Duration // how long an open breaker fails fast before probes; zero: 5s
	Probes       int           // requests a half-open breaker lets through at once; zero: 1
}

// How breakers count, beyond BreakerPolicy's contract: a response whose
// body then fails counts once, as a failure (a success is counted when the
// body ends, but a half-open probe's at its headers); each attempt of a retried request is
// an outcome of its own; a request the gateway refused to send counts for
// nothing. A client's cancellation says nothing about the upstream, but a
// deadline of the request's own context passing before the upstream
// answers is a timeout like any other: requests should carry deadlines
// meant for the upstream. When a request's own attempts open the breaker,
// it ends with its last attempt's failure or response; only requests
// arriving while open fail fast, with zero attempts. A 404 or 500 is a
// success: the upstream answered.

func (p *BreakerPolicy) consecutive() int {
	if p.ConsecutiveFailures == 0 {
		return 5
	}
	return p.ConsecutiveFailures
}

func (p *BreakerPolicy) minRequests() int { return positiveOr(p.MinRequests, 20) }

func (p *BreakerPolicy) window() time.Duration { return positiveOr(p.Window, 10*time.Second) }

func (p *BreakerPolicy) openFor() time.Duration { return positiveOr(p.OpenFor, 5*time.Second) }

func (p *BreakerPolicy) probes() int { return positiveOr(p.Probes, 1) }

// BreakerState is the state of one upstream's circuit breaker. The zero
// BreakerState is [BreakerClosed].
type BreakerState uint8

// The states of a circuit breaker.
const (
	BreakerClosed   BreakerState = iota // requests flow; outcomes are counted
	BreakerHalfOpen                     // a few probe requests are let through
	BreakerOpen                         // requests fail fast
)

// String returns "closed", "half-open" or "open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half-open"
	case BreakerOpen:
		return "open"
	}
	return "BreakerState(" + strconv.Itoa(int(s)) + ")"
}

// outcome is what a round trip tells a breaker.
type outcome uint8

const (
	outcomeIgnored outcome = iota // says nothing about the upstream
	outcomeSuccess
	outcomeFailure
)

// numBuckets is the number of buckets of a slidingCounter.
const numBuckets = 10

// slidingCounter counts two quantities over a sliding window, kept as a ring
// of numBuckets buckets, each covering a tenth of the window. The zero value
// is not usable: width must be set. It is not safe for concurrent use.
type slidingCounter struct {
	width   time.Duration
	buckets [numBuckets]struct {
		epoch int64
		a, b  int
	}
}

func newSlidingCounter(window time.Duration) slidingCounter {
	w := window / numBuckets
	if w <= 0 {
		w = 1
	}
	return slidingCounter{width: w}
}

func (c *slidingCounter) add(now time.Time, a, b int) {
	e := now.UnixNano() / int64(c.width)
	bk := &c.buckets[e%numBuckets]
	if bk.epoch != e {
		bk.epoch, bk.a, bk.b = e, 0, 0
	}
	bk.a += a
	bk.b += b
}

func (c *slidingCounter) sum(now time.Time) (a, b int) {
	e := now.UnixNano() / int64(c.width)
	for i := range c.buckets {
		bk := &c.buckets[i]
		if bk.epoch > e-numBuckets && bk.epoch <= e {
			a += bk.a
			b += bk.b
		}
	}
	return a, b
}

// breaker is one upstream's circuit breaker.
type breaker struct {
	mu          sync.Mutex
	state       BreakerState
	failures    int       // consecutive failures while closed
	until       time.Time // while open: when probes may start
	probes      int       // probes of the current half-open period in flight
	period      uint64    // numbers the half-open periods, from 1
	window      slidingCounter
	initialized bool

	// pending holds the state changes not yet reported, in the order they
	// happened, recorded under mu with the change itself; reporting is set
	// while a goroutine reports them (see Transport.reportChanges), so
	// that they are reported one at a time, in that order.
	pending   []stateChange
	reporting bool
}

// stateChange is a change of a breaker's state, to report.
type stateChange struct{ from, to BreakerState }

// maxPendingChanges bounds the state changes waiting to be reported: only
// an OnStateChange that blocks, against its contract, lets them pile up,
// and those beyond it are dropped.
const maxPendingChanges = 256

// changed records a change of state from from to b.state, if any, for
// reporting, and reports whether there was one. b.mu is held.
func (b *breaker) changed(from BreakerState) bool {
	if from == b.state {
		return false
	}
	if len(b.pending) < maxPendingChanges {
		b.pending = append(b.pending, stateChange{from, b.state})
	}
	return true
}

// nextChanges starts or continues reporting: it returns the changes to
// report now, in order, and ok; or, when another goroutine is reporting
// (first is true and reporting was already set) or none are left, ends this
// goroutine's turn and returns false.
func (b *breaker) nextChanges(first bool) (changes []stateChange, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if first {
		if b.reporting {
			return nil, false // that goroutine reports ours too
		}
		b.reporting = true
	}
	if len(b.pending) == 0 {
		b.reporting = false
		return nil, false
	}
	changes, b.pending = b.pending, nil
	return changes, true
}

// stopReporting ends a turn that ended early (OnStateChange panicked): the
// changes left are reported by the next goroutine that records one.
func (b *breaker) stopReporting() {
	b.mu.Lock()
	b.reporting = false
	b.mu.Unlock()
}

// allow reports whether a request may go to the upstream. When it may not,
// wait is the time left before the breaker lets probes through. A request
// let through as a half-open probe gets the number of its half-open period
// in probe (0 for any other request), which done must then be given.
// changed reports an open breaker turning half-open, a change recorded for
// reporting.
func (b *breaker) allow(p *BreakerPolicy, now time.Time) (ok bool, probe uint64, wait time.Duration, changed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true, 0, 0, false
	case BreakerOpen:
		if now.Before(b.until) {
			return false, 0, b.until.Sub(now), false
		}
		b.state, b.probes = BreakerHalfOpen, 0
		b.period++
		changed = b.changed(BreakerOpen)
	}
	if b.probes >= p.probes() {
		// The probes in flight decide; fail fast meanwhile, asking for a
		// short wait since the verdict is near.
		return false, 0, time.Second, changed
	}
	b.probes++
	return true, b.period, 0, changed
}

// admits reports whether allow would let a request through now, without
// changing the breaker's state.
func (b *breaker) admits(p *BreakerPolicy, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true
	case BreakerOpen:
		// Once its time is up, allow turns it half-open with no probe
		// in flight.
		return !now.Before(b.until)
	}
	return b.probes < p.probes()
}

// done records the outcome of a request that allow let through, given the
// probe number allow returned, and returns the breaker's state before and
// after; a change is recorded for reporting. Only a probe of the current half-open period frees a probe slot
// and decides the period; one of an earlier period (which reopened the
// breaker, or timed out meanwhile) counts as any other request.
func (b *breaker) done(p *BreakerPolicy, now time.Time, probe uint64, o outcome) (from, to BreakerState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	from = b.state
	current := probe != 0 && probe == b.period && b.state == BreakerHalfOpen
	if current {
		b.probes--
	}
	if o == outcomeIgnored {
		return from, b.state
	}
	if !b.initialized {
		b.window, b.initialized = newSlidingCounter(p.window()), true
	}
	fail := 0
	if o == outcomeFailure {
		fail = 1
	}
	b.window.add(now, 1, fail)
	switch b.state {
	case BreakerHalfOpen:
		if !current {
			break
		}
		if o == outcomeSuccess {
			b.reset()
		} else {
			b.open(p, now)
		}
	case BreakerClosed:
		if o == outcomeSuccess {
			b.failures = 0
			break
		}
		b.failures++
		if n := p.consecutive(); n > 0 && b.failures >= n {
			b.open(p, now)
			break
		}
		if p.FailureRatio > 0 {
			total, failed := b.window.sum(now)
			if total >= p.minRequests() && float64(failed) >= p.FailureRatio*float64(total) {
				b.open(p, now)
			}
		}
	case BreakerOpen:
		// An answer to a request let through before the breaker opened
		// changes nothing.
	}
	b.changed(from)
	return from, b.state
}

func (b *breaker) open(p *BreakerPolicy, now time.Time) {
	b.state, b.until, b.failures, b.probes = BreakerOpen, now.Add(p.openFor()), 0, 0
}

func (b *breaker) reset() {
	b.state, b.failures, b.probes = BreakerClosed, 0, 0
	b.window = newSlidingCounter(b.window.width * numBuckets)
}

// currentState returns the breaker's state as a request arriving at now
// would find it: an open breaker whose time is up reads as half-open.
func (b *breaker) currentState(now time.Time) BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen && !now.Before(b.until) {
		return BreakerHalfOpen
	}
	return b.state
}

// breakerDone records an outcome in u's breaker and reports a state change.
func (t *Transport) breakerDone(bp *BreakerPolicy, u *upstream, host string, probe uint64, o outcome) {
	now := t.clock()
	if from, to := u.breaker.done(bp, now, probe, o); from != to {
		if to == BreakerClosed {
			u.cameBack(now)
		}
		t.reportChanges(u, host)
	}
}

// reportChanges reports the state changes of u's breaker that are waiting,
// after this goroutine recorded one. Changes are recorded under the
// breaker's lock, in the order they happen, but reported outside it, to
// hooks that may take their time: one goroutine at a time reports them, in
// that order, the others leaving theirs to it, so that OnStateChange and
// the log never see a half-open before the open that preceded it.
func (t *Transport) reportChanges(u *upstream, host string) {
	done := false
	defer func() {
		if !done {
			u.breaker.stopReporting()
		}
	}()
	for first := true; ; first = false {
		changes, ok := u.breaker.nextChanges(first)
		if !ok {
			done = true
			return
		}
		for _, c := range changes {
			t.stateChanged(host, c.from, c.to)
		}
	}
}

func (t *Transport) stateChanged(host string, from, to BreakerState) {
	if t.OnStateChange != nil {
		t.OnStateChange(host, from, to)
	}
	if t.Logger != nil && from != to { // a new breaker is no change to log
		level := slog.LevelInfo
		if to == BreakerOpen {
			level = slog.LevelWarn
		}
		t.Logger.LogAttrs(context.Background(), level, "gatehouse: circuit breaker "+to.String(),
			slog.String(keyUpstream, host), slog.String(keyFrom, from.String()), slog.String(keyTo, to.String()))
	}
}

// responseOutcome tells a breaker what an attempt says about the upstream.
func responseOutcome(resp *http.Response, e *gatewayerr.Error) outcome {
	if e != nil {
		switch e.Kind {
		case gatewayerr.ClientClosedRequest, gatewayerr.HTTPRequestError, gatewayerr.HTTPRequestDenied,
			gatewayerr.ProxyLoopDetected, gatewayerr.ProxyConfigurationError, gatewayerr.HTTPResponseBodySize,
			gatewayerr.DestinationUnavailable:
			return outcomeIgnored
		}
		return outcomeFailure
	}
	if gatewayerr.IsGatewayStatus(resp.StatusCode) {
		return outcomeFailure
	}
	return outcomeSuccess
}
