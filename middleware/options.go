package middleware

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/internal/respwriter"
)

// Options configures [Handler] and the other constructors of this package.
// The zero Options is ready to use. It gives the embedded default pages,
// shows visitors nothing internal (no upstream address, error text or stack,
// and upstreams' Proxy-Status members redacted), logs nothing, intercepts
// bare 502, 503 and 504 responses, and neither retries nor breaks circuits.
// In [NewReverseProxy] it sends through a transport made for a gateway (see
// [Options.Transport]), which answers an upstream that does not send its
// response header within 60 seconds with the http_response_timeout page
// (504); the response body, once it flows, has no time limit (see
// [Options.ResponseBodyReadTimeout]).
//
// An Options is read when a constructor is called; changing it afterwards
// has no effect on what was built.
type Options struct {
	// Pages renders the error pages.
	// If nil, the embedded default pages (errorpage.Default()) are used.
	Pages *errorpage.Pages

	// Transport is the upstream transport for NewReverseProxy, wrapped in a
	// [Transport] as its Base: the transport to the upstream itself, such as
	// an [*http.Transport].
	// If nil, or a nil *http.Transport, the proxy's Transport builds its
	// own *http.Transport made for a gateway, once: 10 s to connect, 10 s
	// for the TLS handshake, 60 s for the response header (then
	// http_response_timeout, 504) and for each write (then
	// connection_write_timeout, 504), 128 idle connections per host (1024
	// in all) kept for 30 s, response headers up to 1 MB, no compression of
	// its own, HTTP/2 over TLS, proxies from the environment; see
	// [Transport.Base] for each setting.
	Transport http.RoundTripper

	// Logger receives a record for every failure reported to OnError: a
	// recovered panic with its stack, an aborted response with its cause,
	// each proxy failure with its kind, upstream and request ID (a client
	// that went away at debug level).
	// If nil, nothing is logged.
	Logger *slog.Logger

	// OnError, if not nil, is called once for every failure handled, for
	// metrics and alerts. It runs on the request's goroutine, before the
	// page (if any) is written; it must not block or write to the response.
	//
	// [Handler] reports a recovered panic, as an error of kind
	// gatewayerr.ProxyInternalError wrapping a [*PanicError], and the
	// recorded cause (see [SetError]) of a response aborted with
	// http.ErrAbortHandler. It does not report the error responses it
	// replaces: [Options.OnReplace] does.
	//
	// [NewReverseProxy] reports the proxy's own failures (the classified
	// error of a round trip, once, after any retries; a breaker's fast
	// failure; a detected loop), every upstream error response it replaces
	// (see [Options.Replace]; the upstream's status is the error's
	// ReceivedStatus; OnReplace is called for them too), and a failure
	// while streaming a response body. The
	// upstream responses it lets through are not reported. [ErrorHandler]
	// reports every error it is given.
	//
	// A client that went away is reported too, by NewReverseProxy and
	// ErrorHandler, with the kind gatewayerr.ClientClosedRequest
	// ("client_closed_request"), so that it can be counted apart: it is
	// not an upstream failure, and circuit breakers never count it.
	OnError func(r *http.Request, err *gatewayerr.Error)

	// OnReplace, if not nil, is called once for every error response that
	// [Handler] (from the handler it wraps) or [NewReverseProxy] (from the
	// upstream) replaces with a branded page (see [Options.Intercept] and
	// [Options.Replace]), for metrics. err is what decides the page: its
	// ReceivedStatus is the replaced response's status, and its Kind the
	// one the response was classified as (see [SetError]), or
	// gatewayerr.Unknown when nothing but the status is known (a 500 or a
	// 404, whose page is the status's own). Like OnError, it runs on the
	// request's goroutine before the page is written, with the request
	// carrying the page's request ID, and must not block or write to the
	// response.
	//
	// It tells replaced responses apart from the failures a constructor
	// handled itself: Handler reports its recovered panics to OnError and
	// the responses it replaces to OnReplace alone. NewReverseProxy reports
	// a replaced upstream response to both, as it always did to OnError:
	// its OnError count minus its OnReplace count is the failures it
	// handled itself.
	OnReplace func(r *http.Request, err *gatewayerr.Error)

	// OnAttempt, if not nil, is called once for every attempt that
	// NewReverseProxy's [Transport] sends upstream, retries included; see
	// [Transport.OnAttempt] and [Attempt].
	OnAttempt func(Attempt)

	// Intercept lists the statuses whose responses [Handler] (from the
	// handler it wraps) and [NewReverseProxy] (from the upstream) replace
	// with the branded page, as [Options.Replace] decides, like nginx's
	// proxy_intercept_errors. Only 4xx and 5xx statuses are considered;
	// others are ignored. A replaced response keeps its status; its page
	// is the status's own for a 4xx, and one that blames the service
	// behind the gateway for a 5xx (an upstream's 500 is not the
	// gateway's failure).
	// If nil, 502, 503 and 504 are intercepted. An empty, non-nil slice
	// intercepts nothing.
	Intercept []int

	// Replace decides, by their bodies, which responses whose status is in
	// Intercept are replaced: those of the handler that [Handler] wraps and
	// those of the upstream of [NewReverseProxy]; see [ReplacePolicy].
	// The zero value, [ReplaceBare], replaces empty bodies and bodies meant
	// for no one in particular (plain text such as a stack trace), and lets
	// HTML pages and structured data (JSON such as
	// application/problem+json, XML) through.
	Replace ReplacePolicy

	// Retry configures retries in NewReverseProxy's [Transport]; see
	// [RetryPolicy].
	// If nil, a failed request is not retried.
	Retry *RetryPolicy

	// Breaker configures a circuit breaker per upstream host in
	// NewReverseProxy's [Transport]; see [BreakerPolicy].
	// If nil, there are no circuit breakers.
	Breaker *BreakerPolicy

	// MaxResponseBodyBytes, if positive, limits the size of an upstream's
	// response body in NewReverseProxy's [Transport]; see
	// [Transport.MaxResponseBodyBytes]. A response that declares a longer
	// Content-Length is answered with the http_response_body_size page
	// (502); a body that runs longer ends as a failure of that kind, the
	// response aborted or ended with a Proxy-Status trailer (see
	// [Options.ProxyStatusTrailer]).
	// Zero means no limit.
	MaxResponseBodyBytes int64

	// ResponseBodyReadTimeout, if non-zero, is the longest a single read of
	// an upstream's response body by NewReverseProxy may wait for data; see
	// [Transport.ResponseBodyReadTimeout]. A body that stalls for longer
	// ends as a failure of kind connection_read_timeout: the response is
	// aborted, or ended with a Proxy-Status trailer (see
	// [Options.ProxyStatusTrailer]). It applies to streams too: set it above
	// the longest quiet spell of the Server-Sent Events or long-polling
	// responses the proxy passes, or leave it zero.
	// Zero means no limit: a stalled body is bounded only by the request's
	// context.
	ResponseBodyReadTimeout time.Duration

	// OnStateChange, if not nil, is called whenever a circuit breaker of
	// NewReverseProxy's [Transport] changes state, in the order the changes
	// happened, and once, with from and to both BreakerClosed, for each
	// upstream's new breaker: the target's when NewReverseProxy builds the
	// proxy (on the caller's goroutine), any other when first used; see
	// [Transport.OnStateChange]. It must not block.
	OnStateChange func(upstream string, from, to BreakerState)

	// Upstreams lists the hosts (each a host:port) among which
	// NewReverseProxy sends each attempt, with the target's scheme and
	// path: balanced, with failover and ejection, as
	// [Transport.Upstreams] describes. With several hosts, breakers are on
	// even with a nil Breaker. Change the set at run time with
	// [ProxyTransport] and [Transport.SetUpstreams].
	// If empty, the target's host alone is used.
	Upstreams []string

	// UpstreamWeights gives hosts of Upstreams a relative weight; see
	// [Transport.UpstreamWeights].
	// A host missing from it has weight 1.
	UpstreamWeights map[string]int

	// HealthCheck, if not nil, checks the hosts of Upstreams actively; see
	// [HealthCheck]. The checks run from the proxy's first request until
	// [Transport.Close] (reached through [ProxyTransport]).
	// If nil, hosts are ejected only by their breakers.
	HealthCheck *HealthCheck

	// ProxyName names this gateway in the Proxy-Status members that
	// NewReverseProxy and ErrorHandler add and in the Via entries that
	// NewReverseProxy adds, with every character a token cannot hold
	// (space, ':', '/', ...) replaced by '-' in both; a request whose Via
	// already names it is a loop. It must be unique among the gateways a
	// request may cross.
	// If empty, Proxy-Status names the gateway "gatehouse" and each
	// NewReverseProxy names itself in Via "gatehouse-" followed by 8 random
	// hexadecimal digits, drawn when it is built: gateways built with the
	// zero Options can be chained, and a request that comes back to the
	// same one is still a loop (but one that comes back to another
	// instance of it, say after a restart, is not caught).
	ProxyName string

	// ProxyStatusDetails reports whether the Proxy-Status field of the
	// response to a request may carry details: next-hop and details in the
	// gateway's own member, and the upstream's members as it sent them.
	// Otherwise the upstream's members are redacted
	// ([gatewayerr.ProxyStatus.Redacted]), before any ModifyResponse runs.
	//
	// If nil, the pages decide ([errorpage.Pages.Debug], from
	// errorpage.Config.Debug): the page and the field show details to the
	// same requests, and by default to none.
	ProxyStatusDetails func(*http.Request) bool

	// Maintenance, if not nil, is a switch for planned downtime: while it
	// is on, [Handler] and [NewReverseProxy] answer every request it does
	// not allow through with a 503 maintenance page (in the negotiated
	// format, with Retry-After when its end is known, Cache-Control:
	// no-store and a Proxy-Status member naming ProxyName with
	// error=destination_unavailable, and details="maintenance" when
	// ProxyStatusDetails allows), and the request reaches neither the
	// wrapped handler nor the upstream. Such a request is not a failure: it
	// is neither logged nor reported to OnError. See [Maintenance].
	// If nil, there is no maintenance mode.
	Maintenance *Maintenance

	// ProxyStatusTrailer, when true, makes NewReverseProxy end a streamed
	// response (one without Content-Length) whose upstream fails midway
	// with a Proxy-Status trailer naming the failure (RFC 9209 allows it),
	// instead of aborting the stream. A client that did not ask for
	// trailers may take such a response for complete.
	// If false, such a response is aborted: the connection is closed (HTTP/1)
	// or the stream reset (HTTP/2).
	ProxyStatusTrailer bool
}

