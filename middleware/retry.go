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
// retried only when its body can be sent again (none, unread, or
// [http.Request.GetBody]) and either the request never reached the upstream
// or it is idempotent (its method, or an Idempotency-Key header); a response
// whose status is in Statuses only for an idempotent request. Waits are
// jittered exponential backoff, or a longer Retry-After up to MaxRetryAfter.
// A request whose context ends stops at once.
type RetryPolicy struct {
	Attempts       int           // the most attempts, the first included (1: no retries); zero: 3
	AttemptTimeout time.Duration // bounds each attempt until its response headers; zero: none but the request's context
	// MaxElapsed bounds the time spent retrying one request, from its first
	// attempt: no retry starts or waits past it, and a response that cannot
	// be retried in time is returned as it is. A move to another of
	// [Transport.Upstreams] past a host the request never reached is not a
	// retry: MaxElapsed does not bound it. Zero means 10 seconds.
	MaxElapsed time.Duration
	BaseDelay  time.Duration // the wait before retry n is random in [0, min(MaxDelay, BaseDelay×2ⁿ⁻¹)]; zero: 50ms
	MaxDelay   time.Duration // caps the backoff; zero: 1s
	// MaxRetryAfter caps the wait an upstream may ask for with Retry-After;
	// a response asking for longer is returned as it is. Zero means 5
	// seconds; above gatewayerr.MaxRetryAfter, an hour.
	MaxRetryAfter time.Duration
	Statuses      []int // the response statuses retried; nil: 502, 503 and 504; empty: none
	// BudgetRatio caps the retries to one upstream over BudgetWindow at this
	// fraction of its requests, plus BudgetMin. Zero means 0.2; negative
	// turns the budget off.
	BudgetRatio  float64
	BudgetMin    int           // retries always allowed per BudgetWindow; zero: 10
	BudgetWindow time.Duration // the budget's sliding window; zero: 10s
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

// movableKind reports whether a failure of kind k, before the request
// reached its host, moves the request to another host of a pool: the
// retryable kinds, and those that are the host's own and would fail again
// only there: its certificate, its prohibited address.
func movableKind(k gatewayerr.Kind) bool {
	switch k {
	case gatewayerr.TLSCertificateError, gatewayerr.DestinationIPProhibited:
		return true
	}
	return retryableKind(k)
}

// positiveOr returns v, or def when v is zero or negative: the default
// behind a policy field whose zero value means "the default".
func positiveOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
