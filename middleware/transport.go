package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// ErrCircuitOpen is the cause of the destination_unavailable error that a
// [Transport] returns, without trying, while an upstream's circuit breaker is
// open.
var ErrCircuitOpen = errors.New("middleware: circuit breaker open")

// errAttemptTimeout ends an attempt that ran past [RetryPolicy.AttemptTimeout].
var errAttemptTimeout error = attemptTimeoutError{}

type attemptTimeoutError struct{}

func (attemptTimeoutError) Error() string        { return "middleware: attempt timed out" }
func (attemptTimeoutError) Timeout() bool        { return true }
func (attemptTimeoutError) Temporary() bool      { return false }
func (attemptTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Transport is an [http.RoundTripper] that classifies every upstream failure,
// and, when configured to, retries safely and breaks circuits.
//
// It follows the RoundTripper contract: it does not modify the request, it
// closes the request's body on every path, and a response of any status is a
// response, not an error, except a status below 100, which no HTTP version
// allows and which net/http's ResponseWriter refuses with a panic: that
// response is closed, and RoundTrip fails with
// [gatewayerr.HTTPProtocolError]. Every error it returns, from RoundTrip and
// from a response body's Read, is a [*gatewayerr.Error] (through [errors.As])
// carrying the upstream host, the [gatewayerr.Phase] in which the exchange
// failed (followed with [net/http/httptrace]) and the number of attempts.
// A request whose context was cancelled fails with
// [gatewayerr.ClientClosedRequest].
//
// The zero Transport is ready to use: it sends through an [*http.Transport]
// of its own made for a gateway (timeouts on dialing, the TLS handshake and
// the response header, and a pool of idle connections sized for concurrency;
// see [Transport.Base]), classifies, and neither retries, breaks circuits
// nor logs. A Transport keeps per-upstream state (breakers, retry budgets,
// that transport's connections) and must not be copied after first use. It
// is safe for concurrent use.
//
// Following the phases costs a successful round trip three small
// allocations (a shallow copy of the request carrying the trace, its
// context, and the body's wrapper); inside [NewReverseProxy], which owns
// the request and its body, the Transport reuses them and allocates
// nothing.
type Transport struct {
	// Base sends each attempt.
	//
	// If nil, or a nil *http.Transport (as when it is set from a
	// faulttest.Target whose Transport is nil), the Transport builds an
	// [*http.Transport] made for a gateway, once, on first use, and sends
	// through it alone (it is not shared with
	// other Transports, and [Transport.CloseIdleConnections] reaches it):
	// like an http.Transport, such a Transport is made once and reused, not
	// made per request, or its connections are never reused.
	// Its settings differ from [http.DefaultTransport]'s where a gateway
	// needs them to:
	//
	//   - Proxy: [http.ProxyFromEnvironment], as http.DefaultTransport and a
	//     ReverseProxy without a Transport do: HTTP_PROXY, HTTPS_PROXY and
	//     NO_PROXY are honoured (never for loopback addresses). Set Base to
	//     a transport whose Proxy is nil to ignore them.
	//   - Dialing: 10 seconds to connect (connection_timeout after that),
	//     TCP keep-alive every 30 seconds.
	//   - TLSHandshakeTimeout: 10 seconds (connection_timeout).
	//   - ResponseHeaderTimeout: 60 seconds, as nginx's proxy_read_timeout,
	//     from the end of writing the request to the response header; an
	//     upstream that stays silent longer fails with
	//     http_response_timeout (504). It does not bound the body: see
	//     [Transport.ResponseBodyReadTimeout].
	//   - Writing: each write to the upstream connection must complete
	//     within 60 seconds, as nginx's proxy_send_timeout: an upstream
	//     that stops reading the request (a large body it never reads)
	//     fails with connection_write_timeout (504). The time between two
	//     writes, as a slow client uploads, is not bounded.
	//   - ExpectContinueTimeout: 1 second.
	//   - MaxIdleConnsPerHost: 128 and MaxIdleConns: 1024, so that
	//     concurrent requests to one upstream reuse connections instead of
	//     opening and closing one each (http.DefaultTransport keeps 2 per
	//     host).
	//   - IdleConnTimeout: 30 seconds, below the keep-alive timeout of most
	//     servers, so that an idle connection is seldom reused just as the
	//     upstream closes it.
	//   - MaxResponseHeaderBytes: 1 MB (http_response_header_section_size
	//     beyond it).
	//   - DisableCompression: true: the client's Accept-Encoding goes
	//     upstream as it is and the response's body is passed on as it is;
	//     the transport neither asks for gzip of its own accord nor
	//     decompresses.
	//   - ForceAttemptHTTP2: true: HTTP/2 with upstreams that offer it
	//     over TLS.
	//
	// The request's context still bounds every exchange.
	Base http.RoundTripper

	// Retry configures retries; see [RetryPolicy].
	// If nil, a failed request is not retried.
	Retry *RetryPolicy

	// Breaker configures a circuit breaker per upstream host; see
	// [BreakerPolicy].
	// If nil, there are no circuit breakers.
	Breaker *BreakerPolicy

	// MaxResponseBodyBytes limits the size of a response body: a response
	// that declares a longer Content-Length fails at once and a body that
	// runs longer fails when read, with an http_response_body_size error.
	// Zero means no limit.
	MaxResponseBodyBytes int64

	// ResponseBodyReadTimeout, if non-zero, is the longest a single Read of
	// a response body may wait for data from the upstream. A body that
	// stalls for longer is closed, which ends its connection, and the Read
	// fails with a connection_read_timeout error in the read_body phase.
	// It bounds each wait, not the whole body: a large or long-lived body
	// that keeps flowing is never cut. It does not apply to the connection
	// of a 101 Switching Protocols response.
	//
	// It applies to every response body, streams included: a Server-Sent
	// Events or long-polling response that stays quiet for longer than
	// ResponseBodyReadTimeout between two events is cut as stalled. Set it
	// above the longest quiet spell such streams have (for SSE, above the
	// upstream's heartbeat interval), or leave it zero where they pass.
	//
	// When set, a response body costs one timer, made at its first Read
	// (inside [NewReverseProxy], recycled with the body).
	// Zero means no limit: a stalled body is bounded only by the request's
	// context.
	ResponseBodyReadTimeout time.Duration

	// Logger receives one record per failure: at error level for failures
	// that point at the gateway's configuration (TLS, DNS), warn for other
	// upstream failures (and for every error response of the upstream's
	// own, whatever kind its Proxy-Status names), debug for a client's
	// cancellation and for each retry; and one record per breaker state
	// change.
	// If nil, nothing is logged.
	Logger *slog.Logger

	// OnError, if not nil, is called with every failure that RoundTrip or a
	// response body returns, a client's cancellation included (its Kind is
	// gatewayerr.ClientClosedRequest), for metrics. It must not block.
	OnError func(r *http.Request, err *gatewayerr.Error)

	// OnAttempt, if not nil, is called once for every attempt of a round
	// trip, the first one included, when its outcome is known and before
	// any wait for the next one (see [Attempt]), for metrics. It runs on the
	// request's goroutine, must not block, and must not modify the
	// Attempt's request or error.
	OnAttempt func(Attempt)

	// OnStateChange, if not nil, is called whenever an upstream's circuit
	// breaker changes state, for each upstream in the order the changes
	// happened (each call's from is the previous call's to), one call at a
	// time per upstream; and first, once, with from and to both
	// BreakerClosed, when the upstream's breaker is made (at its first
	// request with breakers on), so that a gauge of the states starts at
	// closed. It runs on the goroutine of a request in flight, not always
	// the one whose outcome made the change, and must not block: while it
	// runs, that upstream's later changes wait (at most 256; more are
	// dropped).
	OnStateChange func(upstream string, from, to BreakerState)

	// Upstreams lists the hosts (each a host:port, such as
	// "10.0.0.7:8080") among which each attempt of a request is sent,
	// with the request URL's scheme, path and query; the request's Host
	// header is the chosen host's unless the request sets one. Each attempt
	// goes to one host, chosen by power of two choices: of two hosts drawn
	// at random (in proportion to UpstreamWeights), the one with fewer
	// requests in flight for its weight, among the hosts whose breaker lets
	// requests through and that the health check has not marked down.
	// A host that comes back gets a growing share of new requests (see
	// [HealthCheck.SlowStart]). See [Transport.SetUpstreams] to change the
	// set at run time.
	//
	// With several hosts, a retry goes to a host the request has not tried
	// when there is one, under the rules of Retry; an attempt that never
	// reached its host (a refused connection, a failed dial, TLS handshake
	// or DNS lookup) moves to an untried host for any method, even without
	// Retry, without waiting and without spending a retry budget, once per
	// host; and breakers are on even with a nil Breaker (the zero
	// [BreakerPolicy]'s). Breakers and retry budgets are per host. When
	// every host is ejected, RoundTrip fails at once, without dialling,
	// with destination_unavailable (503, the cause [ErrNoUpstream]) and a
	// RetryAfter until the first host may be tried again.
	//
	// Over https, each host's certificate is verified for the host as
	// listed, unless Base's TLS configuration sets a ServerName.
	//
	// Upstreams is read at the first request; SetUpstreams changes the set
	// afterwards. A malformed entry (not a host:port, or listed twice)
	// fails every request with proxy_configuration_error.
	// If empty, each request goes to its own URL's host, as given.
	Upstreams []string

	// UpstreamWeights gives hosts of Upstreams a relative weight: a host
	// of weight 2 gets about twice the requests of a host of weight 1. It
	// is read when the set of hosts is made (at first use, and by
	// SetUpstreams).
	// A host missing from it, or with a weight below 1, has weight 1.
	UpstreamWeights map[string]int

	// HealthCheck, if not nil, checks each host of Upstreams actively in
	// the background: a host that fails it is marked down and skipped,
	// and comes back once it passes again; see [HealthCheck]. The checks
	// start with the first request (or [Transport.StartHealthChecks]) and
	// run until [Transport.Close]: a Transport with a HealthCheck must be
	// closed.
	// If nil, hosts are ejected only by their breakers.
	HealthCheck *HealthCheck

	// proxy marks NewReverseProxy's Transport: it answers requests marked
	// as looping with ErrProxyLoop, recycles response bodies, and returns
	// its RoundTrip failures unreported, as *transportError, for the
	// ErrorHandler to report.
	proxy bool

	// details is NewReverseProxy's Options.ProxyStatusDetails: unless it
	// allows details for a request, the Proxy-Status of the upstream's
	// responses (1xx, final and trailer) is redacted here, before anything
	// of ReverseProxy's (a ModifyResponse of the user's included) sees it.
	details func(*http.Request) bool

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

// The settings of the transport made for a gateway, documented on
// Transport.Base.
const (
	defaultDialTimeout            = 10 * time.Second
	defaultKeepAlive              = 30 * time.Second
	defaultTLSHandshakeTimeout    = 10 * time.Second
	defaultResponseHeaderTimeout  = 60 * time.Second
	defaultExpectContinueTimeout  = time.Second
	defaultMaxIdleConns           = 1024
	defaultMaxIdleConnsPerHost    = 128
	defaultIdleConnTimeout        = 30 * time.Second
	defaultMaxResponseHeaderBytes = 1 << 20
	defaultWriteTimeout           = 60 * time.Second
)

// gatewayTransport returns a new transport made for a gateway, with the
// settings documented on Transport.Base and the given response-header and
// write timeouts.
func gatewayTransport(responseHeaderTimeout, writeTimeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: defaultDialTimeout, KeepAlive: defaultKeepAlive}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &writeTimeoutConn{Conn: c, timeout: writeTimeout}, nil
		},
		TLSHandshakeTimeout:    defaultTLSHandshakeTimeout,
		ResponseHeaderTimeout:  responseHeaderTimeout,
		ExpectContinueTimeout:  defaultExpectContinueTimeout,
		MaxIdleConns:           defaultMaxIdleConns,
		MaxIdleConnsPerHost:    defaultMaxIdleConnsPerHost,
		IdleConnTimeout:        defaultIdleConnTimeout,
		MaxResponseHeaderBytes: defaultMaxResponseHeaderBytes,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
	}
}

