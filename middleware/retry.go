package middleware

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// RetryPolicy configures retries in a [Transport]. A failed attempt is
// retried only when that is safe:
//
//   - the request never reached the upstream (a refused connection, a DNS
//     failure, a dial timeout, a failed TLS handshake), whatever its method;
//   - or its method is idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or
//     it carries an Idempotency-Key (or X-Idempotency-Key) header;
//
// and, in both cases, when its body can be sent again: no body, a body not
// yet read, or a [http.Request.GetBody] that returns a fresh one. An upstream
// response whose status is in Statuses is retried only for an idempotent
// request (or one carrying Idempotency-Key), like a failure after the
// request was sent.
//
// Retries are bounded by Attempts, by MaxElapsed and by a retry budget per
// upstream, so that they cannot multiply the load on an upstream that is
// already failing. The wait before each retry is an exponential backoff with
// full jitter, or the upstream's Retry-After when it asks for longer and no
// longer than MaxRetryAfter. A request whose context ends stops at once.
//
// The zero RetryPolicy makes up to 3 attempts within 10 seconds, retries at
// most 20% of the requests to an upstream (plus 10 per window), and waits up
// to 50ms, 100ms, ... capped at 1 second between attempts.
type RetryPolicy struct {
	// Attempts is the maximum number of attempts, the first one included.
	// Zero or negative means 3; 1 turns retries off.
	Attempts int

	// AttemptTimeout bounds each attempt until its response headers arrive;
	// the body is then read under the request's own context. An attempt that
	// runs out of time fails with a timeout kind and may be retried. Zero
	// means no bound other than the request's context.
	AttemptTimeout time.Duration

	// MaxElapsed bounds the time spent retrying one request, from the start
	// of its first attempt: no retry starts after it, no wait runs past it,
	// and a retry that has not had its response headers by then fails with
	// a timeout kind. The body of a response that is retried is drained
	// (up to 4 KB, so that its connection can be reused) during the wait
	// before the retry, or for 20 milliseconds when the wait is shorter,
	// but never for more than half the time left: a body that has not
	// ended by then is closed unread, and the retry goes ahead on time.
	// A response that cannot be retried in time is returned as it is. The
	// first attempt is bounded only by AttemptTimeout and the request's
	// context, as it would be without retries. Zero means 10 seconds.
	MaxElapsed time.Duration

	// BaseDelay is the backoff's base: the wait before retry n is a random
	// duration between 0 and min(MaxDelay, BaseDelay×2ⁿ⁻¹). Zero means 50
	// milliseconds.
	BaseDelay time.Duration

	// MaxDelay caps the backoff. Zero means 1 second.
	MaxDelay time.Duration

	// MaxRetryAfter caps the wait an upstream may ask for with Retry-After.
	// A response that asks for longer is not retried: it is returned as it
	// is, its Retry-After as the upstream sent it. Zero means 5 seconds;
	// a value above gatewayerr.MaxRetryAfter (an hour) means an hour.
	MaxRetryAfter time.Duration

	// Statuses lists the upstream response statuses that are retried (for
	// idempotent requests only). Nil means 502, 503 and 504; an empty
	// non-nil slice retries no response.
	Statuses []int

	// BudgetRatio caps the retries to one upstream, over BudgetWindow, at
	// this fraction of the requests to it (plus BudgetMin). Zero means 0.2;
	// a negative value turns the budget off.
	BudgetRatio float64

	// BudgetMin is the number of retries always allowed per BudgetWindow,
	// whatever the ratio, so that a quiet upstream can still be retried. Zero
	// means 10.
	BudgetMin int

	// BudgetWindow is the length of the budget's sliding window. Zero means
	// 10 seconds.
	BudgetWindow time.Duration
}

func (p *RetryPolicy) attempts() int { return positiveOr(p.Attempts, 3) }

func (p *RetryPolicy) maxElapsed() time.Duration { return positiveOr(p.MaxElapsed, 10*time.Second) }

// attemptTimeout returns the bound on attempt number n until its response
// headers arrive, elapsed after the request's start, or 0 for none:
// AttemptTimeout, and for a retry no later than MaxElapsed. p may be nil.
func (p *RetryPolicy) attemptTimeout(n int, elapsed time.Duration) time.Duration {
	if p == nil {
		return 0
	}
	d := p.AttemptTimeout
	if n > 1 {
		if rest := max(p.maxElapsed()-elapsed, time.Nanosecond); d <= 0 || rest < d {
			d = rest
		}
	}
	return d
}

