package middleware

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// ErrCircuitOpen is the cause of the destination_unavailable error that a
// [Transport] returns, without trying, while an upstream's circuit breaker is
// open.
var ErrCircuitOpen = errors.New("middleware: circuit breaker open")

// Transport is an [http.RoundTripper] that classifies every upstream failure
// and, when configured to, retries safely, breaks circuits and balances
// among several upstreams.
//
// It does not modify the request and always closes its body; a response of
// any status is a response, except a status below 100 (then
// [gatewayerr.HTTPProtocolError]). Every error from RoundTrip and from a
// response body's Read is a [*gatewayerr.Error] with the upstream, the
// [gatewayerr.Phase] and the attempts; a cancelled request fails with
// [gatewayerr.ClientClosedRequest].
//
// The zero Transport classifies, and neither retries, breaks circuits nor
// logs. A Transport must not be copied after first use; it is safe for
// concurrent use.
type Transport struct {
	// Base sends each attempt.
	// If nil, or a nil *http.Transport, an [*http.Transport] of this
	// Transport's own, made on first use for a gateway: proxies from the
	// environment, 10 s to connect and for the TLS handshake, 60 s for the
	// response header (http_response_timeout after it), 59 to 60 s for
	// each write (connection_write_timeout), 128 idle connections per host
	// (1024 in all) kept 30 s, response headers up to 1 MB, no compression
	// of its own, HTTP/2 over TLS. [NewGatewayTransport] returns one to
	// adjust.
	Base    http.RoundTripper
	Retry   *RetryPolicy   // nil: no retries
	Breaker *BreakerPolicy // nil: no circuit breakers
	// MaxResponseBodyBytes limits a response body; beyond it the response
	// or its Read fails with http_response_body_size. Zero means no limit.
	MaxResponseBodyBytes int64
	// ResponseBodyReadTimeout bounds each wait of a response body's Read
	// (not the whole body, nor a 101's connection); past it the body is
	// closed and Read fails with connection_read_timeout. Zero: no limit.
	ResponseBodyReadTimeout time.Duration
	// Logger receives a record per failure (error level for the gateway's
	// configuration, debug for a client's cancellation and each retry,
	// warn otherwise) and per breaker state change. Nil: no logs.
	Logger *slog.Logger
	// OnError, OnAttempt and OnStateChange, if not nil, are called with
	// every failure that RoundTrip or a response body returns; with every
	// attempt's outcome; with each breaker state change, in order, one at
	// a time (over 256 waiting are dropped), and once from BreakerClosed to
	// BreakerClosed when a breaker is made. They must not block.
	OnError       func(r *http.Request, err *gatewayerr.Error)
	OnAttempt     func(Attempt)
	OnStateChange func(upstream string, from, to BreakerState)
	// Upstreams lists host:port replicas to balance attempts among, by
	// requests in flight, with each request URL's scheme, path and query.
	// With several, a retry goes to an untried host, an attempt that never
	// reached its host moves to another, breakers and Outlier are on even
	// when nil, and with every host ejected RoundTrip fails with
	// [ErrNoUpstream]. A malformed entry fails every request with
	// proxy_configuration_error. Read at the first request (see
	// [Transport.SetUpstreams]). If empty, each request goes to its URL's host.
	Upstreams       []string
	UpstreamWeights map[string]int // relative weights of Upstreams' hosts; missing or below 1: 1; above 1,000,000: 1,000,000
	Outlier         *OutlierPolicy // ejects hosts for 5xx the breakers do not count; nil: with several Upstreams, the zero OutlierPolicy
	HealthCheck     *HealthCheck   // checks Upstreams' hosts from the first request until [Transport.Close]; nil: none

	// How Upstreams chooses: power of two choices on requests in flight
	// among the hosts whose breaker, health check and Outlier let requests
	// through. An attempt that never reached its host moves to another for
	// any method, as nothing was sent.

	// mode, if not nil, makes this NewReverseProxy's Transport; see
	// proxyMode.
	mode *proxyMode

	// now, if not nil, replaces time.Now for breakers and budgets in tests.
	now func() time.Time

	// gateway is the transport made for a gateway that a nil Base stands
	// for, built on first use (see gatewayTransport).
	gateway atomic.Pointer[http.Transport]

	// responseHeaderTimeout and writeTimeout, if positive, replace
	// gateway's defaultResponseHeaderTimeout and defaultWriteTimeout:
	// tests shorten them before first use.
	responseHeaderTimeout time.Duration
	writeTimeout          time.Duration

	mu        sync.RWMutex
	upstreams map[string]*upstream
	pool      atomic.Pointer[pool] // nil until Upstreams is first read
	health    healthChecker
	trackers  sync.Pool // *tracker
	bodies    sync.Pool // *responseBody, recycled only when proxy is set
}