// writeTimeoutConn is a connection of the transport made for a gateway:
// each Write must complete within timeout, so that an upstream that stops
// reading a request (its body, or HTTP/2 frames) fails the exchange with
// connection_write_timeout instead of holding it, as nginx's
// proxy_send_timeout does. http.Transport's ResponseHeaderTimeout starts
// only once the request is written, and it has no write timeout of its own.
type writeTimeoutConn struct {
	net.Conn
	timeout time.Duration
}

func (c *writeTimeoutConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
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
	start := time.Now()
	if req.URL == nil {
		closeBody(req)
		return nil, t.fail(req, &gatewayerr.Error{Kind: gatewayerr.HTTPRequestError, Err: errors.New("middleware: nil Request.URL")}, start)
	}
	if t.proxy && req.Context().Value(loopKey{}) != nil {
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
		resp, e := t.attempt(req, req.Context(), req.Body, nil, 1, start, req.URL.Host, true)
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
					if body != nil {
						body.Close()
					}
					if last != nil {
						return nil, t.fail(req, last, start)
					}
					e := &gatewayerr.Error{
						Kind:       gatewayerr.DestinationUnavailable,
						Err:        ErrNoUpstream,
						Upstream:   req.URL.Host,
						Attempts:   attempt - 1,
						RetryAfter: pl.wait(bp, t.HealthCheck, now),
					}
					e.SetRequestSent(false)
					return nil, t.fail(req, e, start)
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
			if body != nil {
				body.Close()
			}
			if last != nil {
				// Another request's failure opened the breaker
				// between admits and allow: this request's own
				// failure still says the most.
				return nil, t.fail(req, last, start)
			}
			e := &gatewayerr.Error{
				Kind:       gatewayerr.DestinationUnavailable,
				Err:        ErrCircuitOpen,
				Upstream:   host,
				NextHop:    host,
				Attempts:   attempt - 1,
				RetryAfter: wait,
			}
			e.SetRequestSent(false)
			return nil, t.fail(req, e, start)
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
		if d := rp.attemptTimeout(attempt, time.Since(start)); d > 0 {
			actx, cancel = context.WithCancelCause(ctx)
			timer = time.AfterFunc(d, func() { cancel(errAttemptTimeout) })
		}
		resp, e := t.attempt(req, actx, body, cancel, attempt, start, host, maxAttempts == 1 && !several)
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
		}
		if bp != nil {
			t.breakerDone(bp, u, host, probe, responseOutcome(resp, e))
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
		// whatever the method, the attempts and the budget.
		moving = several && e != nil && ctx.Err() == nil && !e.RequestSent() && retryableKind(e.Kind) &&
			len(tried) < len(pl.hosts) && (rp == nil || time.Since(start) <= rp.maxElapsed())
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
				slog.String("upstream", host),
				slog.String("method", req.Method),
				slog.Int("attempt", attempt),
				slog.Duration("wait", wait),
			}
			if e != nil {
				attrs = append(attrs, slog.String("kind", e.Kind.String()), slog.String("error", e.Error()))
			} else {
				attrs = append(attrs, slog.Int("status", resp.StatusCode))
			}
			t.Logger.LogAttrs(ctx, slog.LevelDebug, "gatehouse: retrying upstream request", attrs...)
		}
		if !sleep(ctx, sleepFor) {
			if next != nil {
				next.Close()
			}
			ce := classifyFailure(ctx, ctx, context.Cause(ctx), gatewayerr.PhaseUnknown)
			ce.Upstream, ce.Attempts = host, attempt
			ce.SetRequestSent(e == nil || e.RequestSent())
			return nil, t.fail(req, ce, start)
		}
		body, last = next, e
	}
}