// pages returns the Pages to render with.
func (o *Options) pages() *errorpage.Pages {
	if o.Pages != nil {
		return o.Pages
	}
	return errorpage.Default()
}

// details returns the one decision whether a request may see details, in
// the Proxy-Status field as on the page: ProxyStatusDetails, else the
// pages' own (errorpage.Config.Debug).
func (o *Options) details(pages *errorpage.Pages) func(*http.Request) bool {
	if o.ProxyStatusDetails != nil {
		return o.ProxyStatusDetails
	}
	return pages.Debug
}

// intercepted returns the set of statuses to intercept.
func (o *Options) intercepted() respwriter.Statuses {
	var s respwriter.Statuses
	for c := 400; c <= 599; c++ {
		if o.Intercept == nil && gatewayerr.IsGatewayStatus(c) || slices.Contains(o.Intercept, c) {
			s.Add(c)
		}
	}
	return s
}

// ReplacePolicy decides which of the responses whose status is in
// [Options.Intercept] are replaced with the branded page, by their bodies:
// in [Handler], the responses of the handler it wraps; in [NewReverseProxy],
// the upstream's. A value means the same in both.
//
// A body is judged by its Content-Type or, when it has none, by the type
// net/http would sniff from its first bytes ([http.DetectContentType]), and
// is meant for one of:
//
//   - people: HTML (text/html, application/xhtml+xml);
//   - programs: structured data, JSON or XML (application/json,
//     application/problem+json and any other +json or +xml type,
//     application/xml, text/xml);
//   - no one in particular: anything else, such as text/plain (a stack
//     trace, a proxy's one-line message) or application/octet-stream.
//
// An empty body (no bytes, or Content-Length: 0) is replaced by every
// policy but [ReplaceNever]. For a HEAD request, which has no body, the
// Content-Type alone decides, and a response without one is replaced.
//
// To decide, [Handler] holds back an intercepted status until the first
// non-empty write; a flush before it decides by the Content-Type alone, as
// for HEAD (a response without one is replaced). And [NewReverseProxy]
// reads the first bytes of an upstream body that has no Content-Type,
// waiting at most one second (or [Options.ResponseBodyReadTimeout], if
// shorter): a body that sends nothing by then counts as empty, and the
// response is replaced. Other responses are neither buffered nor delayed.
type ReplacePolicy uint8

