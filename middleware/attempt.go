package middleware

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// Attempt describes one attempt of a [Transport]'s round trip, for
// [Transport.OnAttempt]. Status is the response's, whatever became of it;
// Err, the attempt's failure, or its response's classification
// ([gatewayerr.ClassifyResponse]). Duration excludes the wait before it.
// A resend by the [http.Transport] below (of an idempotent request whose
// reused connection failed before any response) is part of one attempt.
type Attempt struct {
	Request  *http.Request     // the attempt's request
	Number   int               // 1 for the first attempt
	Upstream string            // the host:port the attempt went to
	Status   int               // the response's status; 0 when there was none
	Err      *gatewayerr.Error // the attempt's failure; nil when it got a response that is not a failure
	Retry    bool              // whether another attempt follows
	Duration time.Duration
}

// The http.Transport below (Base, or the one a nil Base stands for) resends
// a GET, HEAD, OPTIONS or TRACE, or a request with an Idempotency-Key,
// whose body can be replayed, when a reused connection fails before any
// response; that resend is unseen by OnAttempt, the metrics and the retry
// budget.

// attempted reports attempt number n of req, sent to host, to
// t.OnAttempt, which is not nil: it got resp or failed with e, after d, and
// retry tells whether another attempt follows. A request that a breaker
// fails fast, or that is refused before it is sent, makes no attempt and is
// reported only as a failure; a body that fails after its headers is
// reported as a failure then, its attempt having been reported with the
// response's status.
func (t *Transport) attempted(req *http.Request, n int, host string, resp *http.Response, e *gatewayerr.Error, retry bool, d time.Duration) {
	a := Attempt{Request: req, Number: n, Upstream: host, Err: e, Retry: retry, Duration: d}
	if resp != nil {
		a.Status = resp.StatusCode
		if e == nil {
			if a.Err = gatewayerr.ClassifyResponse(resp); a.Err != nil {
				a.Err.Attempts = n
			}
		}
	}
	t.OnAttempt(a)
}

// errAttemptTimeout ends an attempt that ran past [RetryPolicy.AttemptTimeout].
var errAttemptTimeout error = attemptTimeoutError{}

type attemptTimeoutError struct{}

func (attemptTimeoutError) Error() string        { return "middleware: attempt timed out" }
func (attemptTimeoutError) Timeout() bool        { return true }
func (attemptTimeoutError) Temporary() bool      { return false }
func (attemptTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// attempt sends attempt number n of req to host, under the context actx and
// with the given body, following its phases. cancel, if not nil, ends actx;
// the response body calls it when done. final reports that no other attempt
// can follow. redact is the round trip's decision to redact the upstream's
// Proxy-Status (see Transport.redacts).
func (t *Transport) attempt(req *http.Request, actx context.Context, body io.ReadCloser, cancel context.CancelCauseFunc, n int, start time.Time, host string, final, redact bool) (*http.Response, *gatewayerr.Error) {
	tr := t.tracker()
	out := req
	// In a NewReverseProxy, the context of the first attempt, made with the
	// request's own context and body, carries the ClientTrace that
	// ReverseProxy made for this request alone: the tracker's hooks go into
	// it, sparing a copy of the request and a context. Later attempts
	// compose with that trace, so when one may follow the tracker is
	// shared: pooled only once its response is the one returned (see
	// responseBody.finish). Otherwise the request is copied with a context
	// of its own, whose trace runs before the one it may carry already.
	hook := t.mode != nil && n == 1 && cancel == nil && body == req.Body
	if hook && tr.hookInto(httptrace.ContextClientTrace(actx), redact) {
		tr.shared = !final
		if host != req.URL.Host {
			// ReverseProxy made req, and its URL, for this round trip
			// alone, and nothing else has seen it yet.
			req.URL.Host = host
		}
	} else {
		tr.trace = tr.hooks
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
		var own context.Context // the attempt's own context, if it has one
		if cancel != nil {
			own = actx
		}
		e := classifyFailure(req.Context(), own, err, tr.currentPhase())
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
	case (resp.Body == nil || resp.Body == http.NoBody) && (n == 1 || t.mode == nil) && !tr.shared:
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

// classifyFailure classifies err, returned by an attempt under the
// request's context ctx, in the given phase. actx is the attempt's own
// context, made with a cancel cause for its timeout, or nil when the attempt
// ran under ctx.
func classifyFailure(ctx, actx context.Context, err error, phase gatewayerr.Phase) *gatewayerr.Error {
	switch cerr := ctx.Err(); {
	case clientGone(cerr):
		// Whatever the transport saw is a consequence.
		return &gatewayerr.Error{Kind: gatewayerr.ClientClosedRequest, Err: err, Phase: phase}
	case cerr != nil:
		err = cerr
	case actx != nil && context.Cause(actx) == errAttemptTimeout:
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