// respBody returns resp's body when the Transport wrapped it.
func respBody(resp *http.Response) (*responseBody, bool) {
	if resp == nil {
		return nil, false
	}
	b, ok := resp.Body.(*responseBody)
	return b, ok
}

// attempt sends attempt number n of req to host, under the context actx and
// with the given body, following its phases. cancel, if not nil, ends actx;
// the response body calls it when done. final reports that no other attempt
// can follow.
func (t *Transport) attempt(req *http.Request, actx context.Context, body io.ReadCloser, cancel context.CancelCauseFunc, n int, start time.Time, host string, final bool) (*http.Response, *gatewayerr.Error) {
	tr := t.tracker()
	redact := t.proxy && (t.details == nil || !t.details(req))
	out := req
	// In a NewReverseProxy, the context of the first attempt, made with the
	// request's own context and body, carries the ClientTrace that
	// ReverseProxy made for this request alone: the tracker's hooks go into
	// it, sparing a copy of the request and a context. Later attempts
	// compose with that trace, so when one may follow the tracker is
	// shared: pooled only once its response is the one returned (see
	// responseBody.finish). Otherwise the request is copied with a context
	// of its own, whose trace runs before the one it may carry already.
	hook := t.proxy && n == 1 && cancel == nil && body == req.Body
	if hook && tr.hookInto(httptrace.ContextClientTrace(actx), redact) {
		tr.shared = !final
		if host != req.URL.Host {
			// ReverseProxy made req, and its URL, for this round trip
			// alone, and nothing else has seen it yet.
			req.URL.Host = host
		}
	} else {
		if redact {
			tr.trace.Got1xxResponse = tr.got1xxHook
		}
		out = req.WithContext(httptrace.WithClientTrace(actx, &tr.trace))
		out.Body = body
		if host != req.URL.Host {
			u := *req.URL
			u.Host = host
			out.URL = &u
		}
	}
	resp, err := t.base().RoundTrip(out)
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		e := classifyFailure(req.Context(), actx, err, tr.currentPhase())
		e.Upstream, e.Attempts = host, n
		if e.NextHop == "" {
			e.NextHop = host
		}
		if tr.wrote.Load() {
			e.SetRequestSent(true)
		}
		if !e.Timeout() && e.Kind != gatewayerr.ClientClosedRequest && e.Phase.BeforeRequest() {
			// The connection attempt ended with this error: no hook of
			// it can fire any more.
			tr.written.Store(true)
		}
		t.putTracker(tr)
		return nil, e
	}
	tr.phase.Store(uint32(gatewayerr.PhaseReadBody))
	resp.Request = req
	if resp.StatusCode < 100 {
		resp.Body.Close()
		t.putTracker(tr)
		e := &gatewayerr.Error{
			Kind:     gatewayerr.HTTPProtocolError,
			Err:      fmt.Errorf("middleware: invalid response status %q", resp.Status),
			Phase:    gatewayerr.PhaseReadHeaders,
			Upstream: host,
			NextHop:  host,
			Attempts: n,
		}
		e.SetRequestSent(true)
		return nil, e
	}
	if redact && len(resp.Header["Proxy-Status"]) > 0 {
		// Here, not in ModifyResponse, which a user may replace.
		gatewayerr.RedactProxyStatusHeader(resp.Header)
	}
	if t.MaxResponseBodyBytes > 0 && resp.ContentLength > t.MaxResponseBodyBytes {
		resp.Body.Close()
		t.putTracker(tr)
		e := &gatewayerr.Error{
			Kind:           gatewayerr.HTTPResponseBodySize,
			Err:            errBodyTooLarge,
			Phase:          gatewayerr.PhaseReadHeaders,
			Upstream:       host,
			NextHop:        host,
			Attempts:       n,
			ReceivedStatus: resp.StatusCode,
			Size:           t.MaxResponseBodyBytes,
		}
		e.SetRequestSent(true)
		return nil, e
	}
	switch {
	case resp.StatusCode == http.StatusSwitchingProtocols:
		// The body of a 101 is the upgraded connection, an
		// io.ReadWriteCloser; it is handed over as it is.
		t.putTracker(tr)
		if cancel != nil {
			if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
				resp.Body = &upgradeBody{ReadWriteCloser: rwc, cancel: cancel}
			}
		}
	case (resp.Body == nil || resp.Body == http.NoBody) && (n == 1 || !t.proxy) && !tr.shared:
		t.putTracker(tr)
		if cancel != nil {
			cancel(nil)
		}
	default:
		// In a NewReverseProxy, an empty body after a retry is wrapped
		// too: the body carries the number of attempts to the proxy's
		// reports.
		if resp.Body == nil {
			resp.Body = http.NoBody
		}
		b := t.responseBody()
		b.rc, b.t, b.req, b.tr, b.cancel, b.host = resp.Body, t, req, tr, cancel, host
		b.start, b.attempts, b.status, b.limit = start, n, resp.StatusCode, t.MaxResponseBodyBytes
		b.timeout = t.ResponseBodyReadTimeout
		if redact {
			b.redact = resp
		}
		resp.Body = b
	}
	return resp, nil
}

