package middleware

import (
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// Attempt describes one attempt of a Transport's round trip, for metrics.
// [Transport.OnAttempt] and [Options.OnAttempt] receive one for every
// request the Transport sends upstream: one per attempt, the first one
// included, whether it failed or not.
//
// A request that a circuit breaker fails fast, or that the Transport
// refuses before sending it (a detected loop, a request without URL), makes
// no attempt and is reported only as a failure (OnError). A response body
// that fails after its headers arrived is reported as a failure then; its
// attempt was reported, with the response's status, when the headers came.
//
// The fields in detail:
//
//   - Request is the request RoundTrip was given, the same for every
//     attempt (its context is the request's, not the attempt's).
//   - Status is the status of the response the attempt got, whether it is
//     then returned, retried or replaced.
//   - Err is the attempt's classified failure: the error of a round trip
//     that got no response (Status is 0), or, for a response that
//     gatewayerr.ClassifyResponse counts as a failure (502, 503, 504, or
//     one whose Proxy-Status names an error), that classification, with
//     the response's status as ReceivedStatus. A client that went away
//     fails with the kind gatewayerr.ClientClosedRequest.
//   - Retry reports whether the Transport decided to try again. A client
//     that goes away during the wait before the next attempt ends the
//     request with no further attempt.
//   - Duration is the time from the attempt's start until its response's
//     headers arrived or it failed, without the wait before it.
type Attempt struct {
	Request  *http.Request     // the attempt's request
	Number   int               // 1 for the first attempt
	Upstream string            // the host:port the attempt went to
	Status   int               // the response's status; 0 when there was none
	Err      *gatewayerr.Error // the attempt's failure; nil when it got a response that is not a failure
	Retry    bool              // whether another attempt follows
	Duration time.Duration
}

// attempted reports attempt number n of req, sent to host, to
// t.OnAttempt, which is not nil: it got resp or failed with e, after d, and
// retry tells whether another attempt follows.
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