func (p *RetryPolicy) baseDelay() time.Duration { return positiveOr(p.BaseDelay, 50*time.Millisecond) }

func (p *RetryPolicy) maxDelay() time.Duration { return positiveOr(p.MaxDelay, time.Second) }

func (p *RetryPolicy) maxRetryAfter() time.Duration {
	return min(positiveOr(p.MaxRetryAfter, 5*time.Second), gatewayerr.MaxRetryAfter)
}

func (p *RetryPolicy) retryStatus(code int) bool {
	if p.Statuses == nil {
		return gatewayerr.IsGatewayStatus(code)
	}
	return slices.Contains(p.Statuses, code)
}

func (p *RetryPolicy) budgetRatio() float64 {
	if p.BudgetRatio == 0 {
		return 0.2
	}
	return p.BudgetRatio
}

func (p *RetryPolicy) budgetMin() int { return positiveOr(p.BudgetMin, 10) }

func (p *RetryPolicy) budgetWindow() time.Duration { return positiveOr(p.BudgetWindow, 10*time.Second) }

// backoff returns the wait before retry n (1 for the first retry): full
// jitter over an exponential cap.
func (p *RetryPolicy) backoff(n int) time.Duration {
	ceiling := p.maxDelay()
	if d := p.baseDelay(); n < 63 && d <= ceiling>>(n-1) {
		ceiling = d << (n - 1)
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling)
}

// retryBudget counts the requests and retries to one upstream over a sliding
// window.
type retryBudget struct {
	mu          sync.Mutex
	window      slidingCounter // a: requests, b: retries
	initialized bool
}

// request records a first attempt.
func (b *retryBudget) request(p *RetryPolicy, now time.Time) {
	if p.budgetRatio() < 0 {
		return
	}
	b.mu.Lock()
	b.init(p)
	b.window.add(now, 1, 0)
	b.mu.Unlock()
}

// spend reports whether a retry fits in the budget, and records it if so.
func (b *retryBudget) spend(p *RetryPolicy, now time.Time) bool {
	ratio := p.budgetRatio()
	if ratio < 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init(p)
	requests, retries := b.window.sum(now)
	if float64(retries) >= float64(p.budgetMin())+ratio*float64(requests) {
		return false
	}
	b.window.add(now, 0, 1)
	return true
}

func (b *retryBudget) init(p *RetryPolicy) {
	if !b.initialized {
		b.window, b.initialized = newSlidingCounter(p.budgetWindow()), true
	}
}

// idempotent reports whether req may be sent twice without changing its
// effect (RFC 9110, Section 9.2.2), by its method or an idempotency key.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	// The same keys as net/http's Transport recognises; a nil value (set to
	// suppress the header) does not count.
	return len(req.Header["Idempotency-Key"]) > 0 || len(req.Header["X-Idempotency-Key"]) > 0
}

// retryableKind reports whether a failure of kind k may be worth another
// attempt. Failures that repeat whatever the attempt (a certificate the
// gateway does not trust, a response too large, a request the gateway
// refused) and the client's own cancellation are not.
func retryableKind(k gatewayerr.Kind) bool {
	switch k {
	case gatewayerr.ClientClosedRequest, gatewayerr.HTTPRequestError, gatewayerr.HTTPRequestDenied,
		gatewayerr.TLSCertificateError, gatewayerr.DestinationNotFound, gatewayerr.DestinationIPProhibited,
		gatewayerr.DestinationUnavailable, gatewayerr.ProxyConfigurationError, gatewayerr.ProxyLoopDetected,
		gatewayerr.ProxyInternalError, gatewayerr.ProxyInternalResponse, gatewayerr.HTTPUpgradeFailed,
		gatewayerr.HTTPResponseHeaderSectionSize, gatewayerr.HTTPResponseHeaderSize, gatewayerr.HTTPResponseBodySize:
		return false
	}
	return true
}

// positiveOr returns v, or def when v is zero or negative: the default
// behind a policy field whose zero value means "the default".
func positiveOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