var errBodyTooLarge = errors.New("middleware: response body larger than MaxResponseBodyBytes")

// errBodyReadTimeout ends a response body that stalled for longer than
// [Transport.ResponseBodyReadTimeout].
var errBodyReadTimeout error = bodyReadTimeoutError{}

type bodyReadTimeoutError struct{}

func (bodyReadTimeoutError) Error() string {
	return "middleware: response body stalled longer than ResponseBodyReadTimeout"
}
func (bodyReadTimeoutError) Timeout() bool        { return true }
func (bodyReadTimeoutError) Temporary() bool      { return false }
func (bodyReadTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// classifyFailure classifies err, returned by an attempt whose context is
// actx, under the request's context ctx, in the given phase.
func classifyFailure(ctx, actx context.Context, err error, phase gatewayerr.Phase) *gatewayerr.Error {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		// The client went away: whatever the transport saw is a
		// consequence.
		e := &gatewayerr.Error{Kind: gatewayerr.ClientClosedRequest, Err: err, Phase: phase}
		return e
	case ctx.Err() != nil:
		err = ctx.Err()
	case context.Cause(actx) == errAttemptTimeout:
		err = errAttemptTimeout
	}
	e := gatewayerr.ClassifyPhase(err, phase)
	if e.Err != err {
		// Classify returned an *Error that err already held; the caller
		// sets fields on a copy.
		c := *e
		e = &c
	}
	return e
}

