package middleware

import (
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// proxyMode is NewReverseProxy's contract with its Transport. The
// ReverseProxy owns the outgoing request and its body, closes every response
// body it is given, and reports failures through its ErrorHandler; so a
// Transport with a proxyMode, unlike one used on its own:
//
//   - answers a request that Rewrite marked as looping (loopKey) with
//     ErrProxyLoop, without sending it;
//   - recycles response bodies once they are closed;
//   - returns the failures of RoundTrip unreported, as *transportError (or
//     *untimedError when the proxy logs nothing), for the ErrorHandler to
//     log and report once, with the page's request ID;
//   - redacts the upstream's Proxy-Status (of 1xx responses, the final
//     response and its trailer) unless details are shown for the request,
//     before anything of ReverseProxy's, a ModifyResponse included, sees it;
//   - hooks its phase tracking into the ClientTrace that ReverseProxy made
//     for the request, sparing a copy of the request and its context.
type proxyMode struct {
	// details is the proxy's one decision whether a request sees details
	// (see Options.details); never nil.
	details func(*http.Request) bool
	// pages gives the request ID that the Transport's own failure records
	// (a body failing while streaming) quote.
	pages *errorpage.Pages
}

// redacts reports whether the Transport t redacts the upstream's
// Proxy-Status for req: in a NewReverseProxy, unless details are shown.
func (t *Transport) redacts(req *http.Request) bool {
	return t.mode != nil && !t.mode.details(req)
}

// transportError is a RoundTrip failure of a NewReverseProxy's Transport,
// with the time the round trip took, for the ErrorHandler to report; or, with
// replaced, an upstream response that ModifyResponse replaces.
type transportError struct {
	e        *gatewayerr.Error
	elapsed  time.Duration
	replaced bool
}

func (t *transportError) Error() string { return t.e.Error() }
func (t *transportError) Unwrap() error { return t.e }

// ErrorType returns the kind's RFC 9209 token, as the error's
// gatewayerr.Error does: OpenTelemetry's instrumentation (semconv.ErrorType)
// records it as error.type, not this type's Go name, when it wraps the
// proxy's Transport.
func (t *transportError) ErrorType() string { return t.e.ErrorType() }

// untimedError is a transportError without the time the round trip took,
// for a proxy that logs nothing, which alone quotes it: the failure itself
// under a type of its own, which an error holds without an allocation.
type untimedError gatewayerr.Error

func (t *untimedError) Error() string { return (*gatewayerr.Error)(t).Error() }
func (t *untimedError) Unwrap() error { return (*gatewayerr.Error)(t) }

// ErrorType returns the kind's RFC 9209 token, as transportError's does.
func (t *untimedError) ErrorType() string { return (*gatewayerr.Error)(t).ErrorType() }
