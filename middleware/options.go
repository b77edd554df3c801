package middleware

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/internal/respwriter"
)

// Options configures [Handler] and the other constructors of this package.
// The zero Options is ready to use and production-safe: the embedded
// default pages, nothing internal shown to visitors, nothing logged.
//
// An Options is read when a constructor is called; changing it afterwards
// has no effect on what was built.
type Options struct {
	// Pages renders the error pages.
	// If nil, the embedded default pages (errorpage.Default()) are used.
	Pages *errorpage.Pages

	// Transport is the upstream transport for NewReverseProxy, wrapped in a
	// Transport.
	// If nil, http.DefaultTransport is used.
	Transport http.RoundTripper

	// Logger receives a record for every failure handled: a recovered panic
	// with its stack, an aborted response with its cause.
	// If nil, nothing is logged.
	Logger *slog.Logger

	// OnError, if not nil, is called for every failure handled: with an
	// error of kind gatewayerr.ProxyInternalError wrapping a [*PanicError]
	// for a recovered panic, and with the recorded cause (see [SetError]) of
	// a response aborted with http.ErrAbortHandler. It runs on the request's
	// goroutine before the page is written; it must not write to the
	// response. Intercepted error responses are not reported: the handler
	// that wrote them knows.
	OnError func(r *http.Request, err *gatewayerr.Error)

	// Intercept lists the statuses whose responses [Handler] replaces with
	// the branded page, like nginx's proxy_intercept_errors. Only 4xx and
	// 5xx statuses are considered; others are ignored.
	// If nil, 502, 503 and 504 are intercepted. An empty, non-nil slice
	// intercepts nothing.
	Intercept []int

	// InterceptPolicy decides which intercepted responses are replaced.
	// The zero value, [InterceptAlways], replaces them all.
	InterceptPolicy InterceptPolicy

	// UpstreamErrors decides which upstream responses whose status is in
	// Intercept [NewReverseProxy] replaces with the branded page.
	// The zero value, [ReplaceBare], replaces those whose body is empty or
	// plain text, and lets HTML pages and structured data for programs
	// (JSON such as application/problem+json, XML) through.
	UpstreamErrors ReplacePolicy

	// Retry configures retries in NewReverseProxy's [Transport]; see
	// [RetryPolicy].
	// If nil, a failed request is not retried.
	Retry *RetryPolicy

	// Breaker configures a circuit breaker per upstream host in
	// NewReverseProxy's [Transport]; see [BreakerPolicy].
	// If nil, there are no circuit breakers.
	Breaker *BreakerPolicy

	// OnStateChange, if not nil, is called whenever a circuit breaker of
	// NewReverseProxy's [Transport] changes state. It must not block.
	OnStateChange func(upstream string, from, to BreakerState)

	// ProxyName names this gateway in the Proxy-Status members that
	// NewReverseProxy and ErrorHandler add and in the Via entries that
	// NewReverseProxy adds (with characters a token cannot hold replaced by
	// '-'); a request whose Via already names it is a loop. It should be
	// unique among the gateways a request may cross.
	// If empty, "gatehouse" is used.
	ProxyName string

	// ProxyStatusDetails reports whether the Proxy-Status member of the
	// response to a request may carry next-hop and details (the cause's
	// text, which names upstream addresses): debug information.
	// If nil, they are never sent.
	ProxyStatusDetails func(*http.Request) bool

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

// intercepted returns the set of statuses to intercept.
func (o *Options) intercepted() respwriter.Statuses {
	var s respwriter.Statuses
	codes := o.Intercept
	if codes == nil {
		codes = []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	}
	for _, c := range codes {
		if c >= 400 && c <= 599 {
			s.Add(c)
		}
	}
	return s
}

// InterceptPolicy decides which of the intercepted responses (see
// [Options.Intercept]) [Handler] replaces with the branded page.
type InterceptPolicy uint8

const (
	// InterceptAlways replaces every intercepted response, so that no
	// upstream's or application's error body ever reaches a visitor.
	InterceptAlways InterceptPolicy = iota

	// InterceptUnlessHTML replaces an intercepted response only when its
	// body is empty or is not HTML (by its Content-Type, or by sniffing
	// the body when it has none), so that an application's own designed
	// error page survives while stack traces in text/plain and JSON errors
	// are replaced. The decision waits for the first non-empty write or a
	// flush, only for an intercepted status.
	InterceptUnlessHTML
)

// String returns "always" or "unless-html".
func (p InterceptPolicy) String() string {
	switch p {
	case InterceptAlways:
		return "always"
	case InterceptUnlessHTML:
		return "unless-html"
	}
	return "InterceptPolicy(" + strconv.Itoa(int(p)) + ")"
}