// logFailure writes one record for the failure e of req, handled in d (left
// out when negative), at a level that fits its kind: error for failures that
// point at the gateway's configuration, debug for a client's cancellation,
// warn for the others. A nil logger logs nothing.
func logFailure(logger *slog.Logger, req *http.Request, e *gatewayerr.Error, d time.Duration) {
	logFailureID(logger, req, req.Header.Get("X-Request-Id"), e, d)
}

// logFailureID is logFailure with the request ID given: the one the page
// quotes, read from the header its Pages are configured with.
func logFailureID(logger *slog.Logger, req *http.Request, id string, e *gatewayerr.Error, d time.Duration) {
	if logger == nil {
		return
	}
	ctx := req.Context()
	level := failureLevel(e)
	path := ""
	if req.URL != nil {
		path = req.URL.Path
	}
	if !logger.Enabled(ctx, level) {
		return
	}
	// The status the client got: the upstream's, for a body that failed
	// after the response was handed on; else that of a response reporting
	// e.
	status := e.StatusCode()
	if e.Phase == gatewayerr.PhaseReadBody && e.ReceivedStatus != 0 && e.Kind != gatewayerr.ClientClosedRequest {
		status = e.ReceivedStatus
	}
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String("kind", e.Kind.String()),
		slog.Int("status", status),
		slog.String("upstream", e.Upstream),
		slog.String("method", req.Method),
		slog.String("path", path),
		slog.Int("attempts", e.Attempts),
	)
	if d >= 0 {
		attrs = append(attrs, slog.Duration("duration", d))
	}
	if e.Phase != gatewayerr.PhaseUnknown {
		attrs = append(attrs, slog.String("phase", e.Phase.String()))
	}
	if e.ReceivedStatus != 0 {
		attrs = append(attrs, slog.Int("received_status", e.ReceivedStatus))
	}
	if id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	attrs = append(attrs, slog.String("error", e.Error()))
	logger.LogAttrs(ctx, level, "gatehouse: upstream failure", attrs...)
}

// failureLevel returns the log level for the failure e.
func failureLevel(e *gatewayerr.Error) slog.Level {
	if e.ReceivedStatus != 0 && e.Kind != gatewayerr.ClientClosedRequest {
		// An upstream's own response reported it, whatever the kind its
		// Proxy-Status names: a failure beyond this gateway.
		return slog.LevelWarn
	}
	switch e.Kind {
	case gatewayerr.ClientClosedRequest:
		return slog.LevelDebug
	case gatewayerr.DNSError, gatewayerr.DNSTimeout, gatewayerr.DestinationNotFound,
		gatewayerr.DestinationIPProhibited, gatewayerr.TLSProtocolError, gatewayerr.TLSCertificateError,
		gatewayerr.TLSAlertReceived, gatewayerr.ProxyConfigurationError, gatewayerr.ProxyInternalError:
		return slog.LevelError
	}
	return slog.LevelWarn
}

// report logs e and calls OnError.
func (t *Transport) report(req *http.Request, e *gatewayerr.Error, start time.Time) {
	if t.OnError != nil {
		t.OnError(req, e)
	}
	logFailure(t.Logger, req, e, time.Since(start))
}

