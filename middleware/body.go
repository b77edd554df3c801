package middleware

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// respBody returns resp's body when the Transport wrapped it.
func respBody(resp *http.Response) (*responseBody, bool) {
	if resp == nil {
		return nil, false
	}
	b, ok := resp.Body.(*responseBody)
	return b, ok
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

// A response that is retried has its body drained (up to 4 KB, so that its
// connection can be reused) during the wait before the retry, or for
// minDrain when the wait is shorter, never more than half the time left
// before RetryPolicy.MaxElapsed: a body that has not ended by then is
// closed unread, and the retry goes ahead on time.

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

	// bp and bu, when set, are the breaker policy and the host whose
	// breaker counts the response as a success once the body ends without
	// failing.
	bp *BreakerPolicy
	bu *upstream
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
		e = classifyFailure(b.req.Context(), nil, err, gatewayerr.PhaseReadBody)
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

// peek reads the first bytes of the body into buf, waiting at most limit
// (or ResponseBodyReadTimeout, when shorter) for one read, and returns how
// many it read. A failure of that read is held (see holdFailures): it is
// reported by the next Read or by Close, unless dropHeld drops it first.
func (b *responseBody) peek(buf []byte, limit time.Duration) int {
	b.holdFailures(true)
	timeout := b.timeout
	if timeout <= 0 || timeout > limit {
		b.timeout = limit
	}
	n, _ := io.ReadAtLeast(b, buf, 1)
	b.timeout = timeout
	b.holdFailures(false)
	return n
}

func (b *responseBody) Close() error {
	err := b.rc.Close()
	if b.held != nil {
		b.reportFailure(b.held)
	}
	b.finish()
	if err != nil {
		e := classifyFailure(b.req.Context(), nil, err, gatewayerr.PhaseReadBody)
		e.Upstream, e.Attempts = b.host, b.attempts
		return e
	}
	if t := b.t; t.mode != nil && !b.fired {
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
	if t.mode != nil {
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
	if b.bp != nil && b.err == nil {
		b.t.breakerDone(b.bp, b.bu, b.host, 0, outcomeSuccess)
	}
}