var _ http.RoundTripper = (*Transport)(nil)

// BreakerState returns the state of the circuit breaker for the upstream
// host (the request URL's Host, such as "api.internal:8080"), as a request
// sent now would find it: an open breaker whose time is up reads as
// half-open. It returns [BreakerClosed] when breakers are off or the host
// was never used.
func (t *Transport) BreakerState(host string) BreakerState {
	bp := t.breakerPolicy(t.hostPool())
	if bp == nil {
		return BreakerClosed
	}
	t.mu.RLock()
	u := t.upstreams[host]
	t.mu.RUnlock()
	if u == nil {
		return BreakerClosed
	}
	return u.breaker.currentState(t.clock())
}

// CloseIdleConnections closes the idle connections of Base, when it has a
// CloseIdleConnections method, or of the transport a nil Base stands for,
// so that [http.Client.CloseIdleConnections] reaches through.
func (t *Transport) CloseIdleConnections() {
	rt := t.userBase()
	if rt == nil {
		g := t.gateway.Load()
		if g == nil {
			return // never used: no connections
		}
		rt = g
	}
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip sends req upstream, as often as the retry policy allows, and
// returns the response or a [*gatewayerr.Error].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Following the phases costs a successful round trip three small
	// allocations (a shallow copy of the request carrying the trace, its
	// context, and the body's wrapper); in a NewReverseProxy, which owns the
	// request and its body, the Transport reuses them and allocates nothing
	// (see proxyMode).
	var start time.Time
	if t.timed() {
		start = time.Now()
	}
	if req.URL == nil {
		closeBody(req)
		return nil, t.fail(req, &gatewayerr.Error{Kind: gatewayerr.HTTPRequestError, Err: errors.New("middleware: nil Request.URL")}, start)
	}
	if t.mode != nil && req.Context().Value(loopKey{}) != nil {
		closeBody(req)
		e := &gatewayerr.Error{Kind: gatewayerr.ProxyLoopDetected, Err: ErrProxyLoop, Upstream: req.URL.Host}
		e.SetRequestSent(false)
		return nil, t.fail(req, e, start)
	}
	pl := t.hostPool()
	if pl != nil && t.HealthCheck != nil && !t.health.running.Load() {
		t.startHealth(context.Background(), req.URL.Scheme)
	}
	if pl == nil && t.Retry == nil && t.Breaker == nil {
		resp, e := t.attempt(req, req.Context(), req.Body, nil, 1, start, req.URL.Host, true, t.redacts(req))
		if t.OnAttempt != nil {
			t.attempted(req, 1, req.URL.Host, resp, e, false, time.Since(start))
		}
		if e != nil {
			return nil, t.fail(req, e, start)
		}
		return resp, nil
	}
	return t.roundTripPolicies(req, start, pl)
}

// Private implementation past this point.

// timed reports whether a round trip needs the time it started: for the
// retry policies' deadlines, for OnAttempt's durations, and for the
// durations a Logger records (a NewReverseProxy logs with its Transport's
// Logger). Otherwise the clock is not read: nothing would see the time.
func (t *Transport) timed() bool {
	return t.Logger != nil || t.OnAttempt != nil || t.Retry != nil || t.Breaker != nil || t.hostPool() != nil
}