// fail reports e, a failure of RoundTrip, and returns it as RoundTrip's
// error.
func (t *Transport) fail(req *http.Request, e *gatewayerr.Error, start time.Time) error {
	if t.proxy {
		return &transportError{e: e, elapsed: time.Since(start)}
	}
	t.report(req, e, start)
	return e
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
			slog.String("upstream", host), slog.String("from", from.String()), slog.String("to", to.String()))
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

// minDrain is the time drainWindow allows for draining a body when the
// wait before the retry is shorter.
const minDrain = 20 * time.Millisecond

// drainWindow returns how long the body of a response that is retried may
// be drained, given the wait before the retry and the time left before
// RetryPolicy.MaxElapsed: the wait, or minDrain if it is shorter, but then
// never more than half the time left, so that the retry keeps at least
// that half for itself.
func drainWindow(wait, left time.Duration) time.Duration {
	return max(wait, min(minDrain, left/2))
}

// drain reads what is left of a response that is not used, at most 4 KB,
// so that its connection can be reused, and closes it. A body that does not
// end within d is closed unread, its connection with it. A failure while
// draining is not the request's: it is neither reported nor counted by a
// breaker (the response was counted when its header came).
func drain(rc io.ReadCloser, d time.Duration) {
	under := rc // what the timer closes: never a recycled responseBody
	rb, _ := rc.(*responseBody)
	if rb != nil {
		under = rb.rc
		rb.holdFailures(true)
	}
	timer := time.AfterFunc(d, func() { under.Close() })
	io.CopyN(io.Discard, rc, 4<<10)
	timer.Stop()
	if rb != nil {
		rb.dropHeld()
	}
	rc.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// replayBody holds a request body that has no GetBody across attempts: the
// base transport's Close is deferred while the body may be needed again, and
// a body that was read is never sent again.
type replayBody struct {
	rc       io.ReadCloser
	mu       sync.Mutex
	read     bool // an attempt read from it
	closed   bool // the base transport closed it during the current attempt
	released bool // no more attempts: Close passes through
}

func (b *replayBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	b.read = true
	b.mu.Unlock()
	return b.rc.Read(p)
}

func (b *replayBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return b.rc.Close()
	}
	b.closed = true
	return nil
}

// rewind prepares the body for another attempt and reports whether it can be
// sent again: only if no attempt read from it.
func (b *replayBody) rewind() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = false
	return !b.read
}

// release ends the attempts: a Close the base transport made is done now,
// later ones pass through.
func (b *replayBody) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return
	}
	b.released = true
	if b.closed {
		b.rc.Close()
	}
}

// upgradeBody keeps a 101 response's connection writable while ending the
// attempt's context when it is closed.
type upgradeBody struct {
	io.ReadWriteCloser
	cancel context.CancelCauseFunc
}

func (b *upgradeBody) Close() error {
	err := b.ReadWriteCloser.Close()
	b.cancel(nil)
	return err
}

// responseBody wraps a response body so that its errors are classified and reported,
// its size limited, its reads timed, and the attempt's resources released when it ends.
type responseBody struct {
	rc       io.ReadCloser
	t        *Transport
	req      *http.Request
	host     string    // the attempt's upstream host
	up       *upstream // the attempt's host in a pool of Upstreams, whose in-flight count the body holds
	tr       *tracker
	cancel   context.CancelCauseFunc
	start    time.Time
	attempts int
	status   int
	limit    int64 // zero: none
	n        int64
	err      error // the classified error, returned by every later Read
	done     atomic.Bool

	// timeout is Transport.ResponseBodyReadTimeout. timer, made at the
	// first Read when timeout is set, runs only during a Read: it closes
	// rc if the Read waits longer than timeout. fired records that it did,
	// so the body is not recycled while expire may still run; a timer that
	// never fired stays with the body when it is recycled.
	timeout time.Duration
	timer   *time.Timer
	fired   bool

	// hold makes a failure be recorded without being reported (see
	// holdFailures); held is such a failure, reported by the next Read or
	// by Close unless dropHeld drops it.
	hold bool
	held *gatewayerr.Error

	// redact, in a NewReverseProxy when details are not allowed for the
	// request (the decision that redacts its 1xx responses), is the
	// response: the Proxy-Status trailer it has at the end of its body,
	// filled in by then, is redacted before ReverseProxy copies it (see
	// gatewayerr.RedactProxyStatusHeader).
	redact *http.Response
}

func (b *responseBody) Read(p []byte) (int, error) {
	if b.err != nil {
		if !b.hold && b.held != nil {
			b.reportFailure(b.held)
		}
		return 0, b.err
	}
	if b.limit > 0 && int64(len(p)) > b.limit-b.n+1 {
		p = p[:b.limit-b.n+1]
	}
	var n int
	var err error
	if b.timeout > 0 {
		n, err = b.readTimed(p)
	} else {
		n, err = b.rc.Read(p)
	}
	b.n += int64(n)
	if b.limit > 0 && b.n > b.limit {
		n -= int(b.n - b.limit)
		b.n = b.limit
		e := &gatewayerr.Error{
			Kind:           gatewayerr.HTTPResponseBodySize,
			Err:            errBodyTooLarge,
			Phase:          gatewayerr.PhaseReadBody,
			ReceivedStatus: b.status,
			Size:           b.limit,
		}
		return n, b.fail(e)
	}
	if err == nil {
		return n, nil
	}
	if err == io.EOF {
		if b.redact != nil && len(b.redact.Trailer["Proxy-Status"]) > 0 {
			gatewayerr.RedactProxyStatusHeader(b.redact.Trailer)
		}
		b.finish()
		return n, err
	}
	var e *gatewayerr.Error
	if !errors.As(err, &e) {
		e = classifyFailure(b.req.Context(), b.req.Context(), err, gatewayerr.PhaseReadBody)
	}
	return n, b.fail(e)
}