const (
	// ReplaceBare replaces empty bodies and bodies meant for no one in
	// particular, and lets HTML pages and structured data through: an
	// application's or upstream's designed page or problem document
	// survives, a stack trace does not.
	ReplaceBare ReplacePolicy = iota

	// ReplaceUnlessHTML lets only HTML pages through: structured data is
	// replaced too, as a site for people wants.
	ReplaceUnlessHTML

	// ReplaceUnlessStructured lets only structured data (JSON or XML)
	// through: HTML pages are replaced too, as an API wants.
	ReplaceUnlessStructured

	// ReplaceAlways replaces every intercepted response, so that no
	// upstream's or application's error body ever reaches a visitor.
	ReplaceAlways

	// ReplaceNever replaces no response: only failures (a recovered panic
	// in Handler, the proxy's own failures in NewReverseProxy) get the
	// branded page.
	ReplaceNever
)

// String returns "bare", "unless-html", "unless-structured", "always" or
// "never".
func (p ReplacePolicy) String() string {
	switch p {
	case ReplaceBare:
		return "bare"
	case ReplaceUnlessHTML:
		return "unless-html"
	case ReplaceUnlessStructured:
		return "unless-structured"
	case ReplaceAlways:
		return "always"
	case ReplaceNever:
		return "never"
	}
	return "ReplacePolicy(" + strconv.Itoa(int(p)) + ")"
}

// keeps reports whether p lets through an intercepted response whose body is
// not empty and is meant for a. A value out of range replaces everything.
func (p ReplacePolicy) keeps(a respwriter.Audience) bool {
	switch p {
	case ReplaceBare:
		return a != respwriter.ForNoOne
	case ReplaceUnlessHTML:
		return a == respwriter.ForPeople
	case ReplaceUnlessStructured:
		return a == respwriter.ForPrograms
	case ReplaceNever:
		return true
	}
	return false
}