// upstream is the state a Transport keeps for one upstream host.
type upstream struct {
	breaker breaker
	budget  retryBudget
	upstreamState
}

func (t *Transport) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

func (t *Transport) base() http.RoundTripper {
	if b := t.userBase(); b != nil {
		return b
	}
	if g := t.gateway.Load(); g != nil {
		return g
	}
	g := gatewayTransport(positiveOr(t.responseHeaderTimeout, defaultResponseHeaderTimeout),
		positiveOr(t.writeTimeout, defaultWriteTimeout))
	if !t.gateway.CompareAndSwap(nil, g) {
		// Another request built one first; this one has no connections
		// yet and is dropped.
		g = t.gateway.Load()
	}
	return g
}

// userBase returns Base, or nil when Base is nil or holds a nil
// *http.Transport, as Options.Transport does when it is set from a
// variable of that type that is nil (such as a faulttest.Target's
// Transport): that RoundTripper would panic on every request.
func (t *Transport) userBase() http.RoundTripper {
	if h, ok := t.Base.(*http.Transport); ok && h == nil {
		return nil
	}
	return t.Base
}

// upstream returns the state for host, creating it on first use.
func (t *Transport) upstream(host string) *upstream {
	t.mu.RLock()
	u := t.upstreams[host]
	t.mu.RUnlock()
	if u != nil {
		return u
	}
	t.mu.Lock()
	created := false
	if u = t.upstreams[host]; u == nil {
		if t.upstreams == nil {
			t.upstreams = make(map[string]*upstream)
		}
		u, created = new(upstream), true
		if t.Breaker != nil && t.OnStateChange != nil {
			// A new breaker is closed: said once, first in its queue of
			// changes, so that counting starts from a known state and
			// no change of another request is reported before it.
			u.breaker.pending = append(u.breaker.pending, stateChange{BreakerClosed, BreakerClosed})
		}
		t.upstreams[host] = u
	}
	t.mu.Unlock()
	if created && t.Breaker != nil && t.OnStateChange != nil {
		t.reportChanges(u, host)
	}
	return u
}