// readTimed reads from rc with the timer running: if it fires, rc is
// closed, so that the Read returns, and the Read fails with
// errBodyReadTimeout. The timer is stopped before readTimed returns.
func (b *responseBody) readTimed(p []byte) (int, error) {
	if b.timer == nil {
		b.timer = time.AfterFunc(b.timeout, b.expire)
	} else {
		b.timer.Reset(b.timeout)
	}
	n, err := b.rc.Read(p)
	if !b.timer.Stop() {
		b.fired = true
		if err != io.EOF {
			// Whatever rc returned, it was cut short by expire, or
			// would be at the next Read.
			err = errBodyReadTimeout
		}
	}
	return n, err
}

// expire runs when a Read waited longer than the timeout: closing rc makes
// the Read return.
func (b *responseBody) expire() { b.rc.Close() }

// fail records e as the body's error, reports it (or holds it) and ends
// the body.
func (b *responseBody) fail(e *gatewayerr.Error) error {
	c := *e
	c.Upstream, c.Attempts = b.host, b.attempts
	if c.NextHop == "" {
		c.NextHop = b.host
	}
	if c.ReceivedStatus == 0 {
		c.ReceivedStatus = b.status
	}
	c.SetRequestSent(true)
	b.err = &c
	if b.hold {
		b.held = &c
	} else {
		b.reportFailure(&c)
	}
	b.finish()
	return b.err
}

// reportFailure counts the failure e in the breaker and reports it, once.
func (b *responseBody) reportFailure(e *gatewayerr.Error) {
	b.held = nil
	t := b.t
	// A 502, 503 or 504 was counted as a failure when its headers came:
	// its body failing too is the same failure.
	if e.Kind != gatewayerr.ClientClosedRequest && e.Kind != gatewayerr.HTTPResponseBodySize && !gatewayerr.IsGatewayStatus(b.status) {
		u, bp := b.up, t.Breaker
		if u != nil {
			bp = t.breakerPolicy(t.hostPool())
		}
		if bp != nil {
			if u == nil {
				u = t.upstream(b.host)
			}
			t.breakerDone(bp, u, b.host, 0, outcomeFailure)
		}
	}
	t.report(b.req, e, b.start)
}

// holdFailures, while on is true, records a failure of Read without
// reporting it: NewReverseProxy reads the first bytes of a body to judge the
// response, and reports a response it replaces itself. Once on is false,
// the held failure is reported by the next Read or by Close, unless
// dropHeld drops it first.
func (b *responseBody) holdFailures(on bool) { b.hold = on }

// dropHeld forgets a held failure: the response is replaced, and its
// replacement is reported instead.
func (b *responseBody) dropHeld() { b.held = nil }

func (b *responseBody) Close() error {
	err := b.rc.Close()
	if b.held != nil {
		b.reportFailure(b.held)
	}
	b.finish()
	if err != nil {
		e := classifyFailure(b.req.Context(), b.req.Context(), err, gatewayerr.PhaseReadBody)
		e.Upstream, e.Attempts = b.host, b.attempts
		return e
	}
	if t := b.t; t.proxy && !b.fired {
		// ReverseProxy closes a response body once and never reads it
		// again: it can be recycled, with its timer, which is stopped
		// and will not run.
		*b = responseBody{timer: b.timer}
		t.bodies.Put(b)
	}
	return nil
}

// responseBody returns a zeroed responseBody: a recycled one in a
// NewReverseProxy, a new one otherwise.
func (t *Transport) responseBody() *responseBody {
	if t.proxy {
		if b, _ := t.bodies.Get().(*responseBody); b != nil {
			return b
		}
	}
	return new(responseBody)
}

// finish releases the attempt's resources, once.
func (b *responseBody) finish() {
	if !b.done.CompareAndSwap(false, true) {
		return
	}
	if b.tr.shared && !b.tr.dropped {
		// The response is the one returned: no attempt follows.
		b.tr.shared = false
	}
	b.t.putTracker(b.tr)
	if b.cancel != nil {
		b.cancel(nil)
	}
	if b.up != nil {
		b.up.inflight.Add(-1)
	}
}

// tracker follows the phases of one attempt through httptrace. Trackers are
// pooled: the hooks are method values made once per tracker.
type tracker struct {
	phase   atomic.Uint32 // a gatewayerr.Phase
	wrote   atomic.Bool   // the request's headers were written (since the last GetConn)
	written atomic.Bool   // the whole request was written (since the last GetConn)
	hooks   httptrace.ClientTrace
	trace   httptrace.ClientTrace // hooks, copied for each use: WithClientTrace may change it

	// got1xxHook is got1xx, bound once; next1xx is the Got1xxResponse hook
	// it replaced in ReverseProxy's trace, if any (see hookInto).
	got1xxHook func(int, textproto.MIMEHeader) error
	next1xx    func(int, textproto.MIMEHeader) error

	// shared marks a tracker hooked into ReverseProxy's trace when other
	// attempts may follow and compose with it: it is never pooled, unless
	// its response, not dropped for a retry, is the one returned.
	shared, dropped bool
}

func (t *Transport) tracker() *tracker {
	tr, _ := t.trackers.Get().(*tracker)
	if tr == nil {
		tr = new(tracker)
		tr.hooks = httptrace.ClientTrace{
			GetConn:              tr.getConn,
			TLSHandshakeStart:    tr.tlsHandshakeStart,
			GotConn:              tr.gotConn,
			WroteHeaders:         tr.wroteHeaders,
			WroteRequest:         tr.wroteRequest,
			GotFirstResponseByte: tr.gotFirstResponseByte,
		}
		tr.got1xxHook = tr.got1xx
	}
	tr.next1xx = nil
	tr.phase.Store(uint32(gatewayerr.PhaseUnknown))
	tr.wrote.Store(false)
	tr.written.Store(false)
	tr.shared, tr.dropped = false, false
	tr.trace = tr.hooks
	return tr
}

// putTracker returns tr to the pool when no hook can fire on it any more:
// once the request was written in full. Otherwise it is left to the garbage
// collector.
func (t *Transport) putTracker(tr *tracker) {
	if tr.written.Load() && !tr.shared {
		t.trackers.Put(tr)
	}
}

// hookInto sets the tracker's hooks in ct and reports whether it could: only
// when ct has the shape of the trace that ReverseProxy.ServeHTTP makes for
// each outgoing request (Got1xxResponse alone), so that a trace shared
// between requests is never written to. With redact, ct's Got1xxResponse
// is wrapped by got1xx.
func (tr *tracker) hookInto(ct *httptrace.ClientTrace, redact bool) bool {
	if ct == nil || ct.Got1xxResponse == nil ||
		ct.GetConn != nil || ct.GotConn != nil || ct.PutIdleConn != nil || ct.GotFirstResponseByte != nil ||
		ct.Got100Continue != nil || ct.DNSStart != nil || ct.DNSDone != nil || ct.ConnectStart != nil ||
		ct.ConnectDone != nil || ct.TLSHandshakeStart != nil || ct.TLSHandshakeDone != nil ||
		ct.WroteHeaderField != nil || ct.WroteHeaders != nil || ct.Wait100Continue != nil || ct.WroteRequest != nil {
		return false
	}
	ct.GetConn = tr.hooks.GetConn
	ct.TLSHandshakeStart = tr.hooks.TLSHandshakeStart
	ct.GotConn = tr.hooks.GotConn
	ct.WroteHeaders = tr.hooks.WroteHeaders
	ct.WroteRequest = tr.hooks.WroteRequest
	ct.GotFirstResponseByte = tr.hooks.GotFirstResponseByte
	if redact {
		tr.next1xx = ct.Got1xxResponse
		ct.Got1xxResponse = tr.got1xxHook
	}
	return true
}

// got1xx redacts the Proxy-Status field of a 1xx response, as
// gatewayerr.RedactProxyStatusHeader does for a final one, before the hook it replaced
// (ReverseProxy's, which passes the 1xx on) sees it. When the tracker's
// trace is composed with ReverseProxy's instead, got1xx runs first.
func (tr *tracker) got1xx(code int, h textproto.MIMEHeader) error {
	if len(h["Proxy-Status"]) > 0 {
		gatewayerr.RedactProxyStatusHeader(http.Header(h))
	}
	if tr.next1xx != nil {
		return tr.next1xx(code, h)
	}
	return nil
}

func (tr *tracker) currentPhase() gatewayerr.Phase { return gatewayerr.Phase(tr.phase.Load()) }

func (tr *tracker) getConn(string) {
	tr.wrote.Store(false)
	tr.written.Store(false)
	tr.phase.Store(uint32(gatewayerr.PhaseDial))
}

// tlsHandshakeStart moves the phase from dial to TLS only: net/http may go
// on dialing for a request that was served by another connection, and call
// it once the tracker serves another request.
func (tr *tracker) tlsHandshakeStart() {
	tr.phase.CompareAndSwap(uint32(gatewayerr.PhaseDial), uint32(gatewayerr.PhaseTLS))
}

func (tr *tracker) gotConn(httptrace.GotConnInfo) {
	tr.phase.Store(uint32(gatewayerr.PhaseWriteRequest))
}

func (tr *tracker) wroteHeaders() { tr.wrote.Store(true) }

func (tr *tracker) wroteRequest(info httptrace.WroteRequestInfo) {
	// A request that could not be written in full failed while writing.
	// The response may already be in: never move the phase back.
	if info.Err == nil {
		tr.phase.CompareAndSwap(uint32(gatewayerr.PhaseWriteRequest), uint32(gatewayerr.PhaseAwaitHeaders))
	}
	tr.written.Store(true)
}

func (tr *tracker) gotFirstResponseByte() {
	tr.phase.Store(uint32(gatewayerr.PhaseReadHeaders))
}