// roundTripPolicies is RoundTrip with retries, breakers or several
// upstream hosts (the pool pl, nil for the request's own host).
func (t *Transport) roundTripPolicies(req *http.Request, start time.Time, pl *pool) (*http.Response, error) {
	if pl != nil && pl.err != nil {
		closeBody(req)
		e := &gatewayerr.Error{Kind: gatewayerr.ProxyConfigurationError, Err: pl.err, Upstream: req.URL.Host}
		e.SetRequestSent(false)
		return nil, t.fail(req, e, start)
	}
	host := req.URL.Host
	ctx := req.Context()
	rp := t.Retry
	bp := t.breakerPolicy(pl)
	several := pl != nil && len(pl.hosts) > 1
	redact := t.redacts(req) // decided once for every attempt
	maxAttempts := 1
	if rp != nil {
		maxAttempts = rp.attempts()
	}
	var u *upstream
	if pl == nil {
		u = t.upstream(host)
		if rp != nil {
			u.budget.request(rp, t.clock())
		}
	}

	// A body without GetBody can be sent again only if no attempt read it;
	// replay holds it open across attempts until then.
	body := req.Body
	var replay *replayBody
	if (maxAttempts > 1 || several) && body != nil && body != http.NoBody && req.GetBody == nil {
		replay = &replayBody{rc: body}
		body = replay
	}
	defer func() {
		if replay != nil {
			replay.release()
		}
	}()

	// tried holds the indexes in pl of the hosts this request tried, or
	// found ejected.
	var triedBuf [4]int
	tried := triedBuf[:0]
	moving := false            // the next attempt moves past a host the request never reached
	var last *gatewayerr.Error // the previous attempt's failure
	for attempt := 1; ; attempt++ {
		var probe uint64
		idx := -1
		for race := 0; ; race++ {
			if pl != nil {
				now := t.clock()
				idx = pl.pick(bp, t.slowStart(), now, tried)
				if idx < 0 && !moving && len(tried) > 0 && race <= len(pl.hosts) {
					// A retry may go back to a host tried already.
					idx = pl.pick(bp, t.slowStart(), now, nil)
				}
				if idx < 0 {
					return nil, t.refuse(req, body, last, start, &gatewayerr.Error{
						Kind:       gatewayerr.DestinationUnavailable,
						Err:        ErrNoUpstream,
						Attempts:   attempt - 1,
						RetryAfter: pl.wait(bp, t.HealthCheck, now),
					})
				}
				u = pl.hosts[idx]
				host = u.host
			}
			if bp == nil {
				break
			}
			ok, p, wait, changed := u.breaker.allow(bp, t.clock())
			if changed {
				t.reportChanges(u, host)
			}
			if ok {
				probe = p
				break
			}
			if pl != nil {
				// Another request took the last probe meanwhile: on
				// to another host.
				tried = append(tried, idx)
				continue
			}
			// When another request's failure opened the breaker between
			// admits and allow, this request's own failure says the most.
			return nil, t.refuse(req, body, last, start, &gatewayerr.Error{
				Kind:       gatewayerr.DestinationUnavailable,
				Err:        ErrCircuitOpen,
				Upstream:   host,
				NextHop:    host,
				Attempts:   attempt - 1,
				RetryAfter: wait,
			})
		}
		if pl != nil {
			tried = append(tried, idx)
			u.inflight.Add(1)
			if rp != nil && (attempt == 1 || moving) {
				// A request for this host's budget: the first attempt, or
				// one that moved past a host it never reached.
				u.budget.request(rp, t.clock())
			}
		}

		astart := start
		if attempt > 1 && t.OnAttempt != nil {
			astart = time.Now()
		}
		var cancel context.CancelCauseFunc
		var timer *time.Timer
		actx := ctx
		n := attempt
		if moving {
			// A move is a first attempt on its host: bounded by
			// AttemptTimeout alone, not by what MaxElapsed leaves.
			n = 1
		}
		if d := rp.attemptTimeout(n, time.Since(start)); d > 0 {
			actx, cancel = context.WithCancelCause(ctx)
			timer = time.AfterFunc(d, func() { cancel(errAttemptTimeout) })
		}
		resp, e := t.attempt(req, actx, body, cancel, attempt, start, host, maxAttempts == 1 && !several, redact)
		if timer != nil {
			timer.Stop()
			if e != nil {
				cancel(nil)
			}
		}
		if pl != nil {
			// The host's request is in flight until its body is done.
			if b, ok := respBody(resp); ok {
				b.up = u
			} else {
				u.inflight.Add(-1)
			}
			t.outlierDone(pl, u, resp)
		}
		if bp != nil {
			o := responseOutcome(resp, e)
			if b, ok := respBody(resp); ok && o == outcomeSuccess && probe == 0 {
				// A response is a success once its body ended well: one
				// that fails midway is a failure alone (see finish).
				b.bp, b.bu = bp, u
			} else {
				t.breakerDone(bp, u, host, probe, o)
			}
		}

		// Decide whether to try again.
		var retryAfter time.Duration
		retry := attempt < maxAttempts && ctx.Err() == nil
		if retry && e != nil {
			retry = retryableKind(e.Kind) && (!e.RequestSent() || idempotent(req))
		} else if retry {
			retry = rp.retryStatus(resp.StatusCode) && idempotent(req)
			if retry {
				if d, ok := gatewayerr.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
					retryAfter = d
					retry = d <= rp.maxRetryAfter()
				}
			}
		}
		if several {
			// The Retry-After of one host does not hold for another.
			retryAfter = 0
		}
		// An attempt that never reached its host moves to another one,
		// whatever the method, the attempts and the budget, and whatever
		// time MaxElapsed leaves, which a dial timeout may use up whole:
		// once per host, under the request's context.
		moving = several && e != nil && ctx.Err() == nil && !e.RequestSent() && movableKind(e.Kind) &&
			len(tried) < len(pl.hosts)
		if retry && !several && bp != nil && !u.breaker.admits(bp, t.clock()) {
			// The breaker opened, maybe on this very attempt: its answer
			// is this request's last real outcome, not a fast failure.
			// Only requests that arrive while it is open get that.
			retry = false
		}
		if retry && e == nil && several && pl.pick(bp, t.slowStart(), t.clock(), nil) < 0 {
			// No host would take the retry: the response is the last
			// real outcome, better than a fast failure.
			retry = false
		}
		var next io.ReadCloser
		if retry || moving {
			var ok bool
			next, ok = nextBody(req, replay, e)
			retry, moving = retry && ok, moving && ok
		}
		var wait time.Duration
		if retry && !moving {
			wait = max(rp.backoff(attempt), retryAfter)
			retry = time.Since(start)+wait <= rp.maxElapsed() && u.budget.spend(rp, t.clock())
		}
		retry = retry || moving
		if t.OnAttempt != nil {
			t.attempted(req, attempt, host, resp, e, retry, time.Since(astart))
		}
		if !retry {
			if next != nil {
				next.Close()
			}
			if e != nil {
				return nil, t.fail(req, e, start)
			}
			return resp, nil
		}

		sleepFor := wait
		if resp != nil {
			if b, ok := respBody(resp); ok {
				// Its tracker's hooks may be in the trace the next
				// attempt composes with.
				b.tr.dropped = true
			}
			// The body is drained while the wait runs, and for no longer
			// unless the wait is very short: a body that stalls must not
			// hold the retry back (see drainWindow).
			due := time.Now().Add(wait)
			drain(resp.Body, drainWindow(wait, rp.maxElapsed()-time.Since(start)))
			sleepFor = time.Until(due)
		}
		if t.Logger != nil {
			attrs := []slog.Attr{
				slog.String(keyUpstream, host),
				slog.String(keyMethod, req.Method),
				slog.Int(keyAttempt, attempt),
				slog.Duration(keyWait, wait),
			}
			if e != nil {
				attrs = append(attrs, slog.String(keyKind, e.Kind.String()), slog.String(keyError, e.Error()))
			} else {
				attrs = append(attrs, slog.Int(keyStatus, resp.StatusCode))
			}
			if id := t.pages().RequestID(req); id != "" {
				// Only the request's own: a new one would match no other
				// record of this request.
				attrs = append(attrs, slog.String(keyRequestID, id))
			}
			t.Logger.LogAttrs(ctx, slog.LevelDebug, "gatehouse: retrying upstream request", attrs...)
		}
		if !sleep(ctx, sleepFor) {
			if next != nil {
				next.Close()
			}
			ce := classifyFailure(ctx, nil, context.Cause(ctx), gatewayerr.PhaseUnknown)
			ce.Upstream, ce.Attempts = host, attempt
			ce.SetRequestSent(e == nil || e.RequestSent())
			return nil, t.fail(req, ce, start)
		}
		body, last = next, e
	}
}

// nextBody returns the body for the next attempt of req and reports whether
// there can be one: never a body that was read, closed or is empty.
func nextBody(req *http.Request, replay *replayBody, e *gatewayerr.Error) (io.ReadCloser, bool) {
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		return req.Body, true
	case req.GetBody != nil:
		b, err := req.GetBody()
		if err != nil || b == nil {
			return nil, false
		}
		if b == http.NoBody && req.ContentLength != 0 {
			return nil, false
		}
		return b, true
	case replay != nil && e != nil && !e.RequestSent() && replay.rewind():
		return replay, true
	}
	return nil, false
}

// sleep waits for d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
